// CUDA mirrors of the block-format kernels (amalgam.h contract point 7), amalgam_count_nonfinite and the
// task-arithmetic kernels (point 8) over staged host arrays. The element code is scalar_math.h's and
// task_arithmetic.h's (Philox, magnitudes), with the x86 NaN rules of cuda_common.cuh, so every result has the CPU
// kernels' bits; the counts are exact integers.
#include <cuda_runtime.h>

#include <algorithm>

#include "../task_arithmetic.h"
#include "cuda_common.cuh"

namespace amalgam {
namespace cuda {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarp = 32;

__device__ __forceinline__ int64_t thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t thread_count() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Exclusive scan of one value per thread over a block of kThreads threads; *total receives the block's sum. Every
// thread of the block must call it (it synchronizes the block).
template <class T>
__device__ T block_exclusive_scan(T v, T *total) {
  __shared__ T warp_sums[kThreads / kWarp];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  T inclusive = v;
#pragma unroll
  for (int o = 1; o < kWarp; o <<= 1) {
    const T up = __shfl_up_sync(kFullMask, inclusive, o);
    if (lane >= o) inclusive += up;
  }
  if (lane == kWarp - 1) warp_sums[warp] = inclusive;
  __syncthreads();
  T before = 0, sum = 0;
#pragma unroll
  for (int w = 0; w < kThreads / kWarp; ++w) {
    if (w < warp) before += warp_sums[w];
    sum += warp_sums[w];
  }
  __syncthreads();  // warp_sums is reused by the next call
  *total = sum;
  return before + inclusive - v;
}

// Sum over the block of kThreads threads; the result is valid in thread 0.
__device__ __forceinline__ unsigned long long block_sum(unsigned long long v) {
  unsigned long long total;
  block_exclusive_scan(v, &total);
  return total;
}

// Typed loads and stores of one element of a staged array (the device views are 256-byte aligned).
__device__ __forceinline__ float load_element(const char *p, int32_t dtype, int64_t i) {
  if (dtype == AMALGAM_DTYPE_F32) return f32_from_bits(reinterpret_cast<const uint32_t *>(p)[i]);
  const uint16_t h = reinterpret_cast<const uint16_t *>(p)[i];
  return dtype == AMALGAM_DTYPE_F16 ? f16_to_f32(h) : bf16_to_f32(h);
}

// Zeroes n bytes of device memory and waits, so that the work of both staging streams sees the zeros.
bool clear_device(void *p, int64_t bytes) {
  cudaStream_t s = main_stream();
  cudaError_t e = cudaMemsetAsync(p, 0, static_cast<size_t>(bytes), s);
  if (e == cudaSuccess) e = cudaStreamSynchronize(s);
  if (e != cudaSuccess) {
    record_error(e);
    return false;
  }
  return true;
}

// Copies device memory to the host and waits.
bool copy_to_host(void *dst, const void *src, int64_t bytes) {
  cudaStream_t s = main_stream();
  cudaError_t e = cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost, s);
  if (e == cudaSuccess) e = cudaStreamSynchronize(s);
  if (e != cudaSuccess) {
    record_error(e);
    return false;
  }
  return true;
}

// ------------------------------------------------------------------------------------------------ quantize Q8_0

// The scale of a block without NaN from its largest magnitude (contract point 7): d as stored, and id.
struct Q8Scale {
  uint16_t d;
  float id;
};

AMALGAM_HD inline Q8Scale q8_0_scale(uint32_t amax_bits) {
  const float d = x86_div(f32_from_bits(amax_bits), 127.0f);
  const float id = d != 0.0f ? x86_div(1.0f, d) : 0.0f;
  return {f32_to_f16(d), id};
}

// One element's byte: the low 8 bits of java_int(round_half_away(x * id)). A NaN product (inf * 0) gives 0 whatever
// its payload.
AMALGAM_HD inline uint8_t q8_0_value(float x, float id) {
  return static_cast<uint8_t>(static_cast<uint32_t>(java_int(round_half_away(x86_mul(x, id)))) & 0xffu);
}

// One warp per block, lane j holding element j: the first NaN comes from a ballot, the largest magnitude from a
// butterfly (for non-negative non-NaN floats the integer order is the float order), then lane j writes qs[j].
__global__ void quantize_q8_0_kernel(const char *src, int32_t dtype, uint8_t *dst, int64_t blocks) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = thread_count() / kWarp;
  for (int64_t b = thread_index() / kWarp; b < blocks; b += warps) {  // uniform per warp
    const float x = load_element(src, dtype, b * kQuantBlock + lane);
    const uint32_t a = f32_bits(x) & 0x7fffffffu;
    const unsigned nan = __ballot_sync(kFullMask, a > 0x7f800000u);
    uint16_t d;
    uint8_t q;
    if (nan != 0) {
      d = q8_0_nan_scale(__shfl_sync(kFullMask, a, __ffs(nan) - 1));
      q = 0;
    } else {
      uint32_t amax = a;
#pragma unroll
      for (int o = kWarp / 2; o > 0; o >>= 1) {
        const uint32_t other = __shfl_xor_sync(kFullMask, amax, o);
        amax = other > amax ? other : amax;
      }
      const Q8Scale scale = q8_0_scale(amax);
      d = scale.d;
      q = q8_0_value(x, scale.id);
    }
    uint8_t *out = dst + b * kQ8_0Bytes;
    out[2 + lane] = q;
    if (lane == 0) {
      out[0] = static_cast<uint8_t>(d & 0xffu);
      out[1] = static_cast<uint8_t>(d >> 8);
    }
  }
}

