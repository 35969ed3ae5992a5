// CUDA mirrors of the method kernels of contract point 9 (amalgam.h): DELLA's ranked random drop, the Gram sums,
// arcee_fusion's importance histograms and output, and nearswap, over staged host arrays. Every kernel's per-element,
// per-row or per-block step is a __host__ __device__ function below, so the thread decomposition can be replayed on
// the host; f32 arithmetic that may meet a NaN goes through cuda_common.cuh's x86 wrappers. DELLA, the fusion kernels
// and nearswap give the CPU kernels' bits; Gram keeps a fixed parallel order in double (see its section).
#include <cuda_runtime.h>

#include <algorithm>
#include <cub/device/device_radix_sort.cuh>

#include "../task_arithmetic.h"
#include "cuda_common.cuh"

namespace amalgam {
namespace cuda {
namespace {

constexpr int kVector = 8;  // elements per thread in the vector loops: 16 bytes of a 2-byte dtype

int64_t round256(int64_t bytes) { return (bytes + 255) / 256 * 256; }

// #pragma unroll for the device pass only (the host compiler warns about it in __host__ __device__ code).
#if defined(__CUDA_ARCH__)
#define AMALGAM_METHODS_UNROLL _Pragma("unroll")
#else
#define AMALGAM_METHODS_UNROLL
#endif

// ------------------------------------------------------------------------------------------------ vector access

// |v| by clearing the sign bit, as the CPU's andps: a NaN keeps its payload.
__host__ __device__ __forceinline__ float abs_bits(float v) { return f32_from_bits(f32_bits(v) & 0x7fffffffu); }

// ------------------------------------------------------------------------------------------------ DELLA
// Contract point 9. Each staged piece holds whole rows. The ranks come from one stable LSD radix sort (CUB) of the
// piece's keys (row in piece << 31 | magnitude bits) with the element's index in the piece as value: the sort orders
// by row, then magnitude, and keeps index order among equal magnitudes, so position % row is the rank of (a, j).
// Then one thread per Philox block (point 8) decides its four elements in element order. The keys and uniforms
// scratch of the CPU signature are host memory the GPU does not need.

constexpr int64_t kDellaPiece = int64_t{1} << 21;  // elements per staged piece (at least one whole row)

// The sort key of element i of a piece: its row in the piece above the 31 magnitude bits.
__host__ __device__ __forceinline__ uint64_t della_key(uint32_t i, uint32_t row, uint32_t bits) {
  return (static_cast<uint64_t>(i / row) << 31) | (bits & 0x7fffffffu);
}

struct DellaP {
  int64_t row;
  double low;      // density - epsilon
  double two_eps;  // 2.0 * epsilon: the first operation of the CPU's left-to-right 2.0 * epsilon * r / span
  double span;     // row - 1
};

// keep iff (double) u < p, u = m * 2^-24 exactly (the CPU's f32 uniform widened), p of rank r as the contract says.
__host__ __device__ __forceinline__ bool della_keep(uint32_t m, uint32_t r, const DellaP &p) {
  const double prob = p.row > 1 ? p.low + p.two_eps * static_cast<double>(r) / p.span : p.low;
  return static_cast<double>(m) * 0x1p-24 < prob;
}

// The four elements of Philox block `block` that lie in the piece [e0, e0 + n) of the stream; rank null: all 0.
__host__ __device__ __forceinline__ void della_decide_block(float *v, int64_t n, int64_t e0, int64_t block,
                                                            const uint32_t *rank, const DellaP &p, uint64_t seed,
                                                            uint64_t hash) {
  uint32_t words[4];
  ta_philox_block(static_cast<uint64_t>(block), hash, seed, words);
  for (int k = 0; k < 4; ++k) {
    const int64_t i = block * 4 + k - e0;
    if (i < 0 || i >= n) continue;
    if (!della_keep(words[k] >> 8, rank != nullptr ? rank[i] : 0u, p)) v[i] = 0.0f;  // dropped: +0
  }
}

__global__ void della_keys_kernel(const float *v, uint32_t n, uint32_t row, uint64_t *keys, uint32_t *index) {
  const uint32_t stride = gridDim.x * blockDim.x;
  const uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  const uint32_t groups = n / 4;
  for (uint32_t g = t; g < groups; g += stride) {
    const uint4 w = load16(reinterpret_cast<const char *>(v + 4 * g));
    const uint32_t i = 4 * g;
    reinterpret_cast<ulonglong2 *>(keys + i)[0] = make_ulonglong2(della_key(i, row, w.x), della_key(i + 1, row, w.y));
    reinterpret_cast<ulonglong2 *>(keys + i)[1] =
        make_ulonglong2(della_key(i + 2, row, w.z), della_key(i + 3, row, w.w));
    store16(reinterpret_cast<char *>(index + i), make_uint4(i, i + 1, i + 2, i + 3));
  }
  for (uint32_t i = groups * 4 + t; i < n; i += stride) {
    keys[i] = della_key(i, row, f32_bits(v[i]));
    index[i] = i;
  }
}

// sorted[pos] is the element at sorted position pos; rows are whole, so its rank is pos % row.
__global__ void della_rank_kernel(const uint32_t *sorted, uint32_t n, uint32_t row, uint32_t *rank) {
  const uint32_t stride = gridDim.x * blockDim.x;
  for (uint32_t pos = blockIdx.x * blockDim.x + threadIdx.x; pos < n; pos += stride) rank[sorted[pos]] = pos % row;
}

__global__ void della_decide_kernel(float *v, int64_t n, int64_t e0, const uint32_t *rank, DellaP p, uint64_t seed,
                                    uint64_t hash) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t b0 = e0 >> 2;
  const int64_t blocks = ((e0 + n - 1) >> 2) - b0 + 1;
  for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < blocks; t += stride) {
    della_decide_block(v, n, e0, b0 + t, rank, p, seed, hash);
  }
}

int bit_length(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

// ------------------------------------------------------------------------------------------------ Gram
// Contract point 9 fixes one chain of double additions per sum in element order, which one GPU thread per sum cannot
// run at speed; point 10 lets the device add in a fixed order instead. The order here depends only on count and n,
// not on the staging, the grid or timing:
//   - the call's elements form chunks of kGramChunk counted from element 0;
//   - in a chunk, sum k (pair i <= j, row-major as acc) has `lanes` chains (gram_lanes(sums), a power of two <= 64):
//     lane l adds, from -0.0 and in element order, the exact products (double) x_i * (double) x_j of the chunk's
//     elements e with e % lanes == l; the chunk's sum is lane 0's chain plus lanes 1, 2, ... in order;
//   - acc[k] = acc[k] + chunk 0's sum + chunk 1's sum + ... in chunk order (one chain on top of acc, as on the CPU).
// Tolerance: with u = 2^-53, gamma(m) = m * u / (1 - m * u) and S = |acc[k]| + sum over the call's elements of
// |x_i * x_j|, the CPU chain is within gamma(n) * S of the exact sum, and so is this order: each rounding addition on
// a path from a term to the result brings in at least one more of the n + 1 terms (adding a lane's -0.0 is exact), so
// a path meets at most min(n, d) of them, d = kGramChunk / lanes + lanes + ceil(n / kGramChunk). Hence |gpu - cpu| <=
// (gamma(n) + gamma(min(n, d))) * S <= 2 * gamma(n) * S, where S <= |acc[k]| + sqrt(sum x_i^2 * sum x_j^2)
// (Cauchy-Schwarz) and S = |acc[k]| + the sum itself on the diagonal; for large n the bound is about (n + n / 4096 +
// 4160) * u * S (1.1e-7 * S at n = 1e9, worst case; rounding errors of random sign give about sqrt(n) * u * S). Exactly
// as on the CPU: a sum is -0.0 iff acc and every product are -0.0 (the chains start at -0.0), NaN iff the CPU's is,
// +-infinity iff the CPU's is (the products are exact and far from overflow); only a NaN's payload may differ, as
// another NaN may come first. A call split at multiples of kGramChunk gives the same bits as one call.

constexpr int64_t kGramChunk = 4096;
constexpr int kGramTile = 64;      // elements per shared-memory tile (kGramChunk is a multiple)
constexpr int kGramMaxLanes = 64;  // <= kGramTile
constexpr int kGramMaxSums = AMALGAM_GRAM_MAX_INPUTS * (AMALGAM_GRAM_MAX_INPUTS + 1) / 2;
constexpr int kGramSlots = (kGramMaxSums + kThreads - 1) / kThreads;  // (sum, lane) slots per thread: 9
constexpr int64_t kGramPartialBytes = int64_t{64} << 20;              // chunk sums kept per window

struct GramArgs {
  const char *inputs[AMALGAM_GRAM_MAX_INPUTS];
  int32_t dtypes[AMALGAM_GRAM_MAX_INPUTS];
  const char *base;  // null: none
  int32_t base_dtype;
  int32_t count;
  int32_t sums;   // count * (count + 1) / 2
  int32_t lanes;  // gram_lanes(sums)
};

// The most lanes (a power of two <= kGramMaxLanes) that keep sums * lanes within one block's threads.
int32_t gram_lanes(int32_t sums) {
  int32_t lanes = kGramMaxLanes;
  while (lanes > 1 && sums * lanes > kThreads) lanes >>= 1;
  return lanes;
}

using GramTile = double[AMALGAM_GRAM_MAX_INPUTS][kGramTile + 1];  // + 1: rows in different banks

// One thread's (sum, lane) slots: slot q is id = thread + q * kThreads of sums * lanes, sum id / lanes and lane
// id % lanes, which is the same for every q as kThreads is a multiple of lanes.
struct GramThread {
  int slots;
  int lane;
  int sum[kGramSlots];
  uint8_t i[kGramSlots], j[kGramSlots];
  double s[kGramSlots];
};

__host__ __device__ __forceinline__ void gram_thread_init(const GramArgs &g, int thread, GramThread &st) {
  st.slots = 0;
  st.lane = thread % g.lanes;
  AMALGAM_METHODS_UNROLL
  for (int q = 0; q < kGramSlots; ++q) {
    const int id = thread + q * kThreads;
    st.sum[q] = 0;
    st.i[q] = 0;
    st.j[q] = 0;
    st.s[q] = -0.0;
    if (id >= g.sums * g.lanes) continue;
    const int k = id / g.lanes;
    int i = 0, first = 0;  // first: the index of pair (i, i)
    while (first + (g.count - i) <= k) {
      first += g.count - i;
      ++i;
    }
    st.sum[q] = k;
    st.i[q] = static_cast<uint8_t>(i);
    st.j[q] = static_cast<uint8_t>(i + (k - first));
    st.slots = q + 1;
  }
}

__host__ __device__ __forceinline__ void gram_reset(GramThread &st) {
  AMALGAM_METHODS_UNROLL
  for (int q = 0; q < kGramSlots; ++q) st.s[q] = -0.0;
}

// Thread `thread`'s share of loading elements [e0, e0 + valid) (valid <= kGramTile) of every input, less the base
// (one f32 subtraction), widened to double, into the tile.
__host__ __device__ __forceinline__ void gram_load_tile(const GramArgs &g, int64_t e0, int valid, int thread,
                                                        GramTile &tile) {
  constexpr int kGroups = kGramTile / kVector;
  for (int id = thread; id < g.count * kGroups; id += kThreads) {
    const int input = id / kGroups;
    const int at = (id % kGroups) * kVector;
    float x[kVector], b[kVector];
    if (at + kVector <= valid) {
      load8(g.inputs[input], g.dtypes[input], e0 + at, x);
      if (g.base != nullptr) load8(g.base, g.base_dtype, e0 + at, b);
    } else {
      for (int k = 0; k < kVector; ++k) {
        const bool in = at + k < valid;
        x[k] = in ? load_scalar(g.inputs[input], g.dtypes[input], e0 + at + k) : 0.0f;
        b[k] = in && g.base != nullptr ? load_scalar(g.base, g.base_dtype, e0 + at + k) : 0.0f;
      }
    }
    for (int k = 0; k < kVector; ++k) tile[input][at + k] = x86_widen(g.base != nullptr ? x86_sub(x[k], b[k]) : x[k]);
  }
}

// Adds the tile's elements of the thread's lane to its chains, in element order.
__host__ __device__ __forceinline__ void gram_accumulate(const GramArgs &g, const GramTile &tile, int valid,
                                                         GramThread &st) {
  for (int e = st.lane; e < valid; e += g.lanes) {
    AMALGAM_METHODS_UNROLL
    for (int q = 0; q < kGramSlots; ++q) {
      if (q < st.slots) st.s[q] = x86_add(st.s[q], x86_mul(tile[st.i[q]][e], tile[st.j[q]][e]));
    }
  }
}

// End of a chunk, first step: one lane per sum stores its sums; more lanes leave theirs in lane_sums[sum * lanes +
// lane] (= the thread, as sums * lanes <= kThreads) for gram_combine.
__host__ __device__ __forceinline__ void gram_store(const GramArgs &g, const GramThread &st, int thread,
                                                    double *lane_sums, double *chunk_sums) {
  if (g.lanes == 1) {
    AMALGAM_METHODS_UNROLL
    for (int q = 0; q < kGramSlots; ++q) {
      if (q < st.slots) chunk_sums[st.sum[q]] = st.s[q];
    }
  } else if (st.slots > 0) {
    lane_sums[thread] = st.s[0];
  }
}

// Second step (after a barrier): thread k < sums adds its sum's lanes in lane order.
__host__ __device__ __forceinline__ void gram_combine(const GramArgs &g, int thread, const double *lane_sums,
                                                      double *chunk_sums) {
  if (g.lanes == 1 || thread >= g.sums) return;
  double s = lane_sums[thread * g.lanes];
  for (int l = 1; l < g.lanes; ++l) s = x86_add(s, lane_sums[thread * g.lanes + l]);
  chunk_sums[thread] = s;
}

// The chunk sums of a piece of n elements whose first chunk is chunk0 of the window: sums doubles per chunk.
__global__ void __launch_bounds__(kThreads) gram_chunks_kernel(GramArgs g, int64_t n, int64_t chunk0, double *partial) {
  __shared__ GramTile tile;
  __shared__ double lane_sums[kThreads];
  const int thread = threadIdx.x;
  GramThread st;
  gram_thread_init(g, thread, st);
  const int64_t chunks = (n + kGramChunk - 1) / kGramChunk;
  for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
    const int64_t start = c * kGramChunk;
    const int64_t length = n - start < kGramChunk ? n - start : kGramChunk;
    gram_reset(st);
    for (int64_t t0 = 0; t0 < length; t0 += kGramTile) {
      const int valid = static_cast<int>(length - t0 < kGramTile ? length - t0 : kGramTile);
      gram_load_tile(g, start + t0, valid, thread, tile);
      __syncthreads();
      gram_accumulate(g, tile, valid, st);
      __syncthreads();
    }
    double *chunk_sums = partial + (chunk0 + c) * g.sums;
    gram_store(g, st, thread, lane_sums, chunk_sums);
    __syncthreads();
    gram_combine(g, thread, lane_sums, chunk_sums);
    // The next chunk writes lane_sums only after its first tile's barriers.
  }
}

// acc[k] = acc[k] + chunk 0's sum + chunk 1's sum + ...: one chain per sum on top of acc.
__global__ void gram_chain_kernel(const double *partial, int64_t chunks, int32_t sums, double *acc) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= sums) return;
  double a = acc[k];
  for (int64_t c = 0; c < chunks; ++c) a = x86_add(a, partial[c * sums + k]);
  acc[k] = a;
}

