// Exported C ABI: argument checks, ISA selection, and the platform calls (madvise, sync_file_range).
// Compiled with baseline flags only; the ISA tables live in their own translation units.
#include <atomic>
#include <cstdint>
#include <new>

#include "amalgam.h"
#include "cuda_entry.h"
#include "kernels.h"

#if defined(__linux__)
#include <fcntl.h>
#define AMALGAM_HAVE_SYNC_FILE_RANGE 1
#define AMALGAM_HAVE_FADVISE 1
#endif

#if defined(__linux__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define AMALGAM_HAVE_MADVISE 1
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace amalgam {
namespace {

bool cpu_has_f16c() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_F16C) != 0;
#else
  return false;
#endif
}

int32_t detect_best_isa() {
  int32_t best = AMALGAM_ISA_SCALAR;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#ifdef AMALGAM_HAVE_AVX2
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c()) best = AMALGAM_ISA_AVX2;
#endif
#ifdef AMALGAM_HAVE_AVX512
  if (best == AMALGAM_ISA_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    best = AMALGAM_ISA_AVX512;
#endif
#ifdef AMALGAM_HAVE_AVX512_BF16
  if (best == AMALGAM_ISA_AVX512 && __builtin_cpu_supports("avx512bf16")) best = AMALGAM_ISA_AVX512_BF16;
#endif
#endif
  (void)cpu_has_f16c;
  return best;
}

int32_t best_isa() {
  static const int32_t best = detect_best_isa();  // thread-safe one-time initialisation
  return best;
}

// The attached CUDA library (contract point 10), or null.
std::atomic<const CudaEntry *> g_cuda{nullptr};
// The CUDA error of the calling thread's last failed CUDA call (amalgam_cuda_last_error).
thread_local int32_t tl_cuda_error = 0;

bool is_cuda(int32_t isa) {
  return isa >= AMALGAM_ISA_CUDA_FIRST && isa < AMALGAM_ISA_CUDA_FIRST + AMALGAM_CUDA_MAX_DEVICES;
}

const KernelTable *table_for(int32_t isa) {
  if (is_cuda(isa)) {
    const CudaEntry *cuda = g_cuda.load(std::memory_order_acquire);
    if (cuda == nullptr) return nullptr;
    const int32_t error = cuda->select_device(isa - AMALGAM_ISA_CUDA_FIRST);
    if (error != 0) {
      tl_cuda_error = error;
      return nullptr;
    }
    cuda->take_error();  // a clean slate for this call
    return cuda->table;
  }
  if (isa == AMALGAM_ISA_BEST) isa = best_isa();
  if (isa < AMALGAM_ISA_SCALAR || isa > best_isa()) return nullptr;
  switch (isa) {
#ifdef AMALGAM_HAVE_AVX512_BF16
    case AMALGAM_ISA_AVX512_BF16:
      return &kAvx512Bf16Kernels;
#endif
#ifdef AMALGAM_HAVE_AVX512
    case AMALGAM_ISA_AVX512:
      return &kAvx512Kernels;
#endif
#ifdef AMALGAM_HAVE_AVX2
    case AMALGAM_ISA_AVX2:
      return &kAvx2Kernels;
#endif
    default:
      return &kScalarKernels;
  }
}

// The status of a kernel call that ran: CPU kernels cannot fail; a CUDA one reports the first CUDA error it met.
int32_t finish(int32_t isa) {
  if (!is_cuda(isa)) return AMALGAM_OK;
  const int32_t error = g_cuda.load(std::memory_order_acquire)->take_error();
  if (error == 0) return AMALGAM_OK;
  tl_cuda_error = error;
  return AMALGAM_ERR_CUDA;
}

bool valid_dtype(int32_t d) { return d == AMALGAM_DTYPE_F32 || d == AMALGAM_DTYPE_F16 || d == AMALGAM_DTYPE_BF16; }

bool valid_format(int32_t f) { return f == AMALGAM_BLOCK_Q8_0 || f == AMALGAM_BLOCK_Q4_0; }

const void *as_pointer(int64_t address) { return reinterpret_cast<const void *>(static_cast<intptr_t>(address)); }

}  // namespace
}  // namespace amalgam

using namespace amalgam;