// ------------------------------------------------------------------------------------------------ dequantize

// The value q[j] of a block (Q8_0 bytes, or Q4_0 nibbles minus 8), as block_values_scalar orders them.
AMALGAM_HD inline int8_t block_value(const uint8_t *block, int32_t format, int j) {
  if (format == AMALGAM_BLOCK_Q8_0) return static_cast<int8_t>(block[2 + j]);
  const uint8_t byte = block[2 + (j & 15)];
  return static_cast<int8_t>((j < 16 ? (byte & 0x0f) : (byte >> 4)) - 8);
}

// Elements 8 * part .. 8 * part + 7 of a block: (float) q[j] * d, one f32 multiply (contract point 7).
AMALGAM_HD inline void dequantize_part(const uint8_t *block, int32_t format, int part, float *x) {
  const float d = f16_to_f32(static_cast<uint16_t>(block[0] | (block[1] << 8)));
  for (int k = 0; k < 8; ++k) x[k] = x86_mul(static_cast<float>(block_value(block, format, 8 * part + k)), d);
}

// One thread per quarter block: eight elements, stored 16 bytes wide.
__global__ void dequantize_kernel(const uint8_t *src, int32_t format, char *dst, int32_t dtype, int64_t blocks) {
  const int64_t bytes = block_bytes(format);
  const int64_t parts = blocks * 4;
  for (int64_t g = thread_index(); g < parts; g += thread_count()) {
    float x[8];
    dequantize_part(src + (g >> 2) * bytes, format, static_cast<int>(g & 3), x);
    store8(dst, dtype, g * 8, x);
  }
}

// ------------------------------------------------------------------------------------------------ count_nonfinite

// Adds one stored value to the counts: non-finite when its exponent bits are all ones, NaN with a non-zero mantissa.
AMALGAM_HD inline void count_bits(uint32_t v, uint32_t exponent, uint32_t mantissa, uint32_t *nan, uint32_t *inf) {
  const uint32_t special = (v & exponent) == exponent;
  const uint32_t zero_mantissa = (v & mantissa) == 0;
  *inf += special & zero_mantissa;
  *nan += special & (zero_mantissa ^ 1u);
}

// The exponent and mantissa masks of a dtype (nonfinite.h's instantiations).
struct NonfiniteMasks {
  uint32_t exponent;
  uint32_t mantissa;
};

AMALGAM_HD inline NonfiniteMasks nonfinite_masks(int32_t dtype) {
  switch (dtype) {
    case AMALGAM_DTYPE_F32:
      return {0x7f800000u, 0x007fffffu};
    case AMALGAM_DTYPE_F16:
      return {0x7c00u, 0x03ffu};
    default:  // AMALGAM_DTYPE_BF16
      return {0x7f80u, 0x007fu};
  }
}

// Pieces of at most 2^30 elements keep a block's counts below 2^32, so NaNs and infinities share one 64-bit sum.
constexpr int64_t kCountMaxPiece = int64_t{1} << 30;

// 16-byte groups (4 f32 or 8 16-bit values), then the scalar tail; one atomic per count and block.
__global__ void count_nonfinite_kernel(const char *src, int32_t dtype, int64_t n, unsigned long long *counts) {
  const NonfiniteMasks m = nonfinite_masks(dtype);
  const bool wide = dtype == AMALGAM_DTYPE_F32;
  const int64_t per_group = wide ? 4 : 8;
  const int64_t groups = n / per_group;
  uint32_t nan = 0, inf = 0;
  for (int64_t g = thread_index(); g < groups; g += thread_count()) {
    const uint4 q = reinterpret_cast<const uint4 *>(src)[g];
    const uint32_t w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      if (wide) {
        count_bits(w[k], m.exponent, m.mantissa, &nan, &inf);
      } else {
        count_bits(w[k] & 0xffffu, m.exponent, m.mantissa, &nan, &inf);
        count_bits(w[k] >> 16, m.exponent, m.mantissa, &nan, &inf);
      }
    }
  }
  for (int64_t i = groups * per_group + thread_index(); i < n; i += thread_count()) {
    const uint32_t v = wide ? reinterpret_cast<const uint32_t *>(src)[i] : reinterpret_cast<const uint16_t *>(src)[i];
    count_bits(v, m.exponent, m.mantissa, &nan, &inf);
  }
  const unsigned long long sum =
      block_sum(static_cast<unsigned long long>(nan) | (static_cast<unsigned long long>(inf) << 32));
  if (threadIdx.x == 0) {
    if ((sum & 0xffffffffu) != 0) atomicAdd(&counts[0], sum & 0xffffffffu);
    if ((sum >> 32) != 0) atomicAdd(&counts[1], sum >> 32);
  }
}