// ------------------------------------------------------------------------------------------------ arcee_fusion
// Contract point 9, bit for bit. Element i of a piece is element q = column + first + i past the start of the call's
// first row, so its row is q / row_length: one division per group of 8, then the column walks as on the CPU. kl on
// the device holds the call's rows only (index 0: the row of element 0 of the call).

struct FusionArgs {
  const char *a;
  int32_t ad;
  const char *b;
  int32_t bd;
  const float *kl;
  int64_t row_length;
  int64_t q0;  // column of the call's element 0 plus the piece's first element
};

// |b - a| (sign bit cleared) if that is a NaN, else times the row's KL; one f32 operation each (x86 NaN rules).
__host__ __device__ __forceinline__ float fusion_importance(float a, float b, float kl) {
  const float m = abs_bits(x86_sub(b, a));
  return is_nan(m) ? m : x86_mul(m, kl);
}

// The sortable key: its signed order is the float order.
__host__ __device__ __forceinline__ uint32_t fusion_key(float f) {
  const int32_t bits = static_cast<int32_t>(f32_bits(f));
  return static_cast<uint32_t>(bits ^ ((bits >> 31) & 0x7fffffff));
}

// Group g of a piece of n elements: elements [8g, 8g + count), count <= 8 returned; a, b and the importances.
__host__ __device__ __forceinline__ int fusion_group(const FusionArgs &f, int64_t n, int64_t g, float *x, float *y,
                                                     float *importance) {
  const int64_t i = g * kVector;
  const int count = n - i < kVector ? static_cast<int>(n - i) : kVector;
  if (count == kVector) {
    load8(f.a, f.ad, i, x);
    load8(f.b, f.bd, i, y);
  } else {
    AMALGAM_METHODS_UNROLL
    for (int k = 0; k < kVector; ++k) {  // fixed bounds keep the arrays in registers
      x[k] = k < count ? load_scalar(f.a, f.ad, i + k) : 0.0f;
      y[k] = k < count ? load_scalar(f.b, f.bd, i + k) : 0.0f;
    }
  }
  const int64_t q = f.q0 + i;
  int64_t row = q / f.row_length;
  int64_t column = q - row * f.row_length;
  AMALGAM_METHODS_UNROLL
  for (int k = 0; k < kVector; ++k) {
    importance[k] = k < count ? fusion_importance(x[k], y[k], f.kl[row]) : 0.0f;
    if (++column == f.row_length) {
      column = 0;
      ++row;
    }
  }
  return count;
}