extern "C" {

int32_t amalgam_abi_version(void) { return AMALGAM_ABI_VERSION; }

int32_t amalgam_isa_best(void) { return best_isa(); }

const char *amalgam_isa_name(int32_t isa) {
  switch (isa) {
    case AMALGAM_ISA_SCALAR:
      return "scalar";
    case AMALGAM_ISA_AVX2:
      return "avx2";
    case AMALGAM_ISA_AVX512:
      return "avx512";
    case AMALGAM_ISA_AVX512_BF16:
      return "avx512_bf16";
    default:
      return "unknown";  // CUDA devices have no ISA name (point 10)
  }
}

const char *amalgam_status_message(int32_t status) {
  switch (status) {
    case AMALGAM_OK:
      return "ok";
    case AMALGAM_ERR_NULL_POINTER:
      return "null pointer argument";
    case AMALGAM_ERR_NEGATIVE_COUNT:
      return "negative element count";
    case AMALGAM_ERR_BAD_DTYPE:
      return "unsupported element type";
    case AMALGAM_ERR_BAD_INPUT_COUNT:
      return "input count must be at least 1";
    case AMALGAM_ERR_UNSUPPORTED_ISA:
      return "instruction set not supported by this CPU or build";
    case AMALGAM_ERR_BAD_ADVICE:
      return "unknown memory advice";
    case AMALGAM_ERR_SYSTEM:
      return "system call failed";
    case AMALGAM_ERR_BAD_BLOCK_COUNT:
      return "element count is not a whole number of 32-element blocks";
    case AMALGAM_ERR_BAD_ARGUMENT:
      return "argument out of range";
    case AMALGAM_ERR_CUDA:
      return "CUDA call failed (amalgam_cuda_last_error names the error)";
    case AMALGAM_ERR_NO_CUDA:
      return "the CUDA library is not attached";
    default:
      return "unknown status";
  }
}

int64_t amalgam_address_of(const void *p) { return static_cast<int64_t>(reinterpret_cast<intptr_t>(p)); }

int32_t amalgam_convert(int32_t isa, int64_t src, int32_t src_dtype, int64_t dst, int32_t dst_dtype, int64_t n,
                        int32_t flags) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (!valid_dtype(src_dtype) || !valid_dtype(dst_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n == 0) return AMALGAM_OK;
  if (src == 0 || dst == 0) return AMALGAM_ERR_NULL_POINTER;
  t->convert(as_pointer(src), src_dtype, const_cast<void *>(as_pointer(dst)), dst_dtype, n, flags);
  return finish(isa);
}

int32_t amalgam_weighted_sum(int32_t isa, int32_t count, const int64_t *inputs, const int32_t *input_dtypes,
                             const float *coefficients, int64_t out, int32_t out_dtype, int64_t n, int32_t flags) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (count < 1) return AMALGAM_ERR_BAD_INPUT_COUNT;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (inputs == nullptr || input_dtypes == nullptr || coefficients == nullptr) return AMALGAM_ERR_NULL_POINTER;
  if (!valid_dtype(out_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  for (int32_t k = 0; k < count; ++k) {
    if (!valid_dtype(input_dtypes[k])) return AMALGAM_ERR_BAD_DTYPE;
  }
  if (n == 0) return AMALGAM_OK;
  if (out == 0) return AMALGAM_ERR_NULL_POINTER;
  // int64_t and pointers have the same size on every supported target; copy to avoid aliasing games.
  enum { kStackInputs = 64 };
  const void *stack_ptrs[kStackInputs];
  const void **ptrs = stack_ptrs;
  const void **heap_ptrs = nullptr;
  if (count > kStackInputs) {
    heap_ptrs = new (std::nothrow) const void *[static_cast<size_t>(count)];
    if (heap_ptrs == nullptr) return AMALGAM_ERR_SYSTEM;
    ptrs = heap_ptrs;
  }
  int32_t status = AMALGAM_OK;
  for (int32_t k = 0; k < count; ++k) {
    if (inputs[k] == 0) status = AMALGAM_ERR_NULL_POINTER;
    ptrs[k] = as_pointer(inputs[k]);
  }
  if (status == AMALGAM_OK)
    t->weighted_sum(count, ptrs, input_dtypes, coefficients, const_cast<void *>(as_pointer(out)), out_dtype, n, flags);
  delete[] heap_ptrs;
  return status == AMALGAM_OK ? finish(isa) : status;
}

int32_t amalgam_dot3(int32_t isa, int64_t x, int32_t x_dtype, int64_t y, int32_t y_dtype, int64_t n, double *result) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (result == nullptr) return AMALGAM_ERR_NULL_POINTER;
  if (!valid_dtype(x_dtype) || !valid_dtype(y_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n == 0) {
    result[0] = result[1] = result[2] = 0.0;
    return AMALGAM_OK;
  }
  if (x == 0 || y == 0) return AMALGAM_ERR_NULL_POINTER;
  t->dot3(as_pointer(x), x_dtype, as_pointer(y), y_dtype, n, result);
  return finish(isa);
}

int32_t amalgam_quantize_q8_0(int32_t isa, int64_t src, int32_t src_dtype, int64_t dst, int64_t n) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (!valid_dtype(src_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n % AMALGAM_QUANT_BLOCK != 0) return AMALGAM_ERR_BAD_BLOCK_COUNT;
  if (n == 0) return AMALGAM_OK;
  if (src == 0 || dst == 0) return AMALGAM_ERR_NULL_POINTER;
  t->quantize_q8_0(as_pointer(src), src_dtype, const_cast<void *>(as_pointer(dst)), n / AMALGAM_QUANT_BLOCK);
  return finish(isa);
}

int32_t amalgam_dequantize(int32_t isa, int64_t src, int32_t format, int64_t dst, int32_t dst_dtype, int64_t n) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (!valid_format(format) || !valid_dtype(dst_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n % AMALGAM_QUANT_BLOCK != 0) return AMALGAM_ERR_BAD_BLOCK_COUNT;
  if (n == 0) return AMALGAM_OK;
  if (src == 0 || dst == 0) return AMALGAM_ERR_NULL_POINTER;
  t->dequantize(as_pointer(src), format, const_cast<void *>(as_pointer(dst)), dst_dtype, n / AMALGAM_QUANT_BLOCK);
  return finish(isa);
}

int32_t amalgam_magnitude_histogram_high(int32_t isa, const float *values, int64_t n, int64_t *histogram) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (n == 0) return AMALGAM_OK;
  if (values == nullptr || histogram == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->magnitude_histogram_high(values, n, histogram);
  return finish(isa);
}

int32_t amalgam_magnitude_histogram_low(int32_t isa, const float *values, int64_t n, int32_t high, int64_t *histogram) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (high < 0 || high >= AMALGAM_MAGNITUDE_BUCKETS) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n == 0) return AMALGAM_OK;
  if (values == nullptr || histogram == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->magnitude_histogram_low(values, n, high, histogram);
  return finish(isa);
}

int32_t amalgam_task_vector(int32_t isa, int64_t x, int32_t x_dtype, int32_t round_dtype, const float *b, int64_t n,
                            float *d) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (!valid_dtype(x_dtype) || !valid_dtype(round_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n == 0) return AMALGAM_OK;
  if (x == 0 || b == nullptr || d == nullptr) return AMALGAM_ERR_NULL_POINTER;
  // On a CUDA path too this runs on the CPU: a conversion and one subtraction per element cost less than staging
  // them through the device in pieces (the conversions give the same bits everywhere, point 5).
  if (is_cuda(isa)) {
    isa = best_isa();
    t = table_for(isa);
  }
  // In L1-sized pieces through the ISA's own conversions (the same bits as amalgam_convert), then one subtract.
  constexpr int64_t kPiece = 2048;
  alignas(64) float wide[kPiece];
  alignas(64) uint16_t narrow[kPiece];
  const bool round = round_dtype != x_dtype && round_dtype != AMALGAM_DTYPE_F32;
  const int64_t size = x_dtype == AMALGAM_DTYPE_F32 ? 4 : 2;
  const char *src = static_cast<const char *>(as_pointer(x));
  for (int64_t i = 0; i < n; i += kPiece) {
    const int64_t len = n - i < kPiece ? n - i : kPiece;
    t->convert(src + i * size, x_dtype, wide, AMALGAM_DTYPE_F32, len, 0);
    if (round) {
      t->convert(wide, AMALGAM_DTYPE_F32, narrow, round_dtype, len, 0);
      t->convert(narrow, round_dtype, wide, AMALGAM_DTYPE_F32, len, 0);
    }
    for (int64_t j = 0; j < len; ++j) d[i + j] = wide[j] - b[i + j];
  }
  return finish(isa);
}

int32_t amalgam_magnitude_mask(int32_t isa, float *values, int64_t n, int32_t keep_bits, int64_t keep_equal,
                               int32_t drop_bits, int64_t drop_equal, int64_t *seen) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (keep_equal < 0 || drop_equal < 0) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n == 0) return AMALGAM_OK;
  if (values == nullptr || seen == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->magnitude_mask(values, n, keep_bits, keep_equal, drop_bits, drop_equal, seen);
  return finish(isa);
}