// ------------------------------------------------------------------------------------------------ histograms

// a >> 16 of a 31-bit magnitude is below 2^15: the high histogram only ever counts in its first half.
constexpr int kHighBuckets = 32768;
// The privatised high histogram: 32768 32-bit counters per block (128 KiB of shared memory, one block per
// multiprocessor on the devices that allow it), pieces of at most 2^30 elements so no counter can wrap.
constexpr int kSharedHistogramThreads = 1024;
constexpr int kSharedHistogramBytes = kHighBuckets * 4;
constexpr int64_t kHistogramMaxPiece = int64_t{1} << 30;

AMALGAM_HD inline uint32_t magnitude_bits(uint32_t word) { return ta_abs_bits(f32_from_bits(word)); }

__global__ void __launch_bounds__(kSharedHistogramThreads)
    histogram_high_shared_kernel(const uint32_t *v, int64_t n, unsigned long long *acc) {
  extern __shared__ uint32_t bucket_counts[];
  for (int b = threadIdx.x; b < kHighBuckets; b += blockDim.x) bucket_counts[b] = 0;
  __syncthreads();
  const int64_t groups = n / 4;
  for (int64_t g = thread_index(); g < groups; g += thread_count()) {
    const uint4 q = reinterpret_cast<const uint4 *>(v)[g];
    atomicAdd(&bucket_counts[magnitude_bits(q.x) >> 16], 1u);
    atomicAdd(&bucket_counts[magnitude_bits(q.y) >> 16], 1u);
    atomicAdd(&bucket_counts[magnitude_bits(q.z) >> 16], 1u);
    atomicAdd(&bucket_counts[magnitude_bits(q.w) >> 16], 1u);
  }
  for (int64_t i = groups * 4 + thread_index(); i < n; i += thread_count()) {
    atomicAdd(&bucket_counts[magnitude_bits(v[i]) >> 16], 1u);
  }
  __syncthreads();
  for (int b = threadIdx.x; b < kHighBuckets; b += blockDim.x) {
    const uint32_t c = bucket_counts[b];
    if (c != 0) atomicAdd(&acc[b], static_cast<unsigned long long>(c));
  }
}

// Called by every lane of a warp: the lanes that count add 1 to acc[bucket], one atomic per distinct bucket.
__device__ __forceinline__ void warp_count(bool counts, uint32_t bucket, unsigned long long *acc) {
  const unsigned active = __ballot_sync(kFullMask, counts);
  if (counts) {
    const unsigned peers = __match_any_sync(active, bucket);
    if (static_cast<int>(threadIdx.x % kWarp) == __ffs(peers) - 1) {
      atomicAdd(&acc[bucket], static_cast<unsigned long long>(__popc(peers)));
    }
  }
}

// The element's bucket and whether it counts: high bucket a >> 16, or (kLow) low bucket a & 0xffff where
// a >> 16 == high (contract point 8).
template <bool kLow>
__device__ __forceinline__ void count_magnitude(bool valid, uint32_t word, uint32_t high, unsigned long long *acc) {
  const uint32_t a = magnitude_bits(word);
  warp_count(valid && (!kLow || (a >> 16) == high), kLow ? (a & 0xffffu) : (a >> 16), acc);
}

// Global atomics on the device accumulator, warp-aggregated: the low histogram (65536 counters do not fit in shared
// memory, and only the elements of one high bucket count) and the high one where 128 KiB of shared memory per block
// is not available. The loops are uniform per warp (the index of its lane 0 decides), as warp_count needs.
template <bool kLow>
__global__ void histogram_global_kernel(const uint32_t *v, int64_t n, uint32_t high, unsigned long long *acc) {
  const int64_t lane = threadIdx.x % kWarp;
  const int64_t groups = n / 4;
  for (int64_t g = thread_index(); g - lane < groups; g += thread_count()) {
    const bool valid = g < groups;
    const uint4 q = valid ? reinterpret_cast<const uint4 *>(v)[g] : make_uint4(0, 0, 0, 0);
    count_magnitude<kLow>(valid, q.x, high, acc);
    count_magnitude<kLow>(valid, q.y, high, acc);
    count_magnitude<kLow>(valid, q.z, high, acc);
    count_magnitude<kLow>(valid, q.w, high, acc);
  }
  for (int64_t i = groups * 4 + thread_index(); i - lane < n; i += thread_count()) {
    const bool valid = i < n;
    count_magnitude<kLow>(valid, valid ? v[i] : 0u, high, acc);
  }
}

// Whether the current device gives a block the privatised high histogram's shared memory; its multiprocessors.
bool shared_histogram_fits(int *multiprocessors) {
  int optin = 0;
  cudaError_t e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, current_device());
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(multiprocessors, cudaDevAttrMultiProcessorCount, current_device());
  if (e != cudaSuccess) {
    record_error(e);
    return false;
  }
  return optin >= kSharedHistogramBytes;
}