// The selected value of one element: a + (b - a) where the importance reaches the threshold, else a.
__host__ __device__ __forceinline__ float fusion_pick(float x, float y, float importance, float threshold) {
  return importance >= threshold ? x86_add(x, x86_sub(y, x)) : x;
}

__host__ __device__ __forceinline__ void fusion_select_group(const FusionArgs &f, int64_t n, int64_t g, float threshold,
                                                             char *out, int32_t od) {
  float x[kVector], y[kVector], importance[kVector], v[kVector];
  const int count = fusion_group(f, n, g, x, y, importance);
  AMALGAM_METHODS_UNROLL
  for (int k = 0; k < kVector; ++k) v[k] = fusion_pick(x[k], y[k], importance[k], threshold);
  if (count == kVector) {
    store8(out, od, g * kVector, v);
  } else {
    AMALGAM_METHODS_UNROLL
    for (int k = 0; k < kVector; ++k) {
      if (k < count) store_scalar(out, od, g * kVector + k, v[k]);
    }
  }
}

// Low pass: histograms[j * 65536 + low] += 1 for every j with buckets[j] == top (equal buckets each count).
template <class Add>
__host__ __device__ __forceinline__ void fusion_count_low(uint32_t key, const uint8_t *chosen, int32_t bucket_count,
                                                          const int32_t *buckets, Add &&add) {
  const int32_t top = static_cast<int32_t>(key >> 16);
  if (chosen[top] == 0) return;  // the usual case: few elements fall in the chosen buckets
  for (int32_t j = 0; j < bucket_count; ++j) {
    if (buckets[j] == top) add(static_cast<int64_t>(j) * AMALGAM_MAGNITUDE_BUCKETS + (key & 0xffffu));
  }
}