namespace {
int32_t check_philox_range(int64_t first, int64_t n) {
  if (first < 0 || n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (n > INT64_MAX - first) return AMALGAM_ERR_BAD_ARGUMENT;
  return AMALGAM_OK;
}

// u < p with u = m * 2^-24 (m < 2^24) holds iff m < ceil(p * 2^24): the scaling by a power of two is exact, and
// an integer is below a real number iff it is below that number's ceiling.
uint32_t keep_threshold(double p) {
  const double t = p * 16777216.0;
  if (!(t > 0.0)) return 0;  // also NaN
  if (t >= 16777216.0) return 16777216u;
  const uint32_t whole = static_cast<uint32_t>(t);  // truncation: t is in (0, 2^24)
  return static_cast<double>(whole) < t ? whole + 1 : whole;
}
}  // namespace

int32_t amalgam_philox_uniforms(int32_t isa, uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n,
                                float *out) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  const int32_t range = check_philox_range(first, n);
  if (range != AMALGAM_OK) return range;
  if (n == 0) return AMALGAM_OK;
  if (out == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->philox_uniforms(seed, stream_hash, first, n, out);
  return finish(isa);
}

int32_t amalgam_philox_keep(int32_t isa, uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, double p,
                            float *values) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  const int32_t range = check_philox_range(first, n);
  if (range != AMALGAM_OK) return range;
  if (n == 0) return AMALGAM_OK;
  if (values == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->philox_keep(seed, stream_hash, first, n, keep_threshold(p), values);
  return finish(isa);
}

int32_t amalgam_disjoint_merge(int32_t isa, int32_t models, const float *w, int64_t stride, const float *weights,
                               int64_t n, int32_t normalize, const float *base, float lambda, float *out) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (models < 1) return AMALGAM_ERR_BAD_INPUT_COUNT;
  if (n < 0 || stride < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (stride < n || (models > 1 && stride > INT64_MAX / models)) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n == 0) return AMALGAM_OK;
  if (w == nullptr || weights == nullptr || base == nullptr || out == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->disjoint_merge(models, w, stride, weights, n, normalize, base, lambda, out);
  return finish(isa);
}

int32_t amalgam_plain_merge(int32_t isa, int32_t models, const float *w, int64_t stride, int64_t n, float divisor,
                            const float *base, float lambda, float *out) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (models < 1) return AMALGAM_ERR_BAD_INPUT_COUNT;
  if (n < 0 || stride < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (stride < n || (models > 1 && stride > INT64_MAX / models)) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n == 0) return AMALGAM_OK;
  if (w == nullptr || base == nullptr || out == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->plain_merge(models, w, stride, n, divisor, base, lambda, out);
  return finish(isa);
}

namespace {
// The arguments every SCE kernel shares: models rows of stride >= n floats at x, and n floats at b.
int32_t check_sce_rows(int32_t models, const float *x, int64_t stride, const float *b, int64_t n) {
  if (models < 1) return AMALGAM_ERR_BAD_INPUT_COUNT;
  if (n < 0 || stride < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (stride < n || (models > 1 && stride > INT64_MAX / models)) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n > 0 && (x == nullptr || b == nullptr)) return AMALGAM_ERR_NULL_POINTER;
  return AMALGAM_OK;
}
}  // namespace

int32_t amalgam_sce_variance_keys(int32_t isa, int32_t models, const float *x, int64_t stride, const float *b,
                                  int64_t n, int32_t *keys) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  const int32_t rows = check_sce_rows(models, x, stride, b, n);
  if (rows != AMALGAM_OK) return rows;
  if (n == 0) return AMALGAM_OK;
  if (keys == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->sce_variance_keys(models, x, stride, b, n, keys);
  return finish(isa);
}

int32_t amalgam_sce_histogram_high(int32_t isa, int32_t models, const float *x, int64_t stride, const float *b,
                                   int64_t n, int64_t *histogram, int64_t *nonzero, int32_t *keys) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  const int32_t rows = check_sce_rows(models, x, stride, b, n);
  if (rows != AMALGAM_OK) return rows;
  if (n == 0) return AMALGAM_OK;
  if (histogram == nullptr || nonzero == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->sce_histogram_high(models, x, stride, b, n, histogram, nonzero, keys);
  return finish(isa);
}

int32_t amalgam_sce_histogram_low(int32_t isa, int32_t models, const float *x, int64_t stride, const float *b,
                                  int64_t n, int32_t high, int64_t *histogram) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  const int32_t rows = check_sce_rows(models, x, stride, b, n);
  if (rows != AMALGAM_OK) return rows;
  if (high < 0 || high >= AMALGAM_MAGNITUDE_BUCKETS) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n == 0) return AMALGAM_OK;
  if (histogram == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->sce_histogram_low(models, x, stride, b, n, high, histogram);
  return finish(isa);
}