// Runs histogram pieces into a zeroed device accumulator of `buckets` counters, then adds them to histogram.
template <class F>
void histogram_call(const float *values, int64_t n, int64_t buckets, int64_t *histogram, F &&launch) {
  const int64_t bytes = buckets * static_cast<int64_t>(sizeof(unsigned long long));
  auto *acc = static_cast<unsigned long long *>(device_scratch(bytes));
  if (acc == nullptr || !clear_device(acc, bytes)) return;
  const HostArray array = {values, nullptr, 4, 1, 0};
  const bool ok =
      staged_call(n, 4, kHistogramMaxPiece, &array, 1, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
        launch(s, d[0].row<const uint32_t>(0), len, acc);
      });
  if (!ok) return;
  auto *counts = static_cast<unsigned long long *>(host_scratch(bytes));
  if (counts == nullptr || !copy_to_host(counts, acc, bytes)) return;
  for (int64_t b = 0; b < buckets; ++b) histogram[b] += static_cast<int64_t>(counts[b]);
}

// ------------------------------------------------------------------------------------------------ Philox

// The output of one element from its 24-bit m: the uniform's bits, or the kept value's bits (+0 when dropped).
template <bool kKeep>
AMALGAM_HD inline uint32_t philox_output(uint32_t old, uint32_t m, uint32_t threshold) {
  if (kKeep) return old & (0u - static_cast<uint32_t>(m < threshold));
  return f32_bits(static_cast<float>(m) * 0x1p-24f);  // exact: m < 2^24
}

// Counter block (e0 >> 2) + t of the elements [e0, e0 + n) of a stream (contract point 8): the block's elements in
// the range write data[e - e0], 16 bytes at once when the block lies inside and starts on a 16-byte boundary.
template <bool kKeep>
AMALGAM_HD inline void philox_block_range(uint64_t seed, uint64_t hash, uint64_t e0, int64_t n, int64_t t,
                                          uint32_t threshold, uint32_t *data) {
  const uint64_t block = (e0 >> 2) + static_cast<uint64_t>(t);
  uint32_t w[4];
  ta_philox_block(block, hash, seed, w);
  const int64_t start = static_cast<int64_t>(block * 4 - e0);  // -3 .. -1 for a first block that begins before e0
  if (start >= 0 && start + 4 <= n && (e0 & 3) == 0) {
    uint4 *p = reinterpret_cast<uint4 *>(data + start);
    uint4 q = kKeep ? *p : make_uint4(0, 0, 0, 0);
    q.x = philox_output<kKeep>(q.x, w[0] >> 8, threshold);
    q.y = philox_output<kKeep>(q.y, w[1] >> 8, threshold);
    q.z = philox_output<kKeep>(q.z, w[2] >> 8, threshold);
    q.w = philox_output<kKeep>(q.w, w[3] >> 8, threshold);
    *p = q;
    return;
  }
  for (int j = 0; j < 4; ++j) {
    const int64_t i = start + j;
    if (i >= 0 && i < n) data[i] = philox_output<kKeep>(kKeep ? data[i] : 0u, w[j] >> 8, threshold);
  }
}

// The counter blocks that elements [e0, e0 + n) touch, n >= 1 (e0 + n - 1 <= INT64_MAX: the dispatcher checks it).
AMALGAM_HD inline int64_t philox_blocks(uint64_t e0, int64_t n) {
  return static_cast<int64_t>(((e0 + static_cast<uint64_t>(n) - 1) >> 2) - (e0 >> 2)) + 1;
}

// One thread per counter block.
template <bool kKeep>
__global__ void philox_kernel(uint64_t seed, uint64_t hash, uint64_t e0, int64_t n, uint32_t threshold,
                              uint32_t *data) {
  const int64_t blocks = philox_blocks(e0, n);
  for (int64_t t = thread_index(); t < blocks; t += thread_count()) {
    philox_block_range<kKeep>(seed, hash, e0, n, t, threshold, data);
  }
}

template <bool kKeep>
void philox_call(uint64_t seed, uint64_t hash, int64_t first, int64_t n, uint32_t threshold, float *data) {
  const HostArray array = {kKeep ? data : nullptr, data, 4, 1, 0};
  // Pieces of whole counter blocks: with first a multiple of 4 every piece takes the 16-byte path.
  staged_call(n, 4, 0, &array, 1, [&](cudaStream_t s, const DeviceArray *d, int64_t piece_first, int64_t len) {
    const uint64_t e0 = static_cast<uint64_t>(first) + static_cast<uint64_t>(piece_first);
    philox_kernel<kKeep>
        <<<grid_for(philox_blocks(e0, len)), kThreads, 0, s>>>(seed, hash, e0, len, threshold, d[0].row<uint32_t>(0));
  });
}

// ------------------------------------------------------------------------------------------------ merges

struct MergeArgs {
  int32_t models;
  const float *w;        // model k's row at w + k * pitch
  int64_t pitch;         // floats
  const float *weights;  // disjoint: models entries (device)
  bool normalize;        // disjoint
  float divisor;         // plain
  const float *base;
  float lambda;
  float *out;
};

template <int W>
AMALGAM_HD inline void load_lanes(const float *p, float *v) {
  if constexpr (W == 4) {
    const float4 q = *reinterpret_cast<const float4 *>(p);
    v[0] = q.x;
    v[1] = q.y;
    v[2] = q.z;
    v[3] = q.w;
  } else {
    for (int j = 0; j < W; ++j) v[j] = p[j];
  }
}