constexpr uint32_t kNoBin = 0xffffffffu;

// histogram[bin] += 1 for each lane's bin (kNoBin: none), one atomic per distinct bin of the warp. Every lane of the
// warp must call it (the loops below are warp-uniform).
__device__ __forceinline__ void warp_count(unsigned long long *histogram, uint32_t bin) {
  const unsigned peers = __match_any_sync(0xffffffffu, bin);
  const int lane = static_cast<int>(threadIdx.x & 31u);
  if (bin != kNoBin && __ffs(peers) - 1 == lane)
    atomicAdd(histogram + bin, static_cast<unsigned long long>(__popc(peers)));
}

__global__ void fusion_high_kernel(FusionArgs f, int64_t n, unsigned long long *histogram) {
  const int64_t groups = (n + kVector - 1) / kVector;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int lane = static_cast<int>(threadIdx.x & 31u);
  // g0 is the warp's first group: the same in every lane, so all lanes run every iteration (warp_count).
  for (int64_t g0 = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x - lane; g0 < groups; g0 += stride) {
    const int64_t g = g0 + lane;
    float x[kVector], y[kVector], importance[kVector];
    const int count = g < groups ? fusion_group(f, n, g, x, y, importance) : 0;
    AMALGAM_METHODS_UNROLL
    for (int k = 0; k < kVector; ++k) warp_count(histogram, k < count ? fusion_key(importance[k]) >> 16 : kNoBin);
  }
}

