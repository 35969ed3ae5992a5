// Shared by the CUDA sources: error recording, x86 NaN rules on the device, the per-thread staging context and the
// staged runner that streams host arrays through pinned buffers (docs/native.md §6).
#ifndef AMALGAM_CUDA_COMMON_CUH
#define AMALGAM_CUDA_COMMON_CUH

#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>

#include "../kernels.h"
#include "../scalar_math.h"
#include "amalgam.h"

namespace amalgam {
namespace cuda {

// ----------------------------------------------------------------------------------------------- errors

// Records the first CUDA error of the calling thread's table calls; take_error() reads and clears it.
void record_error(cudaError_t error);
int32_t take_error();
// True when the thread has a recorded error: later steps of the same call are skipped.
bool failed();

#define AMALGAM_CUDA_TRY(call)                       \
  do {                                               \
    cudaError_t amalgam_error_ = (call);             \
    if (amalgam_error_ != cudaSuccess) {             \
      ::amalgam::cuda::record_error(amalgam_error_); \
      return;                                        \
    }                                                \
  } while (0)

// The thread's current device, set by select_device before each table call (select_thread_device sets it without
// touching the CUDA runtime's current device).
int32_t current_device();
void select_thread_device(int32_t device);
// Makes `device` the CUDA runtime's current device for the calling thread; returns a cudaError_t value.
int32_t use_device(int32_t device);

__host__ __device__ __forceinline__ int64_t dtype_bytes(int32_t dtype) { return dtype == AMALGAM_DTYPE_F32 ? 4 : 2; }

// ----------------------------------------------------------------------------------------------- launch shape

constexpr int kThreads = 256;

// A grid-stride grid: enough blocks to fill the device, no more (a persistent grid for small and large ranges).
int grid_for(int64_t work_items);

// ----------------------------------------------------------------------------------------------- x86 NaN rules
// GPUs return the canonical NaN 0x7fffffff from every f32 operation; x86 (the contract, amalgam.h point 6) passes
// the first NaN operand on, quieted, and returns the default NaN 0xffc00000 for an invalid operation. These wrappers
// give the x86 bits on the device and are the plain operations on the host. AMALGAM_CUDA_HOST_REPLAY (defined only by
// native/tests/cuda_replay.cu, never by the library) makes the host apply the same explicit NaN rules, so a host replay
// of the kernels' per-thread bodies gives the device's bits whatever operand order the host compiler picks.

__host__ __device__ __forceinline__ float quiet(float a) { return f32_from_bits(f32_bits(a) | 0x00400000u); }
__host__ __device__ __forceinline__ bool is_nan(float a) { return (f32_bits(a) & 0x7fffffffu) > 0x7f800000u; }
__host__ __device__ __forceinline__ float default_nan() { return f32_from_bits(0xffc00000u); }

__host__ __device__ __forceinline__ float x86_mul(float a, float b) {
#if defined(__CUDA_ARCH__) || defined(AMALGAM_CUDA_HOST_REPLAY)
#if defined(__CUDA_ARCH__)
  float r = __fmul_rn(a, b);
#else
  float r = a * b;
#endif
  if (!is_nan(r)) return r;
  if (is_nan(a)) return quiet(a);
  if (is_nan(b)) return quiet(b);
  return default_nan();
#else
  return a * b;
#endif
}

__host__ __device__ __forceinline__ float x86_add(float a, float b) {
#if defined(__CUDA_ARCH__) || defined(AMALGAM_CUDA_HOST_REPLAY)
#if defined(__CUDA_ARCH__)
  float r = __fadd_rn(a, b);
#else
  float r = a + b;
#endif
  if (!is_nan(r)) return r;
  if (is_nan(a)) return quiet(a);
  if (is_nan(b)) return quiet(b);
  return default_nan();
#else
  return a + b;
#endif
}

__host__ __device__ __forceinline__ float x86_sub(float a, float b) {
#if defined(__CUDA_ARCH__) || defined(AMALGAM_CUDA_HOST_REPLAY)
#if defined(__CUDA_ARCH__)
  float r = __fsub_rn(a, b);
#else
  float r = a - b;
#endif
  if (!is_nan(r)) return r;
  if (is_nan(a)) return quiet(a);
  if (is_nan(b)) return quiet(b);
  return default_nan();
#else
  return a - b;
#endif
}

__host__ __device__ __forceinline__ float x86_div(float a, float b) {
#if defined(__CUDA_ARCH__) || defined(AMALGAM_CUDA_HOST_REPLAY)
#if defined(__CUDA_ARCH__)
  float r = __fdiv_rn(a, b);
#else
  float r = a / b;
#endif
  if (!is_nan(r)) return r;
  if (is_nan(a)) return quiet(a);
  if (is_nan(b)) return quiet(b);
  return default_nan();
#else
  return a / b;
#endif
}

// fmaf(a, b, c) as vfmadd: a NaN multiplicand (a before b) wins over a NaN addend.
__host__ __device__ __forceinline__ float x86_fma(float a, float b, float c) {
#if defined(__CUDA_ARCH__) || defined(AMALGAM_CUDA_HOST_REPLAY)
#if defined(__CUDA_ARCH__)
  float r = __fmaf_rn(a, b, c);
#else
  float r = std::fmaf(a, b, c);
#endif
  if (!is_nan(r)) return r;
  if (is_nan(a)) return quiet(a);
  if (is_nan(b)) return quiet(b);
  if (is_nan(c)) return quiet(c);
  return default_nan();
#else
  return std::fmaf(a, b, c);
#endif
}

__host__ __device__ __forceinline__ uint64_t f64_bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}
__host__ __device__ __forceinline__ double f64_from_bits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}
__host__ __device__ __forceinline__ bool is_nan(double a) {
  return (f64_bits(a) & 0x7fffffffffffffffull) > 0x7ff0000000000000ull;
}
__host__ __device__ __forceinline__ double quiet(double a) {
  return f64_from_bits(f64_bits(a) | 0x0008000000000000ull);
}