template <int W>
AMALGAM_HD inline void store_lanes(float *p, const float *v) {
  if constexpr (W == 4) {
    *reinterpret_cast<float4 *>(p) = make_float4(v[0], v[1], v[2], v[3]);
  } else {
    for (int j = 0; j < W; ++j) p[j] = v[j];
  }
}

// Where both operands of an addition or multiplication are NaNs, x86 passes on the first source operand, and which
// one that is depends on the instructions the compiler picked. Measured on the CPU builds (GCC, every path): the sums
// and the scaling keep the running value's NaN (mixed + v, divisor + weight, mixed * lambda); base + mixed is built
// with mixed as the first source (the load of base is folded into the add), so mixed's NaN wins there.
// The contract leaves these cases open (the CPU paths differ in a few of them), but this order
// gives the bits of the scalar path and of the vector paths' bulk.

// TIES of elements i .. i + W - 1 (contract point 8), each lane the CPU's operations in its order.
template <int W>
AMALGAM_HD inline void disjoint_lanes(const MergeArgs &a, int64_t i) {
  float v[W], sum[W], mixed[W], divisor[W];
  bool positive[W];
  for (int j = 0; j < W; ++j) sum[j] = 0.0f;
  for (int32_t k = 0; k < a.models; ++k) {
    load_lanes<W>(a.w + k * a.pitch + i, v);
    for (int j = 0; j < W; ++j) sum[j] = x86_add(sum[j], v[j]);
  }
  for (int j = 0; j < W; ++j) {
    positive[j] = sum[j] >= 0.0f;  // false for NaN
    mixed[j] = 0.0f;
    divisor[j] = 0.0f;
  }
  for (int32_t k = 0; k < a.models; ++k) {
    load_lanes<W>(a.w + k * a.pitch + i, v);
    const float weight = a.weights[k];
    for (int j = 0; j < W; ++j) {
      if (positive[j] ? v[j] > 0.0f : v[j] < 0.0f) {
        mixed[j] = x86_add(mixed[j], v[j]);
        divisor[j] = x86_add(divisor[j], weight);
      }
    }
  }
  float out[W];
  load_lanes<W>(a.base + i, out);
  for (int j = 0; j < W; ++j) {
    if (a.normalize) {
      if (divisor[j] == 0.0f) divisor[j] = 1.0f;
      mixed[j] = x86_div(mixed[j], divisor[j]);
    }
    if (a.lambda != 1.0f) mixed[j] = x86_mul(mixed[j], a.lambda);
    out[j] = x86_add(mixed[j], out[j]);  // base + mixed, mixed first (see above)
  }
  store_lanes<W>(a.out + i, out);
}

// The plain merge of elements i .. i + W - 1 (contract point 8).
template <int W>
AMALGAM_HD inline void plain_lanes(const MergeArgs &a, int64_t i) {
  float v[W], mixed[W];
  for (int j = 0; j < W; ++j) mixed[j] = 0.0f;
  for (int32_t k = 0; k < a.models; ++k) {
    load_lanes<W>(a.w + k * a.pitch + i, v);
    for (int j = 0; j < W; ++j) mixed[j] = x86_add(mixed[j], v[j]);
  }
  float out[W];
  load_lanes<W>(a.base + i, out);
  for (int j = 0; j < W; ++j) {
    if (a.divisor != 1.0f) mixed[j] = x86_div(mixed[j], a.divisor);
    if (a.lambda != 1.0f) mixed[j] = x86_mul(mixed[j], a.lambda);
    out[j] = x86_add(mixed[j], out[j]);  // base + mixed, mixed first (see above)
  }
  store_lanes<W>(a.out + i, out);
}

// Four elements per thread with 16-byte loads (the staged rows are 256-byte aligned), then the scalar tail.
template <bool kDisjoint>
__global__ void merge_kernel(MergeArgs a, int64_t n) {
  const int64_t groups = n / 4;
  for (int64_t g = thread_index(); g < groups; g += thread_count()) {
    if (kDisjoint) {
      disjoint_lanes<4>(a, g * 4);
    } else {
      plain_lanes<4>(a, g * 4);
    }
  }
  for (int64_t i = groups * 4 + thread_index(); i < n; i += thread_count()) {
    if (kDisjoint) {
      disjoint_lanes<1>(a, i);
    } else {
      plain_lanes<1>(a, i);
    }
  }
}

template <bool kDisjoint>
void merge_call(int32_t models, const float *w, int64_t stride, const float *device_weights, int64_t n, bool normalize,
                float divisor, const float *base, float lambda, float *out) {
  const HostArray arrays[3] = {{w, nullptr, 4, models, stride}, {base, nullptr, 4, 1, 0}, {nullptr, out, 4, 1, 0}};
  staged_call(n, 4, 0, arrays, 3, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
    const MergeArgs a = {models,
                         d[0].row<const float>(0),
                         d[0].row_pitch / 4,
                         device_weights,
                         normalize,
                         divisor,
                         d[1].row<const float>(0),
                         lambda,
                         d[2].row<float>(0)};
    merge_kernel<kDisjoint><<<grid_for((len + 3) / 4), kThreads, 0, s>>>(a, len);
  });
}