__global__ void fusion_low_kernel(FusionArgs f, int64_t n, const uint8_t *chosen, int32_t bucket_count,
                                  const int32_t *buckets, unsigned long long *histograms) {
  const int64_t groups = (n + kVector - 1) / kVector;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride) {
    float x[kVector], y[kVector], importance[kVector];
    const int count = fusion_group(f, n, g, x, y, importance);
#pragma unroll
    for (int k = 0; k < kVector; ++k) {
      if (k >= count) break;
      fusion_count_low(fusion_key(importance[k]), chosen, bucket_count, buckets,
                       [&](int64_t at) { atomicAdd(histograms + at, 1ull); });
    }
  }
}

__global__ void fusion_chosen_kernel(const int32_t *buckets, int32_t bucket_count, uint8_t *chosen) {
  for (int32_t j = blockIdx.x * blockDim.x + threadIdx.x; j < bucket_count; j += gridDim.x * blockDim.x) {
    chosen[buckets[j]] = 1;
  }
}

__global__ void fusion_select_kernel(FusionArgs f, int64_t n, float threshold, char *out, int32_t od) {
  const int64_t groups = (n + kVector - 1) / kVector;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride) {
    fusion_select_group(f, n, g, threshold, out, od);
  }
}

// The device copy of the call's kl rows and of the counters (the caller's, which the kernels add to); the fusion
// entries share it. Returns false after a recorded error.
struct FusionSetup {
  float *kl = nullptr;
  unsigned long long *histogram = nullptr;
  int32_t *buckets = nullptr;
  uint8_t *chosen = nullptr;
};

bool fusion_setup(int64_t n, int64_t row, int64_t column, int64_t row_length, const float *kl, const int64_t *histogram,
                  int64_t histogram_bins, int32_t bucket_count, const int32_t *buckets, FusionSetup *s) {
  const int64_t kl_rows = (column + n - 1) / row_length + 1;
  const int64_t hist_bytes = round256(histogram_bins * 8);
  const int64_t kl_bytes = round256(kl_rows * 4);
  const int64_t bucket_bytes = round256(static_cast<int64_t>(bucket_count) * 4);
  const int64_t chosen_bytes = bucket_count > 0 ? AMALGAM_MAGNITUDE_BUCKETS : 0;
  char *scratch = static_cast<char *>(device_scratch(hist_bytes + kl_bytes + bucket_bytes + chosen_bytes));
  if (scratch == nullptr) return false;
  s->histogram = histogram_bins > 0 ? reinterpret_cast<unsigned long long *>(scratch) : nullptr;
  s->kl = reinterpret_cast<float *>(scratch + hist_bytes);
  s->buckets = bucket_count > 0 ? reinterpret_cast<int32_t *>(scratch + hist_bytes + kl_bytes) : nullptr;
  s->chosen = bucket_count > 0 ? reinterpret_cast<uint8_t *>(scratch + hist_bytes + kl_bytes + bucket_bytes) : nullptr;
  cudaStream_t ms = main_stream();
  auto fail = [](cudaError_t e) {
    record_error(e);
    return false;
  };
  cudaError_t e = cudaMemcpyAsync(s->kl, kl + row, static_cast<size_t>(kl_rows) * 4, cudaMemcpyHostToDevice, ms);
  if (e != cudaSuccess) return fail(e);
  if (histogram_bins > 0) {
    e = cudaMemcpyAsync(s->histogram, histogram, static_cast<size_t>(histogram_bins) * 8, cudaMemcpyHostToDevice, ms);
    if (e != cudaSuccess) return fail(e);
  }
  if (bucket_count > 0) {
    e = cudaMemcpyAsync(s->buckets, buckets, static_cast<size_t>(bucket_count) * 4, cudaMemcpyHostToDevice, ms);
    if (e == cudaSuccess) e = cudaMemsetAsync(s->chosen, 0, AMALGAM_MAGNITUDE_BUCKETS, ms);
    if (e != cudaSuccess) return fail(e);
    fusion_chosen_kernel<<<grid_for(bucket_count), kThreads, 0, ms>>>(s->buckets, bucket_count, s->chosen);
    if (!launched()) return false;
  }
  // The pieces also run on the second stream.
  e = cudaStreamSynchronize(ms);
  if (e != cudaSuccess) return fail(e);
  return true;
}