int32_t amalgam_sce_square_sums(int32_t isa, int32_t models, const float *x, int64_t stride, const float *b,
                                const int32_t *keys, int64_t n, int32_t threshold, int64_t equal_kept, int64_t *seen,
                                double *sums) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  const int32_t rows = check_sce_rows(models, x, stride, b, n);
  if (rows != AMALGAM_OK) return rows;
  if (equal_kept < 0) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n == 0) return AMALGAM_OK;
  if (seen == nullptr || sums == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->sce_square_sums(models, x, stride, b, keys, n, threshold, equal_kept, seen, sums);
  return finish(isa);
}

int32_t amalgam_sce_merge(int32_t isa, int32_t models, const float *x, int64_t stride, const float *b,
                          const int32_t *keys, int64_t n, int32_t threshold, int64_t equal_kept, int64_t *seen,
                          const double *weights, float *out) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  const int32_t rows = check_sce_rows(models, x, stride, b, n);
  if (rows != AMALGAM_OK) return rows;
  if (equal_kept < 0) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n == 0) return AMALGAM_OK;
  if (seen == nullptr || weights == nullptr || out == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->sce_merge(models, x, stride, b, keys, n, threshold, equal_kept, seen, weights, out);
  return finish(isa);
}

int32_t amalgam_advise(int64_t address, int64_t length, int32_t advice) {
  if (advice != AMALGAM_ADVICE_SEQUENTIAL && advice != AMALGAM_ADVICE_WILLNEED && advice != AMALGAM_ADVICE_DONTNEED)
    return AMALGAM_ERR_BAD_ADVICE;
  if (length < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (address == 0) return AMALGAM_ERR_NULL_POINTER;
#ifdef AMALGAM_HAVE_MADVISE
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  uint64_t begin = static_cast<uint64_t>(address);
  uint64_t end = begin + static_cast<uint64_t>(length);
  int native_advice;
  if (advice == AMALGAM_ADVICE_DONTNEED) {
    begin = (begin + page - 1) / page * page;  // inward: never drop a neighbour's partial page
    end = end / page * page;
    native_advice = MADV_DONTNEED;
  } else {
    begin = begin / page * page;
    end = (end + page - 1) / page * page;
    native_advice = advice == AMALGAM_ADVICE_SEQUENTIAL ? MADV_SEQUENTIAL : MADV_WILLNEED;
  }
  if (end <= begin) return AMALGAM_OK;
  if (madvise(reinterpret_cast<void *>(static_cast<uintptr_t>(begin)), static_cast<size_t>(end - begin),
              native_advice) != 0)
    return AMALGAM_ERR_SYSTEM;
#endif
  return AMALGAM_OK;
}

int32_t amalgam_start_writeback(const char *path, int64_t offset, int64_t length) {
  if (path == nullptr) return AMALGAM_ERR_NULL_POINTER;
  if (offset < 0 || length < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
#ifdef AMALGAM_HAVE_SYNC_FILE_RANGE
  // A descriptor of our own: the page cache belongs to the file, not to the writer's descriptor.
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return AMALGAM_ERR_SYSTEM;
  int rc = sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
  close(fd);
  if (rc != 0) return AMALGAM_ERR_SYSTEM;
#endif
  return AMALGAM_OK;
}

int32_t amalgam_count_nonfinite(int32_t isa, int64_t src, int32_t dtype, int64_t n, int64_t *counts) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (!valid_dtype(dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (counts == nullptr) return AMALGAM_ERR_NULL_POINTER;
  if (n == 0) return AMALGAM_OK;
  if (src == 0) return AMALGAM_ERR_NULL_POINTER;
  t->count_nonfinite(as_pointer(src), dtype, n, counts);
  return finish(isa);
}

int32_t amalgam_della_mask(int32_t isa, uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n,
                           int64_t row_length, double density, double epsilon, float *values, int64_t *keys,
                           float *uniforms) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  const int32_t range = check_philox_range(first, n);
  if (range != AMALGAM_OK) return range;
  if (row_length < 1 || row_length > INT32_MAX || n % row_length != 0) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n == 0) return AMALGAM_OK;
  if (values == nullptr || keys == nullptr || uniforms == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->della_mask(seed, stream_hash, first, n, row_length, density, epsilon, values, reinterpret_cast<uint64_t *>(keys),
                uniforms);
  return finish(isa);
}

int32_t amalgam_gram(int32_t isa, int32_t count, const int64_t *inputs, const int32_t *input_dtypes, int64_t base,
                     int32_t base_dtype, int64_t n, double *acc) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (count < 1 || count > AMALGAM_GRAM_MAX_INPUTS) return AMALGAM_ERR_BAD_INPUT_COUNT;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (inputs == nullptr || input_dtypes == nullptr || acc == nullptr) return AMALGAM_ERR_NULL_POINTER;
  for (int32_t k = 0; k < count; ++k) {
    if (!valid_dtype(input_dtypes[k])) return AMALGAM_ERR_BAD_DTYPE;
  }
  if (base != 0 && !valid_dtype(base_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n == 0) return AMALGAM_OK;
  const void *ptrs[AMALGAM_GRAM_MAX_INPUTS];
  for (int32_t k = 0; k < count; ++k) {
    if (inputs[k] == 0) return AMALGAM_ERR_NULL_POINTER;
    ptrs[k] = as_pointer(inputs[k]);
  }
  t->gram(count, ptrs, input_dtypes, base != 0 ? as_pointer(base) : nullptr, base_dtype, n, acc);
  return finish(isa);
}

namespace {
// The shared checks of the fusion kernels; on success *row and *column locate element 0.
int32_t check_fusion(int32_t a_dtype, int32_t b_dtype, int64_t n, int64_t first, int64_t row_length, int64_t kl_rows,
                     int64_t *row, int64_t *column) {
  if (n < 0 || first < 0 || kl_rows < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (!valid_dtype(a_dtype) || !valid_dtype(b_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (row_length < 1 || n > INT64_MAX - first) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n > 0 && (first + n - 1) / row_length >= kl_rows) return AMALGAM_ERR_BAD_ARGUMENT;
  *row = first / row_length;
  *column = first % row_length;
  return AMALGAM_OK;
}
}  // namespace

int32_t amalgam_fusion_histogram_high(int32_t isa, int64_t a, int32_t a_dtype, int64_t b, int32_t b_dtype, int64_t n,
                                      int64_t first, int64_t row_length, const float *kl, int64_t kl_rows,
                                      int64_t *histogram) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  int64_t row = 0, column = 0;
  const int32_t status = check_fusion(a_dtype, b_dtype, n, first, row_length, kl_rows, &row, &column);
  if (status != AMALGAM_OK) return status;
  if (n == 0) return AMALGAM_OK;
  if (a == 0 || b == 0 || kl == nullptr || histogram == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->fusion_histogram_high(as_pointer(a), a_dtype, as_pointer(b), b_dtype, n, row, column, row_length, kl, histogram);
  return finish(isa);
}

int32_t amalgam_fusion_histogram_low(int32_t isa, int64_t a, int32_t a_dtype, int64_t b, int32_t b_dtype, int64_t n,
                                     int64_t first, int64_t row_length, const float *kl, int64_t kl_rows,
                                     int32_t bucket_count, const int32_t *buckets, int64_t *histograms) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  int64_t row = 0, column = 0;
  const int32_t status = check_fusion(a_dtype, b_dtype, n, first, row_length, kl_rows, &row, &column);
  if (status != AMALGAM_OK) return status;
  if (bucket_count < 1) return AMALGAM_ERR_BAD_INPUT_COUNT;
  if (buckets == nullptr) return AMALGAM_ERR_NULL_POINTER;
  for (int32_t j = 0; j < bucket_count; ++j) {
    if (buckets[j] < 0 || buckets[j] >= AMALGAM_MAGNITUDE_BUCKETS) return AMALGAM_ERR_BAD_ARGUMENT;
  }
  if (n == 0) return AMALGAM_OK;
  if (a == 0 || b == 0 || kl == nullptr || histograms == nullptr) return AMALGAM_ERR_NULL_POINTER;
  t->fusion_histogram_low(as_pointer(a), a_dtype, as_pointer(b), b_dtype, n, row, column, row_length, kl, bucket_count,
                          buckets, histograms);
  return finish(isa);
}

int32_t amalgam_fusion_select(int32_t isa, int64_t a, int32_t a_dtype, int64_t b, int32_t b_dtype, int64_t n,
                              int64_t first, int64_t row_length, const float *kl, int64_t kl_rows, float threshold,
                              int64_t out, int32_t out_dtype) {
  const KernelTable *t = table_for(isa);
  if (t == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  int64_t row = 0, column = 0;
  const int32_t status = check_fusion(a_dtype, b_dtype, n, first, row_length, kl_rows, &row, &column);
  if (status != AMALGAM_OK) return status;
  if (!valid_dtype(out_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n == 0) return AMALGAM_OK;
  if (a == 0 || b == 0 || kl == nullptr || out == 0) return AMALGAM_ERR_NULL_POINTER;
  t->fusion_select(as_pointer(a), a_dtype, as_pointer(b), b_dtype, n, row, column, row_length, kl, threshold,
                   const_cast<void *>(as_pointer(out)), out_dtype);
  return finish(isa);
}

int32_t amalgam_nearswap(int32_t isa, int64_t base, int32_t base_dtype, int64_t other, int32_t other_dtype, float t,
                         int64_t out, int32_t out_dtype, int64_t n, int32_t flags) {
  const KernelTable *table = table_for(isa);
  if (table == nullptr) return AMALGAM_ERR_UNSUPPORTED_ISA;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (!valid_dtype(base_dtype) || !valid_dtype(other_dtype) || !valid_dtype(out_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n == 0) return AMALGAM_OK;
  if (base == 0 || other == 0 || out == 0) return AMALGAM_ERR_NULL_POINTER;
  table->nearswap(as_pointer(base), base_dtype, as_pointer(other), other_dtype, t, const_cast<void *>(as_pointer(out)),
                  out_dtype, n, flags);
  return AMALGAM_OK;
}

int32_t amalgam_advise_file(const char *path, int64_t offset, int64_t length, int32_t advice) {
  if (advice != AMALGAM_ADVICE_SEQUENTIAL && advice != AMALGAM_ADVICE_WILLNEED && advice != AMALGAM_ADVICE_DONTNEED)
    return AMALGAM_ERR_BAD_ADVICE;
  if (path == nullptr) return AMALGAM_ERR_NULL_POINTER;
  if (offset < 0 || length < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (length == 0) return AMALGAM_OK;  // posix_fadvise reads a zero length as "to the end of the file"
#ifdef AMALGAM_HAVE_FADVISE
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return AMALGAM_ERR_SYSTEM;
  int native_advice = advice == AMALGAM_ADVICE_SEQUENTIAL ? POSIX_FADV_SEQUENTIAL
                      : advice == AMALGAM_ADVICE_WILLNEED ? POSIX_FADV_WILLNEED
                                                          : POSIX_FADV_DONTNEED;
  int rc = posix_fadvise(fd, offset, length, native_advice);
  close(fd);
  if (rc != 0) return AMALGAM_ERR_SYSTEM;
#endif
  return AMALGAM_OK;
}

}  // extern "C"

// ------------------------------------------------------------------------------------------------ CUDA (point 10)

namespace amalgam {
namespace {

const CudaEntry *cuda_entry() { return g_cuda.load(std::memory_order_acquire); }

int32_t cuda_status(int32_t error) {
  if (error == 0) return AMALGAM_OK;
  tl_cuda_error = error;
  return AMALGAM_ERR_CUDA;
}

bool valid_device(int32_t device) { return device >= 0 && device < AMALGAM_CUDA_MAX_DEVICES; }

}  // namespace
}  // namespace amalgam

extern "C" {

int32_t amalgam_cuda_attach(int64_t entry_function) {
  if (entry_function == 0) return AMALGAM_ERR_NULL_POINTER;
  using EntryFunction = const CudaEntry *(*)();
  const auto function = reinterpret_cast<EntryFunction>(static_cast<intptr_t>(entry_function));
  const CudaEntry *entry = function();
  if (entry == nullptr || entry->version != kCudaEntryVersion) return AMALGAM_ERR_BAD_ARGUMENT;
  g_cuda.store(entry, std::memory_order_release);
  return AMALGAM_OK;
}

int32_t amalgam_cuda_device_count(int32_t *count, int32_t *cuda_error) {
  if (count == nullptr || cuda_error == nullptr) return AMALGAM_ERR_NULL_POINTER;
  *count = 0;
  *cuda_error = 0;
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  *cuda_error = cuda->device_count(count);
  return AMALGAM_OK;
}

int32_t amalgam_cuda_device_info(int32_t device, char *name, int32_t name_capacity, int64_t *memory, int32_t *numbers,
                                 int32_t *cuda_error) {
  if (name == nullptr || memory == nullptr || numbers == nullptr || cuda_error == nullptr)
    return AMALGAM_ERR_NULL_POINTER;
  if (!valid_device(device) || name_capacity < 1) return AMALGAM_ERR_BAD_ARGUMENT;
  *cuda_error = 0;
  name[0] = '\0';
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  *cuda_error = cuda->device_info(device, name, name_capacity, memory, numbers);
  return cuda_status(*cuda_error);
}

int32_t amalgam_cuda_last_error(void) { return tl_cuda_error; }

const char *amalgam_cuda_error_name(int32_t cuda_error) {
  const CudaEntry *cuda = cuda_entry();
  return cuda == nullptr ? "unknown" : cuda->error_name(cuda_error);
}

const char *amalgam_cuda_error_string(int32_t cuda_error) {
  const CudaEntry *cuda = cuda_entry();
  return cuda == nullptr ? "unknown" : cuda->error_string(cuda_error);
}

int32_t amalgam_cuda_set_staging_bytes(int64_t bytes) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  if (bytes < (int64_t{1} << 20)) return AMALGAM_ERR_BAD_ARGUMENT;
  return cuda_status(cuda->set_staging_bytes(bytes));
}

int32_t amalgam_cuda_device_convert(int32_t device, int64_t stream, int64_t src, int32_t src_dtype, int64_t dst,
                                    int32_t dst_dtype, int64_t n) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  if (!valid_device(device)) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (!valid_dtype(src_dtype) || !valid_dtype(dst_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n == 0) return AMALGAM_OK;
  if (src == 0 || dst == 0) return AMALGAM_ERR_NULL_POINTER;
  return cuda_status(cuda->device_convert(device, stream, src, src_dtype, dst, dst_dtype, n));
}

int32_t amalgam_cuda_device_weighted_sum(int32_t device, int64_t stream, int32_t count, const int64_t *inputs,
                                         const int32_t *input_dtypes, const float *coefficients, int64_t out,
                                         int32_t out_dtype, int64_t n) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  if (!valid_device(device)) return AMALGAM_ERR_BAD_ARGUMENT;
  if (count < 1 || count > AMALGAM_CUDA_DEVICE_SUM_INPUTS) return AMALGAM_ERR_BAD_INPUT_COUNT;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (inputs == nullptr || input_dtypes == nullptr || coefficients == nullptr) return AMALGAM_ERR_NULL_POINTER;
  if (!valid_dtype(out_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  for (int32_t k = 0; k < count; ++k) {
    if (!valid_dtype(input_dtypes[k])) return AMALGAM_ERR_BAD_DTYPE;
    if (inputs[k] == 0) return AMALGAM_ERR_NULL_POINTER;
  }
  if (n == 0) return AMALGAM_OK;
  if (out == 0) return AMALGAM_ERR_NULL_POINTER;
  return cuda_status(
      cuda->device_weighted_sum(device, stream, count, inputs, input_dtypes, coefficients, out, out_dtype, n));
}

int32_t amalgam_cuda_device_dot3(int32_t device, int64_t stream, int64_t x, int32_t x_dtype, int64_t y, int32_t y_dtype,
                                 int64_t n, double *result) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  if (!valid_device(device)) return AMALGAM_ERR_BAD_ARGUMENT;
  if (n < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (result == nullptr) return AMALGAM_ERR_NULL_POINTER;
  if (!valid_dtype(x_dtype) || !valid_dtype(y_dtype)) return AMALGAM_ERR_BAD_DTYPE;
  if (n == 0) {
    result[0] = result[1] = result[2] = 0.0;
    return AMALGAM_OK;
  }
  if (x == 0 || y == 0) return AMALGAM_ERR_NULL_POINTER;
  return cuda_status(cuda->device_dot3(device, stream, x, x_dtype, y, y_dtype, n, result));
}

int32_t amalgam_cuda_malloc(int32_t device, int64_t bytes, int64_t *address) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  if (address == nullptr) return AMALGAM_ERR_NULL_POINTER;
  *address = 0;
  if (!valid_device(device) || bytes <= 0) return AMALGAM_ERR_BAD_ARGUMENT;
  return cuda_status(cuda->device_malloc(device, bytes, address));
}

int32_t amalgam_cuda_free(int32_t device, int64_t address) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  if (!valid_device(device)) return AMALGAM_ERR_BAD_ARGUMENT;
  if (address == 0) return AMALGAM_OK;
  return cuda_status(cuda->device_free(device, address));
}

int32_t amalgam_cuda_copy(int32_t device, int64_t stream, int64_t dst, int64_t src, int64_t bytes, int32_t kind) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  if (!valid_device(device) || kind < 1 || kind > 3) return AMALGAM_ERR_BAD_ARGUMENT;
  if (bytes < 0) return AMALGAM_ERR_NEGATIVE_COUNT;
  if (bytes == 0) return AMALGAM_OK;
  if (dst == 0 || src == 0) return AMALGAM_ERR_NULL_POINTER;
  return cuda_status(cuda->device_copy(device, stream, dst, src, bytes, kind));
}

int32_t amalgam_cuda_synchronize(int32_t device, int64_t stream) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  if (!valid_device(device)) return AMALGAM_ERR_BAD_ARGUMENT;
  return cuda_status(cuda->device_synchronize(device, stream));
}

int32_t amalgam_cuda_set_pipelining(int32_t on) {
  const CudaEntry *cuda = cuda_entry();
  if (cuda == nullptr) return AMALGAM_ERR_NO_CUDA;
  return cuda_status(cuda->set_pipelining(on));
}

}  // extern "C"