// ------------------------------------------------------------------------------------------------ magnitude mask

// The CPU walks the elements in order with two counters (ta_in_top): an element equal to a threshold is taken iff
// the counter, which grows by one per element taken, is still below equal_kept. So, with s the counter at the start
// of the call, the equal element of rank r (the number of equal elements before it in the call) is taken iff
// r < room = max(0, equal_kept - s), and the call ends with s + min(equal elements, room). The ranks come from a
// prefix scan: per tile of kMaskTile elements the equal elements are counted, one block scans the tile counts into
// offsets on top of a device carry (the equal elements of the earlier pieces), and each tile's block scans its
// threads' counts. The scans of successive pieces are chained with an event, as the staging streams may run pieces
// side by side; the counting and masking kernels still overlap.
constexpr int kMaskTile = kThreads * 4;
// Bounds the tile arrays; a piece is in-place f32, so this is 16 MiB.
constexpr int64_t kMaskMaxPiece = int64_t{1} << 22;

// One bit per threshold that a equals: keep in bit 0, drop in bit 16 (a tile has at most kMaskTile of each, so
// sums of these fit their 16-bit halves).
AMALGAM_HD inline uint32_t mask_equal_flags(uint32_t a, int32_t keep_bits, int32_t drop_bits) {
  const int32_t b = static_cast<int32_t>(a);
  return static_cast<uint32_t>(b == keep_bits) | (static_cast<uint32_t>(b == drop_bits) << 16);
}

// Elements first .. first + 3 (first a multiple of 4) that are below n, as bits; returns how many there are.
AMALGAM_HD inline int load_group(const uint32_t *v, int64_t n, int64_t first, uint32_t *w) {
  const int present = n - first >= 4 ? 4 : (n > first ? static_cast<int>(n - first) : 0);
  if (present == 4) {
    const uint4 q = *reinterpret_cast<const uint4 *>(v + first);
    w[0] = q.x;
    w[1] = q.y;
    w[2] = q.z;
    w[3] = q.w;
  } else {
    for (int j = 0; j < present; ++j) w[j] = v[first + j];
  }
  return present;
}

AMALGAM_HD inline void store_group(uint32_t *v, int64_t first, int present, const uint32_t *w) {
  if (present == 4) {
    *reinterpret_cast<uint4 *>(v + first) = make_uint4(w[0], w[1], w[2], w[3]);
  } else {
    for (int j = 0; j < present; ++j) v[first + j] = w[j];
  }
}

AMALGAM_HD inline uint32_t group_equal_flags(const uint32_t *w, int present, int32_t keep_bits, int32_t drop_bits) {
  uint32_t flags = 0;
  for (int j = 0; j < present; ++j) flags += mask_equal_flags(magnitude_bits(w[j]), keep_bits, drop_bits);
  return flags;
}

// Masks a group in element order; keep_rank and drop_rank are the ranks of the equal elements before the group.
AMALGAM_HD inline void mask_group(uint32_t *w, int present, int32_t keep_bits, int32_t drop_bits, uint64_t keep_rank,
                                  uint64_t drop_rank, uint64_t keep_room, uint64_t drop_room) {
  for (int j = 0; j < present; ++j) {
    const int32_t b = static_cast<int32_t>(magnitude_bits(w[j]));
    const bool keep_equal = b == keep_bits, drop_equal = b == drop_bits;
    const bool kept = b > keep_bits || (keep_equal && keep_rank < keep_room);
    const bool dropped = b > drop_bits || (drop_equal && drop_rank < drop_room);
    keep_rank += keep_equal ? 1 : 0;
    drop_rank += drop_equal ? 1 : 0;
    if (!kept || dropped) w[j] = 0u;  // +0
  }
}

// tile_counts[tile] = the packed equal counts of each tile.
__global__ void mask_count_kernel(const uint32_t *v, int64_t n, int32_t keep_bits, int32_t drop_bits,
                                  uint32_t *tile_counts) {
  const int64_t tiles = (n + kMaskTile - 1) / kMaskTile;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {  // uniform per block
    uint32_t w[4];
    const int present = load_group(v, n, tile * kMaskTile + 4 * threadIdx.x, w);
    uint32_t total;
    block_exclusive_scan(group_equal_flags(w, present, keep_bits, drop_bits), &total);
    if (threadIdx.x == 0) tile_counts[tile] = total;
  }
}