// Copies the counters back over the caller's (they started as the caller's).
void fusion_finish(const FusionSetup &s, int64_t *histogram, int64_t histogram_bins) {
  cudaStream_t ms = main_stream();
  AMALGAM_CUDA_TRY(
      cudaMemcpyAsync(histogram, s.histogram, static_cast<size_t>(histogram_bins) * 8, cudaMemcpyDeviceToHost, ms));
  AMALGAM_CUDA_TRY(cudaStreamSynchronize(ms));
}

// Runs launch(stream, args, piece length) over staged pieces of a and b (and out when given).
template <class Launch>
bool fusion_staged(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t column, int64_t row_length,
                   const float *device_kl, void *out, int32_t od, Launch &&launch) {
  const HostArray arrays[3] = {
      {a, nullptr, dtype_bytes(ad), 1, 0}, {b, nullptr, dtype_bytes(bd), 1, 0}, {nullptr, out, dtype_bytes(od), 1, 0}};
  return staged_call(n, kVector, 0, arrays, out != nullptr ? 3 : 2,
                     [&](cudaStream_t s, const DeviceArray *d, int64_t first, int64_t len) {
                       const FusionArgs f{d[0].data, ad, d[1].data, bd, device_kl, row_length, column + first};
                       launch(s, f, out != nullptr ? d[2].data : nullptr, len);
                     });
}

// ------------------------------------------------------------------------------------------------ nearswap
// Contract point 9, bit for bit: Java's Math.max / Math.min (a NaN operand is returned, -0 < +0) and the x86 NaN
// rules of every f32 operation.

constexpr float kNearSwapMinDistance = 1e-6f;

__host__ __device__ __forceinline__ float nearswap_element(float b, float x, float t) {
  const float distance = abs_bits(x86_sub(b, x));
  const float m = distance < kNearSwapMinDistance ? kNearSwapMinDistance : distance;  // max: a NaN stays
  float w = x86_div(t, m);
  w = (w < 1.0f || is_nan(w)) ? w : 1.0f;  // min(1, w)
  w = (w > 0.0f || is_nan(w)) ? w : 0.0f;  // max(+0, w): -0 becomes +0
  if (is_nan(w)) return w;
  return x86_fma(w, x, x86_mul(x86_sub(1.0f, w), b));
}

__host__ __device__ __forceinline__ void nearswap_group(const char *base, int32_t bd, const char *other, int32_t xd,
                                                        float t, char *out, int32_t od, int64_t n, int64_t g) {
  const int64_t i = g * kVector;
  if (i + kVector <= n) {
    float b[kVector], x[kVector], v[kVector];
    load8(base, bd, i, b);
    load8(other, xd, i, x);
    for (int k = 0; k < kVector; ++k) v[k] = nearswap_element(b[k], x[k], t);
    store8(out, od, i, v);
  } else {
    for (int64_t e = i; e < n; ++e) {
      store_scalar(out, od, e, nearswap_element(load_scalar(base, bd, e), load_scalar(other, xd, e), t));
    }
  }
}

__global__ void nearswap_kernel(const char *base, int32_t bd, const char *other, int32_t xd, float t, char *out,
                                int32_t od, int64_t n) {
  const int64_t groups = (n + kVector - 1) / kVector;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride) {
    nearswap_group(base, bd, other, xd, t, out, od, n, g);
  }
}

}  // namespace

// ------------------------------------------------------------------------------------------------ table entries