// Double operations with the x86 NaN rules (default NaN 0xfff8000000000000).
__host__ __device__ __forceinline__ double x86_nan_result(double r, double a, double b) {
#if defined(__CUDA_ARCH__) || defined(AMALGAM_CUDA_HOST_REPLAY)
  if (!is_nan(r)) return r;
  if (is_nan(a)) return quiet(a);
  if (is_nan(b)) return quiet(b);
  return f64_from_bits(0xfff8000000000000ull);
#else
  (void)a;
  (void)b;
  return r;
#endif
}
__host__ __device__ __forceinline__ double x86_add(double a, double b) { return x86_nan_result(a + b, a, b); }
__host__ __device__ __forceinline__ double x86_sub(double a, double b) { return x86_nan_result(a - b, a, b); }
__host__ __device__ __forceinline__ double x86_mul(double a, double b) { return x86_nan_result(a * b, a, b); }
__host__ __device__ __forceinline__ double x86_div(double a, double b) { return x86_nan_result(a / b, a, b); }

// f32 -> f64 widening keeps a NaN's payload on x86 (cvtss2sd quiets it); the device does the same by bits.
__host__ __device__ __forceinline__ double x86_widen(float a) {
#if defined(__CUDA_ARCH__) || defined(AMALGAM_CUDA_HOST_REPLAY)
  if (!is_nan(a)) return static_cast<double>(a);
  uint32_t u = f32_bits(a) | 0x00400000u;
  uint64_t sign = static_cast<uint64_t>(u >> 31) << 63;
  return f64_from_bits(sign | 0x7ff0000000000000ull | (static_cast<uint64_t>(u & 0x7fffffu) << 29));
#else
  return static_cast<double>(a);
#endif
}

// f64 -> f32 narrowing (cvtsd2ss): a NaN keeps its sign and top payload bits, quieted.
__host__ __device__ __forceinline__ float x86_narrow(double a) {
#if defined(__CUDA_ARCH__) || defined(AMALGAM_CUDA_HOST_REPLAY)
#if defined(__CUDA_ARCH__)
  if (!is_nan(a)) return __double2float_rn(a);
#else
  if (!is_nan(a)) return static_cast<float>(a);
#endif
  uint64_t u = f64_bits(a) | 0x0008000000000000ull;
  uint32_t sign = static_cast<uint32_t>(u >> 63) << 31;
  return f32_from_bits(sign | 0x7f800000u | static_cast<uint32_t>((u >> 29) & 0x7fffffu));
#else
  return static_cast<float>(a);
#endif
}