// One block: offsets[2 * tile] and offsets[2 * tile + 1] = the keep and drop equal elements before the tile in the
// call (carry holds those of the earlier pieces and is advanced past this one).
__global__ void mask_scan_kernel(const uint32_t *tile_counts, int64_t tiles, unsigned long long *carry,
                                 unsigned long long *offsets) {
  unsigned long long keep = carry[0], drop = carry[1];
  for (int64_t c = 0; c < tiles; c += kThreads) {  // uniform
    const int64_t t = c + threadIdx.x;
    const uint32_t packed = t < tiles ? tile_counts[t] : 0u;
    // Widened to two 32-bit halves: a chunk of kThreads tiles holds at most 2^18 of each.
    const unsigned long long v = (packed & 0xffffu) | (static_cast<unsigned long long>(packed >> 16) << 32);
    unsigned long long total;
    const unsigned long long before = block_exclusive_scan(v, &total);
    if (t < tiles) {
      offsets[2 * t] = keep + (before & 0xffffffffu);
      offsets[2 * t + 1] = drop + (before >> 32);
    }
    keep += total & 0xffffffffu;
    drop += total >> 32;
  }
  __syncthreads();  // every thread has read carry
  if (threadIdx.x == 0) {
    carry[0] = keep;
    carry[1] = drop;
  }
}

__global__ void mask_apply_kernel(uint32_t *v, int64_t n, int32_t keep_bits, int32_t drop_bits,
                                  const unsigned long long *offsets, uint64_t keep_room, uint64_t drop_room) {
  const int64_t tiles = (n + kMaskTile - 1) / kMaskTile;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {  // uniform per block
    const int64_t first = tile * kMaskTile + 4 * threadIdx.x;
    uint32_t w[4];
    const int present = load_group(v, n, first, w);
    uint32_t total;
    const uint32_t before = block_exclusive_scan(group_equal_flags(w, present, keep_bits, drop_bits), &total);
    mask_group(w, present, keep_bits, drop_bits, offsets[2 * tile] + (before & 0xffffu),
               offsets[2 * tile + 1] + (before >> 16), keep_room, drop_room);
    store_group(v, first, present, w);
  }
}

// max(0, equal_kept - seen), exactly (equal_kept >= 0).
uint64_t equal_room(int64_t seen, int64_t equal_kept) {
  return seen < equal_kept ? static_cast<uint64_t>(equal_kept) - static_cast<uint64_t>(seen) : 0u;
}

}  // namespace

// ------------------------------------------------------------------------------------------------ table entries

void quantize_q8_0(const void *src, int32_t src_dtype, void *dst, int64_t blocks) {
  const HostArray arrays[2] = {{src, nullptr, kQuantBlock * dtype_bytes(src_dtype), 1, 0},
                               {nullptr, dst, kQ8_0Bytes, 1, 0}};
  staged_call(blocks, 1, 0, arrays, 2, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
    quantize_q8_0_kernel<<<grid_for(len * kWarp), kThreads, 0, s>>>(d[0].data, src_dtype, d[1].row<uint8_t>(0), len);
  });
}

void dequantize(const void *src, int32_t format, void *dst, int32_t dst_dtype, int64_t blocks) {
  const HostArray arrays[2] = {{src, nullptr, block_bytes(format), 1, 0},
                               {nullptr, dst, kQuantBlock * dtype_bytes(dst_dtype), 1, 0}};
  staged_call(blocks, 1, 0, arrays, 2, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
    dequantize_kernel<<<grid_for(len * 4), kThreads, 0, s>>>(d[0].row<const uint8_t>(0), format, d[1].data, dst_dtype,
                                                             len);
  });
}

void count_nonfinite(const void *src, int32_t dtype, int64_t n, int64_t *counts) {
  auto *acc = static_cast<unsigned long long *>(device_scratch(2 * sizeof(unsigned long long)));
  if (acc == nullptr || !clear_device(acc, 2 * sizeof(unsigned long long))) return;
  const HostArray array = {src, nullptr, dtype_bytes(dtype), 1, 0};
  const bool ok =
      staged_call(n, 8, kCountMaxPiece, &array, 1, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
        count_nonfinite_kernel<<<grid_for((len + 3) / 4), kThreads, 0, s>>>(d[0].data, dtype, len, acc);
      });
  unsigned long long host[2];
  if (!ok || !copy_to_host(host, acc, sizeof host)) return;
  counts[0] += static_cast<int64_t>(host[0]);
  counts[1] += static_cast<int64_t>(host[1]);
}

void magnitude_histogram_high(const float *values, int64_t n, int64_t *histogram) {
  int multiprocessors = 1;
  const bool shared = shared_histogram_fits(&multiprocessors);
  if (failed()) return;
  if (shared) {
    AMALGAM_CUDA_TRY(cudaFuncSetAttribute(histogram_high_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          kSharedHistogramBytes));
  }
  histogram_call(
      values, n, kHighBuckets, histogram, [&](cudaStream_t s, const uint32_t *v, int64_t len, unsigned long long *acc) {
        if (shared) {
          const int64_t wanted = (len + 4 * kSharedHistogramThreads - 1) / (4 * kSharedHistogramThreads);
          const int grid = static_cast<int>(std::min<int64_t>(wanted, multiprocessors));
          histogram_high_shared_kernel<<<grid, kSharedHistogramThreads, kSharedHistogramBytes, s>>>(v, len, acc);
        } else {
          histogram_global_kernel<false><<<grid_for((len + 3) / 4), kThreads, 0, s>>>(v, len, 0u, acc);
        }
      });
}