void della_mask(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, int64_t row, double density,
                double epsilon, float *values, uint64_t *keys, float *uniforms) {
  (void)keys;  // host scratch of the CPU path
  (void)uniforms;
  if (n <= 0 || row < 1) return;
  const DellaP p{row, density - epsilon, 2.0 * epsilon, static_cast<double>(row - 1)};
  // Whole rows per piece; the scratch below is sized for the largest piece staged() can make.
  const int64_t max_piece = std::max<int64_t>(1, kDellaPiece / row) * row;
  const int64_t piece_cap = std::min(max_piece, n);
  const int end_bit = 31 + bit_length(static_cast<uint64_t>(piece_cap / row - 1));
  // One half per stream, as staged() runs pieces on main_stream() and a second stream at once: keys and their sort
  // buffer, indices and theirs, CUB's storage.
  size_t temp_bytes = 0;
  int64_t half_bytes = 0;
  char *scratch = nullptr;
  if (row > 1) {
    cub::DoubleBuffer<uint64_t> k(nullptr, nullptr);
    cub::DoubleBuffer<uint32_t> v(nullptr, nullptr);
    cudaError_t e = cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, k, v, static_cast<int>(piece_cap), 0, end_bit);
    if (e != cudaSuccess) {
      record_error(e);
      return;
    }
    half_bytes = 2 * round256(piece_cap * 8) + 2 * round256(piece_cap * 4) + round256(static_cast<int64_t>(temp_bytes));
    scratch = static_cast<char *>(device_scratch(2 * half_bytes));
    if (scratch == nullptr) return;
  }
  const cudaStream_t ms = main_stream();
  const HostArray arrays[1] = {{values, values, 4, 1, 0}};
  staged_call(n, row, max_piece, arrays, 1, [&](cudaStream_t s, const DeviceArray *d, int64_t start, int64_t len) {
    float *v = d[0].row<float>(0);
    const uint32_t *rank = nullptr;
    if (row > 1) {
      char *half = scratch + (s == ms ? 0 : half_bytes);
      auto *keys0 = reinterpret_cast<uint64_t *>(half);
      auto *keys1 = reinterpret_cast<uint64_t *>(half + round256(piece_cap * 8));
      auto *index0 = reinterpret_cast<uint32_t *>(half + 2 * round256(piece_cap * 8));
      auto *index1 = reinterpret_cast<uint32_t *>(half + 2 * round256(piece_cap * 8) + round256(piece_cap * 4));
      void *temp = half + 2 * round256(piece_cap * 8) + 2 * round256(piece_cap * 4);
      const auto items = static_cast<uint32_t>(len);
      della_keys_kernel<<<grid_for(len / 4 + 1), kThreads, 0, s>>>(v, items, static_cast<uint32_t>(row), keys0, index0);
      if (!launched()) return;
      cub::DoubleBuffer<uint64_t> k(keys0, keys1);
      cub::DoubleBuffer<uint32_t> index(index0, index1);
      size_t need = 0;
      cudaError_t e = cub::DeviceRadixSort::SortPairs(nullptr, need, k, index, static_cast<int>(len), 0, end_bit, s);
      if (e == cudaSuccess && need > temp_bytes) e = cudaErrorInvalidValue;  // never: len <= piece_cap
      if (e == cudaSuccess) {
        size_t bytes = temp_bytes;
        e = cub::DeviceRadixSort::SortPairs(temp, bytes, k, index, static_cast<int>(len), 0, end_bit, s);
      }
      if (e != cudaSuccess) {
        record_error(e);
        return;
      }
      // The keys are no longer needed: their first buffer takes the ranks.
      auto *ranks = reinterpret_cast<uint32_t *>(keys0);
      della_rank_kernel<<<grid_for(len), kThreads, 0, s>>>(index.Current(), items, static_cast<uint32_t>(row), ranks);
      if (!launched()) return;
      rank = ranks;
    }
    della_decide_kernel<<<grid_for(len / 4 + 2), kThreads, 0, s>>>(v, len, first + start, rank, p, seed, stream_hash);
  });
}

void gram(int32_t count, const void *const *inputs, const int32_t *dtypes, const void *base, int32_t base_dtype,
          int64_t n, double *acc) {
  if (n <= 0 || count < 1 || count > AMALGAM_GRAM_MAX_INPUTS) return;
  GramArgs g{};
  g.count = count;
  g.sums = count * (count + 1) / 2;
  g.lanes = gram_lanes(g.sums);
  g.base_dtype = base_dtype;
  for (int k = 0; k < count; ++k) g.dtypes[k] = dtypes[k];
  // Windows of whole chunks bound the chunk sums kept on the device; the chain continues across them unchanged.
  const int64_t window_chunks = std::max<int64_t>(1, kGramPartialBytes / (8 * g.sums));
  const int64_t window = window_chunks * kGramChunk;
  const int64_t chunks = std::min(window_chunks, (n + kGramChunk - 1) / kGramChunk);
  const int64_t acc_bytes = round256(g.sums * 8);
  char *scratch = static_cast<char *>(device_scratch(acc_bytes + chunks * g.sums * 8));
  if (scratch == nullptr) return;
  auto *device_acc = reinterpret_cast<double *>(scratch);
  auto *partial = reinterpret_cast<double *>(scratch + acc_bytes);
  const cudaStream_t ms = main_stream();
  AMALGAM_CUDA_TRY(cudaMemcpyAsync(device_acc, acc, static_cast<size_t>(g.sums) * 8, cudaMemcpyHostToDevice, ms));
  const int arrays_count = count + (base != nullptr ? 1 : 0);
  for (int64_t w0 = 0; w0 < n; w0 += window) {
    const int64_t len = std::min(window, n - w0);
    HostArray arrays[AMALGAM_GRAM_MAX_INPUTS + 1];
    for (int k = 0; k < count; ++k) {
      arrays[k] = {static_cast<const char *>(inputs[k]) + w0 * dtype_bytes(dtypes[k]), nullptr, dtype_bytes(dtypes[k]),
                   1, 0};
    }
    if (base != nullptr) {
      arrays[count] = {static_cast<const char *>(base) + w0 * dtype_bytes(base_dtype), nullptr, dtype_bytes(base_dtype),
                       1, 0};
    }
    const bool ok = staged_call(len, kGramChunk, 0, arrays, arrays_count,
                                [&](cudaStream_t s, const DeviceArray *d, int64_t first, int64_t piece) {
                                  GramArgs a = g;
                                  for (int k = 0; k < count; ++k) a.inputs[k] = d[k].data;
                                  a.base = base != nullptr ? d[count].data : nullptr;
                                  const int64_t piece_chunks = (piece + kGramChunk - 1) / kGramChunk;
                                  gram_chunks_kernel<<<grid_for(piece_chunks * kThreads), kThreads, 0, s>>>(
                                      a, piece, first / kGramChunk, partial);
                                });
    if (!ok) return;
    gram_chain_kernel<<<(g.sums + kThreads - 1) / kThreads, kThreads, 0, ms>>>(
        partial, (len + kGramChunk - 1) / kGramChunk, g.sums, device_acc);
    if (!launched()) return;
    // The next window's pieces (on both streams) overwrite the chunk sums.
    AMALGAM_CUDA_TRY(cudaStreamSynchronize(ms));
  }
  AMALGAM_CUDA_TRY(cudaMemcpyAsync(acc, device_acc, static_cast<size_t>(g.sums) * 8, cudaMemcpyDeviceToHost, ms));
  AMALGAM_CUDA_TRY(cudaStreamSynchronize(ms));
}