// ----------------------------------------------------------------------------------------------- 16-byte access
// Element code reads and writes 16 bytes at a time where the layout allows (the staged device views are 256-byte
// aligned); these are plain copies on the host, so kernels' per-thread bodies can be replayed there.

__host__ __device__ __forceinline__ uint4 load16(const char *p) {
#if defined(__CUDA_ARCH__)
  return *reinterpret_cast<const uint4 *>(p);
#else
  uint4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
#endif
}

__host__ __device__ __forceinline__ void store16(char *p, uint4 v) {
#if defined(__CUDA_ARCH__)
  *reinterpret_cast<uint4 *>(p) = v;
#else
  std::memcpy(p, &v, sizeof v);
#endif
}

// Elements [i, i + 8) widened exactly to f32 (point 5); base + i * element size must be 16-byte aligned.
__host__ __device__ __forceinline__ void load8(const char *base, int32_t dtype, int64_t i, float *v) {
  if (dtype == AMALGAM_DTYPE_F32) {
    const uint4 a = load16(base + i * 4), b = load16(base + i * 4 + 16);
    const uint32_t w[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
    for (int k = 0; k < 8; ++k) v[k] = f32_from_bits(w[k]);
  } else {
    const uint4 a = load16(base + i * 2);
    const uint32_t w[4] = {a.x, a.y, a.z, a.w};
    for (int k = 0; k < 4; ++k) {
      const uint16_t lo = static_cast<uint16_t>(w[k] & 0xffffu), hi = static_cast<uint16_t>(w[k] >> 16);
      v[2 * k] = dtype == AMALGAM_DTYPE_F16 ? f16_to_f32(lo) : bf16_to_f32(lo);
      v[2 * k + 1] = dtype == AMALGAM_DTYPE_F16 ? f16_to_f32(hi) : bf16_to_f32(hi);
    }
  }
}

__host__ __device__ __forceinline__ uint32_t narrow16(int32_t dtype, float v) {
  return dtype == AMALGAM_DTYPE_F16 ? f32_to_f16(v) : f32_to_bf16(v);
}

// Stores 8 values as dtype (point 5) at elements [i, i + 8); 16-byte aligned as load8.
__host__ __device__ __forceinline__ void store8(char *base, int32_t dtype, int64_t i, const float *v) {
  if (dtype == AMALGAM_DTYPE_F32) {
    store16(base + i * 4, make_uint4(f32_bits(v[0]), f32_bits(v[1]), f32_bits(v[2]), f32_bits(v[3])));
    store16(base + i * 4 + 16, make_uint4(f32_bits(v[4]), f32_bits(v[5]), f32_bits(v[6]), f32_bits(v[7])));
  } else {
    uint32_t w[4];
    for (int k = 0; k < 4; ++k) w[k] = narrow16(dtype, v[2 * k]) | (narrow16(dtype, v[2 * k + 1]) << 16);
    store16(base + i * 2, make_uint4(w[0], w[1], w[2], w[3]));
  }
}

// ----------------------------------------------------------------------------------------------- staging

// A host array that a staged call moves through the pinned buffers. Element i of row r is at
// base + (r * row_stride + i) * element_bytes; most arrays have one row.
struct HostArray {
  const void *input;  // copied to the device piece by piece, or null
  void *output;       // copied back piece by piece, or null (may equal input: in place)
  int64_t element_bytes;
  int64_t rows;
  int64_t row_stride;  // in elements
};

// A piece's view of one array on the device: row r of the piece starts at data + r * row_pitch bytes.
struct DeviceArray {
  char *data;
  int64_t row_pitch;  // bytes
  template <class T>
  __host__ __device__ T *row(int64_t r) const {
    return reinterpret_cast<T *>(data + r * row_pitch);
  }
};

constexpr int kMaxStagedArrays = 72;  // weighted sum and Gram: up to 64 inputs, an output and spare

// Scratch on the device that lives as long as the calling thread's context (reduction accumulators, CUB temporary
// storage). Grows on demand; the pointer is valid until the next scratch() call of the thread.
void *device_scratch(int64_t bytes);
// Same, in pinned host memory.
void *host_scratch(int64_t bytes);

// Launch receives (stream, arrays, first element of the piece, piece length).
using LaunchFn = void (*)(void *state, cudaStream_t stream, const DeviceArray *arrays, int64_t first, int64_t n);

// Streams elements [0, n) of the arrays through the thread's two pinned slots: the host copies piece p + 1 in while
// the device runs piece p, and copies piece p - 1 out. Pieces are multiples of align elements (the last may be
// shorter); max_piece caps a piece (0: none). Returns false after a CUDA error (recorded).
bool staged(int64_t n, int64_t align, int64_t max_piece, const HostArray *arrays, int count, LaunchFn launch,
            void *state);

// The staged() form for a lambda: staged_call(n, align, arrays, count, [&](cudaStream_t s, const DeviceArray *a,
// int64_t first, int64_t len) { ... }).
template <class F>
bool staged_call(int64_t n, int64_t align, int64_t max_piece, const HostArray *arrays, int count, F &&f) {
  return staged(
      n, align, max_piece, arrays, count,
      [](void *state, cudaStream_t s, const DeviceArray *a, int64_t first, int64_t len) {
        (*static_cast<F *>(state))(s, a, first, len);
      },
      &f);
}

// The stream of the thread's context that table calls may use for work outside staged() (e.g. final reductions). It
// is also the first of the two staging streams (pieces 0, 2, 4, ...), which kernels may rely on to give each stream
// its own half of a scratch area.
cudaStream_t main_stream();

// Checks the last launch and records its error; returns false on error.
bool launched();

// ----------------------------------------------------------------------------------------------- the table
// One function per KernelTable entry; defined in the CUDA sources of each family.

void convert(const void *src, int32_t src_dtype, void *dst, int32_t dst_dtype, int64_t n, int32_t flags);
void weighted_sum(int32_t count, const void *const *inputs, const int32_t *input_dtypes, const float *coefficients,
                  void *out, int32_t out_dtype, int64_t n, int32_t flags);
void dot3(const void *x, int32_t x_dtype, const void *y, int32_t y_dtype, int64_t n, double *result);
void quantize_q8_0(const void *src, int32_t src_dtype, void *dst, int64_t blocks);
void dequantize(const void *src, int32_t format, void *dst, int32_t dst_dtype, int64_t blocks);
void magnitude_histogram_high(const float *values, int64_t n, int64_t *histogram);
void magnitude_histogram_low(const float *values, int64_t n, int32_t high, int64_t *histogram);
void philox_uniforms(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, float *out);
void philox_keep(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, uint32_t keep_threshold, float *values);
void disjoint_merge(int32_t models, const float *w, int64_t stride, const float *weights, int64_t n, int32_t normalize,
                    const float *base, float lambda, float *out);
void plain_merge(int32_t models, const float *w, int64_t stride, int64_t n, float divisor, const float *base,
                 float lambda, float *out);
void magnitude_mask(float *values, int64_t n, int32_t keep_bits, int64_t keep_equal, int32_t drop_bits,
                    int64_t drop_equal, int64_t *seen);
void count_nonfinite(const void *src, int32_t dtype, int64_t n, int64_t *counts);
void della_mask(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, int64_t row, double density,
                double epsilon, float *values, uint64_t *keys, float *uniforms);
void gram(int32_t count, const void *const *inputs, const int32_t *dtypes, const void *base, int32_t base_dtype,
          int64_t n, double *acc);
void fusion_histogram_high(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                           int64_t column, int64_t row_length, const float *kl, int64_t *histogram);
void fusion_histogram_low(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                          int64_t column, int64_t row_length, const float *kl, int32_t bucket_count,
                          const int32_t *buckets, int64_t *histograms);
void fusion_select(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                   int64_t column, int64_t row_length, const float *kl, float threshold, void *out, int32_t out_dtype);
void nearswap(const void *base, int32_t base_dtype, const void *other, int32_t other_dtype, float t, void *out,
              int32_t out_dtype, int64_t n, int32_t flags);
void sce_variance_keys(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int32_t *keys);
void sce_histogram_high(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int64_t *histogram,
                        int64_t *nonzero, int32_t *keys);
void sce_histogram_low(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int32_t high,
                       int64_t *histogram);
void sce_square_sums(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys, int64_t n,
                     int32_t threshold, int64_t equal_kept, int64_t *seen, double *sums);
void sce_merge(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys, int64_t n,
               int32_t threshold, int64_t equal_kept, int64_t *seen, const double *weights, float *out);

}  // namespace cuda
}  // namespace amalgam

#endif  // AMALGAM_CUDA_COMMON_CUH