void magnitude_histogram_low(const float *values, int64_t n, int32_t high, int64_t *histogram) {
  const uint32_t h = static_cast<uint32_t>(high);
  if (h >= static_cast<uint32_t>(kHighBuckets)) return;  // no |x| has these high bits (as the CPU)
  histogram_call(values, n, AMALGAM_MAGNITUDE_BUCKETS, histogram,
                 [&](cudaStream_t s, const uint32_t *v, int64_t len, unsigned long long *acc) {
                   histogram_global_kernel<true><<<grid_for((len + 3) / 4), kThreads, 0, s>>>(v, len, h, acc);
                 });
}

void philox_uniforms(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, float *out) {
  philox_call<false>(seed, stream_hash, first, n, 0u, out);
}

void philox_keep(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, uint32_t keep_threshold,
                 float *values) {
  philox_call<true>(seed, stream_hash, first, n, keep_threshold, values);
}

void disjoint_merge(int32_t models, const float *w, int64_t stride, const float *weights, int64_t n, int32_t normalize,
                    const float *base, float lambda, float *out) {
  const int64_t bytes = static_cast<int64_t>(models) * 4;
  auto *device_weights = static_cast<float *>(device_scratch(bytes));
  if (device_weights == nullptr) return;
  cudaStream_t s = main_stream();
  // Waited for: the pieces run on both staging streams.
  AMALGAM_CUDA_TRY(cudaMemcpyAsync(device_weights, weights, static_cast<size_t>(bytes), cudaMemcpyHostToDevice, s));
  AMALGAM_CUDA_TRY(cudaStreamSynchronize(s));
  merge_call<true>(models, w, stride, device_weights, n, normalize != 0, 1.0f, base, lambda, out);
}

void plain_merge(int32_t models, const float *w, int64_t stride, int64_t n, float divisor, const float *base,
                 float lambda, float *out) {
  merge_call<false>(models, w, stride, nullptr, n, false, divisor, base, lambda, out);
}

void magnitude_mask(float *values, int64_t n, int32_t keep_bits, int64_t keep_equal, int32_t drop_bits,
                    int64_t drop_equal, int64_t *seen) {
  const int64_t max_tiles = (std::min(n, kMaskMaxPiece) + kMaskTile - 1) / kMaskTile;
  // carry[2], then per staging stream: offsets[2 * max_tiles] and counts[max_tiles].
  const int64_t bytes = 16 + 2 * max_tiles * 16 + 2 * max_tiles * 4;
  char *scratch = static_cast<char *>(device_scratch(bytes));
  if (scratch == nullptr || !clear_device(scratch, 16)) return;
  auto *carry = reinterpret_cast<unsigned long long *>(scratch);
  auto *offsets = reinterpret_cast<unsigned long long *>(scratch + 16);
  auto *counts = reinterpret_cast<uint32_t *>(scratch + 16 + 2 * max_tiles * 16);
  const uint64_t keep_room = equal_room(seen[0], keep_equal), drop_room = equal_room(seen[1], drop_equal);
  cudaEvent_t scanned;
  AMALGAM_CUDA_TRY(cudaEventCreateWithFlags(&scanned, cudaEventDisableTiming));
  cudaStream_t first_stream = main_stream();
  const HostArray array = {values, values, 4, 1, 0};
  const bool ok = staged_call(
      n, kMaskTile, kMaskMaxPiece, &array, 1, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
        uint32_t *v = d[0].row<uint32_t>(0);
        const int64_t tiles = (len + kMaskTile - 1) / kMaskTile;
        // Each stream has its own tile arrays: its pieces run in order, the other stream's beside them.
        const int64_t region = s == first_stream ? 0 : 1;
        uint32_t *tile_counts = counts + region * max_tiles;
        unsigned long long *tile_offsets = offsets + region * 2 * max_tiles;
        const int grid = grid_for(tiles * kThreads);
        mask_count_kernel<<<grid, kThreads, 0, s>>>(v, len, keep_bits, drop_bits, tile_counts);
        if (!launched()) return;
        // The carry moves piece after piece: this scan waits for the previous piece's (a no-op for the first).
        cudaError_t e = cudaStreamWaitEvent(s, scanned, 0);
        if (e != cudaSuccess) {
          record_error(e);
          return;
        }
        mask_scan_kernel<<<1, kThreads, 0, s>>>(tile_counts, tiles, carry, tile_offsets);
        if (!launched()) return;
        e = cudaEventRecord(scanned, s);
        if (e != cudaSuccess) {
          record_error(e);
          return;
        }
        mask_apply_kernel<<<grid, kThreads, 0, s>>>(v, len, keep_bits, drop_bits, tile_offsets, keep_room, drop_room);
      });
  unsigned long long equal[2] = {0, 0};
  const bool copied = ok && copy_to_host(equal, carry, sizeof equal);
  const cudaError_t destroyed = cudaEventDestroy(scanned);
  if (destroyed != cudaSuccess) record_error(destroyed);
  if (!copied || failed()) return;
  seen[0] = static_cast<int64_t>(static_cast<uint64_t>(seen[0]) + std::min<uint64_t>(equal[0], keep_room));
  seen[1] = static_cast<int64_t>(static_cast<uint64_t>(seen[1]) + std::min<uint64_t>(equal[1], drop_room));
}

}  // namespace cuda
}  // namespace amalgam