void fusion_histogram_high(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                           int64_t column, int64_t row_length, const float *kl, int64_t *histogram) {
  if (n <= 0) return;
  FusionSetup s;
  if (!fusion_setup(n, row, column, row_length, kl, histogram, AMALGAM_MAGNITUDE_BUCKETS, 0, nullptr, &s)) return;
  const bool ok = fusion_staged(a, a_dtype, b, b_dtype, n, column, row_length, s.kl, nullptr, a_dtype,
                                [&](cudaStream_t stream, const FusionArgs &f, char *, int64_t len) {
                                  fusion_high_kernel<<<grid_for((len + kVector - 1) / kVector), kThreads, 0, stream>>>(
                                      f, len, s.histogram);
                                });
  if (ok) fusion_finish(s, histogram, AMALGAM_MAGNITUDE_BUCKETS);
}

void fusion_histogram_low(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                          int64_t column, int64_t row_length, const float *kl, int32_t bucket_count,
                          const int32_t *buckets, int64_t *histograms) {
  if (n <= 0 || bucket_count < 1) return;
  const int64_t bins = static_cast<int64_t>(bucket_count) * AMALGAM_MAGNITUDE_BUCKETS;
  FusionSetup s;
  if (!fusion_setup(n, row, column, row_length, kl, histograms, bins, bucket_count, buckets, &s)) return;
  const bool ok = fusion_staged(a, a_dtype, b, b_dtype, n, column, row_length, s.kl, nullptr, a_dtype,
                                [&](cudaStream_t stream, const FusionArgs &f, char *, int64_t len) {
                                  fusion_low_kernel<<<grid_for((len + kVector - 1) / kVector), kThreads, 0, stream>>>(
                                      f, len, s.chosen, bucket_count, s.buckets, s.histogram);
                                });
  if (ok) fusion_finish(s, histograms, bins);
}

void fusion_select(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                   int64_t column, int64_t row_length, const float *kl, float threshold, void *out, int32_t out_dtype) {
  if (n <= 0) return;
  FusionSetup s;
  if (!fusion_setup(n, row, column, row_length, kl, nullptr, 0, 0, nullptr, &s)) return;
  fusion_staged(a, a_dtype, b, b_dtype, n, column, row_length, s.kl, out, out_dtype,
                [&](cudaStream_t stream, const FusionArgs &f, char *o, int64_t len) {
                  fusion_select_kernel<<<grid_for((len + kVector - 1) / kVector), kThreads, 0, stream>>>(
                      f, len, threshold, o, out_dtype);
                });
}

void nearswap(const void *base, int32_t base_dtype, const void *other, int32_t other_dtype, float t, void *out,
              int32_t out_dtype, int64_t n, int32_t flags) {
  (void)flags;  // non-temporal stores are a CPU matter
  const HostArray arrays[3] = {{base, nullptr, dtype_bytes(base_dtype), 1, 0},
                               {other, nullptr, dtype_bytes(other_dtype), 1, 0},
                               {nullptr, out, dtype_bytes(out_dtype), 1, 0}};
  staged_call(n, kVector, 0, arrays, 3, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
    nearswap_kernel<<<grid_for((len + kVector - 1) / kVector), kThreads, 0, s>>>(
        d[0].data, base_dtype, d[1].data, other_dtype, t, d[2].data, out_dtype, len);
  });
}

}  // namespace cuda
}  // namespace amalgam
