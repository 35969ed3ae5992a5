// CUDA mirrors of the SCE kernels (amalgam.h contract point 9; the CPU code is sce.h) over staged host arrays.
// Keys, histograms and the merge give the CPU kernels' bits; the square sums use a fixed-shape tree in double (see
// square_block_sum), deterministic but not the CPU's single chain.
#include <cuda_runtime.h>

#include <algorithm>
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>

#include "cuda_common.cuh"

namespace amalgam {
namespace cuda {
namespace {

// sce.h's constants: Java's floatToIntBits of every NaN, and mergekit's floor of the merge divisor.
constexpr uint32_t kNanKey = 0x7fc00000u;
constexpr double kWeightFloor = 1e-6;
constexpr int64_t kBuckets = AMALGAM_MAGNITUDE_BUCKETS;
constexpr int kWarps = kThreads / 32;

// Elements per thread of the element kernels: one 16-byte load per row.
constexpr int kQuad = 4;
// Elements per selection tile (one quad per thread of a block). Each tile's count of keys equal to the threshold is
// scanned, so every element knows how many equal keys precede it in the call (contract point 9's counter).
constexpr int64_t kTile = static_cast<int64_t>(kThreads) * kQuad;
// Square sums: consecutive elements per thread and elements per reduction block (square_block_sum's tree).
constexpr int kRun = 16;
constexpr int64_t kSumBlock = static_cast<int64_t>(kThreads) * kRun;
// Largest piece of the selecting calls (a multiple of kSumBlock): bounds their per-piece scratch.
constexpr int64_t kMaxPiece = int64_t{1} << 22;

// ------------------------------------------------------------------------------------------------ element code

// v / models. For a power of two, v * (1 / models) rounds the same real number (contract point 9), and is faster.
struct PerModel {
  double models;
  double reciprocal;
  bool power_of_two;
  __host__ __device__ double of(double v) const { return power_of_two ? v * reciprocal : v / models; }
};

PerModel per_model(int32_t models) {
  return {static_cast<double>(models), 1.0 / static_cast<double>(models), (models & (models - 1)) == 0};
}

// One piece of the task-vector rows and the base: row k starts at x + k * pitch bytes.
struct Rows {
  const char *x;
  int64_t pitch;
  int32_t models;
  const float *b;
  __host__ __device__ const float *row(int32_t k) const { return reinterpret_cast<const float *>(x + k * pitch); }
};

// The first `valid` (<= 4) values at p, p 16-byte aligned when valid is 4; the rest read as 0. Bit copies only.
__host__ __device__ __forceinline__ void load4(const float *p, int valid, float (&v)[kQuad]) {
  if (valid == kQuad) {
    const float4 q = *reinterpret_cast<const float4 *>(p);
    v[0] = q.x;
    v[1] = q.y;
    v[2] = q.z;
    v[3] = q.w;
  } else {
    for (int l = 0; l < kQuad; ++l) v[l] = l < valid ? p[l] : 0.0f;
  }
}

__host__ __device__ __forceinline__ void load4(const int32_t *p, int valid, int32_t (&v)[kQuad]) {
  if (valid == kQuad) {
    const int4 q = *reinterpret_cast<const int4 *>(p);
    v[0] = q.x;
    v[1] = q.y;
    v[2] = q.z;
    v[3] = q.w;
  } else {
    for (int l = 0; l < kQuad; ++l) v[l] = l < valid ? p[l] : 0;
  }
}

__host__ __device__ __forceinline__ void load16(const float *p, int valid, float (&v)[kRun]) {
  if (valid == kRun) {
    for (int g = 0; g < kRun / 4; ++g) {
      const float4 q = reinterpret_cast<const float4 *>(p)[g];
      v[4 * g] = q.x;
      v[4 * g + 1] = q.y;
      v[4 * g + 2] = q.z;
      v[4 * g + 3] = q.w;
    }
  } else {
    for (int j = 0; j < kRun; ++j) v[j] = j < valid ? p[j] : 0.0f;
  }
}

// The keys of the `valid` elements at i (contract point 9: sce.h's sce_key_scalar, one operation at a time, never
// contracted under --fmad=false). A NaN's payload never reaches a key (every NaN key is kNanKey), so the plain
// double operations give the CPU's keys without the x86 NaN wrappers.
__host__ __device__ __forceinline__ void keys_quad(const Rows &r, int64_t i, int valid, const PerModel &per,
                                                   uint32_t (&keys)[kQuad]) {
  float v[kQuad];
  load4(r.b + i, valid, v);
  double b[kQuad], total[kQuad], variance[kQuad];
  for (int l = 0; l < kQuad; ++l) {
    b[l] = static_cast<double>(v[l]);
    total[l] = 0.0;
    variance[l] = 0.0;
  }
  for (int32_t k = 0; k < r.models; ++k) {
    load4(r.row(k) + i, valid, v);
    for (int l = 0; l < kQuad; ++l) total[l] = total[l] + (static_cast<double>(v[l]) - b[l]);
  }
  double mean[kQuad];
  for (int l = 0; l < kQuad; ++l) mean[l] = per.of(total[l]);
  for (int32_t k = 0; k < r.models; ++k) {
    load4(r.row(k) + i, valid, v);
    for (int l = 0; l < kQuad; ++l) {
      const double e = (static_cast<double>(v[l]) - b[l]) - mean[l];
      variance[l] = variance[l] + e * e;
    }
  }
  for (int l = 0; l < kQuad; ++l) {
    const float f = static_cast<float>(per.of(variance[l]));
    keys[l] = f != f ? kNanKey : f32_bits(f);
  }
}

// The selection of one element (contract point 9): rank is the count of keys equal to the threshold before it in the
// call, room = equal_kept - seen[0] at the call's start, so the counter s < e test is rank < room.
__host__ __device__ __forceinline__ bool selected(int32_t key, int32_t threshold, int64_t rank, int64_t room) {
  return key > threshold || (key == threshold && rank < room);
}

// out = the merge of the `valid` elements at i (sce.h's sce_merge_scalar), bit l of kept = element i + l kept. The
// sign test reads the total only as >= 0 and a NaN delta joins no sum, so those use plain operations; every value
// that can reach out goes through the x86 NaN rules.
__host__ __device__ __forceinline__ void merge_quad(const Rows &r, int64_t i, int valid, uint32_t kept,
                                                    const double *weights, float (&out)[kQuad]) {
  float v[kQuad];
  load4(r.b + i, valid, v);
  double b[kQuad], merged[kQuad];
  for (int l = 0; l < kQuad; ++l) {
    b[l] = x86_widen(v[l]);
    merged[l] = 0.0;
  }
  if (kept != 0) {
    double total[kQuad] = {0.0, 0.0, 0.0, 0.0};
    for (int32_t k = 0; k < r.models; ++k) {
      load4(r.row(k) + i, valid, v);
      for (int l = 0; l < kQuad; ++l) total[l] = total[l] + (static_cast<double>(v[l]) - b[l]);
    }
    bool positive[kQuad];
    for (int l = 0; l < kQuad; ++l) positive[l] = total[l] >= 0.0;
    double numerator[kQuad] = {0.0, 0.0, 0.0, 0.0}, divisor[kQuad] = {0.0, 0.0, 0.0, 0.0};
    for (int32_t k = 0; k < r.models; ++k) {
      const double w = weights[k];
      load4(r.row(k) + i, valid, v);
      for (int l = 0; l < kQuad; ++l) {
        const double d = static_cast<double>(v[l]) - b[l];
        if (positive[l] ? d > 0.0 : d < 0.0) {
          numerator[l] = x86_add(numerator[l], x86_mul(w, d));
          divisor[l] = x86_add(divisor[l], w);
        }
      }
    }
    for (int l = 0; l < kQuad; ++l) {
      // Java's Math.max(divisor, floor): a NaN divisor stays.
      if ((kept >> l) & 1u) merged[l] = x86_div(numerator[l], divisor[l] < kWeightFloor ? kWeightFloor : divisor[l]);
    }
  }
  for (int l = 0; l < kQuad; ++l) out[l] = x86_narrow(x86_add(b[l], merged[l]));
}

// -0.0 + the terms of the `valid` elements at xk in order: delta * delta if kept (bit j), else -0.0 (contract point 9's
// term). -0.0 is the identity of the addition, so this is the CPU chain over the run started at its first term.
__host__ __device__ __forceinline__ double square_run(const float *xk, const double (&b)[kRun], int valid,
                                                      uint32_t kept) {
  float v[kRun];
  load16(xk, valid, v);
  double s = -0.0;
  for (int j = 0; j < kRun; ++j) {
    if (j < valid) {
      const double d = x86_sub(x86_widen(v[j]), b[j]);
      s = x86_add(s, ((kept >> j) & 1u) ? x86_mul(d, d) : -0.0);
    }
  }
  return s;
}

// Bit j = flags[j] for the `valid` (<= 16) flags at p (16-byte aligned when valid is 16).
__host__ __device__ __forceinline__ uint32_t run_flags(const uint8_t *p, int valid) {
  uint32_t bits = 0;
  if (valid == kRun) {
    const uint4 q = *reinterpret_cast<const uint4 *>(p);
    const uint32_t w[4] = {q.x, q.y, q.z, q.w};
    for (int j = 0; j < kRun; ++j) bits |= ((w[j / 4] >> (8 * (j % 4))) & 1u) << j;
  } else {
    for (int j = 0; j < valid; ++j) bits |= static_cast<uint32_t>(p[j] & 1u) << j;
  }
  return bits;
}

__host__ __device__ __forceinline__ int valid_in(int64_t n, int64_t i, int width) {
  return i >= n ? 0 : (n - i < width ? static_cast<int>(n - i) : width);
}

// ------------------------------------------------------------------------------------------------ kernels

__global__ void keys_kernel(Rows r, int64_t n, PerModel per, int32_t *keys) {
  const int64_t quads = (n + kQuad - 1) / kQuad;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t q = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; q < quads; q += stride) {
    const int64_t i = q * kQuad;
    const int valid = valid_in(n, i, kQuad);
    uint32_t k[kQuad];
    keys_quad(r, i, valid, per, k);
    if (valid == kQuad) {
      *reinterpret_cast<int4 *>(keys + i) =
          make_int4(static_cast<int>(k[0]), static_cast<int>(k[1]), static_cast<int>(k[2]), static_cast<int>(k[3]));
    } else {
      for (int l = 0; l < valid; ++l) keys[i + l] = static_cast<int32_t>(k[l]);
    }
  }
}

// Adds 1 to counts[bucket] for each lane of the warp whose bucket is not kNoBucket, one atomic per distinct bucket
// (variance keys crowd into few buckets). Every lane of the warp must call it: the callers' loops are warp-uniform.
constexpr uint32_t kNoBucket = 0xffffffffu;

__device__ __forceinline__ void count_in_warp(unsigned long long *counts, uint32_t bucket) {
  const unsigned same = __match_any_sync(0xffffffffu, bucket);
  if (bucket != kNoBucket && (threadIdx.x & 31u) == static_cast<unsigned>(__ffs(same) - 1)) {
    atomicAdd(counts + bucket, static_cast<unsigned long long>(__popc(same)));
  }
}

// high: counts[key >> 16] per element, counts[kBuckets] += the non-zero keys, keys_out (unless null) the keys.
// low (high >= 0): counts[key & 0xffff] for the keys whose key >> 16 == high.
__global__ void histogram_kernel(Rows r, int64_t n, PerModel per, int64_t high, int32_t *keys_out,
                                 unsigned long long *counts) {
  using Reduce = cub::BlockReduce<unsigned long long, kThreads>;
  __shared__ typename Reduce::TempStorage temp;
  const int64_t quads = (n + kQuad - 1) / kQuad;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t lane = threadIdx.x & 31u;
  unsigned long long nonzero = 0;
  // q - lane is the warp's first quad: the whole warp runs the same iterations.
  for (int64_t q = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; q - lane < quads; q += stride) {
    const int64_t i = q * kQuad;
    const int valid = valid_in(n, i, kQuad);
    uint32_t k[kQuad] = {0, 0, 0, 0};
    if (valid > 0) keys_quad(r, i, valid, per, k);
    if (keys_out != nullptr) {
      if (valid == kQuad) {
        *reinterpret_cast<int4 *>(keys_out + i) =
            make_int4(static_cast<int>(k[0]), static_cast<int>(k[1]), static_cast<int>(k[2]), static_cast<int>(k[3]));
      } else {
        for (int l = 0; l < valid; ++l) keys_out[i + l] = static_cast<int32_t>(k[l]);
      }
    }
#pragma unroll
    for (int l = 0; l < kQuad; ++l) {
      uint32_t bucket = kNoBucket;
      if (l < valid) {
        if (high < 0) {
          bucket = k[l] >> 16;
          nonzero += k[l] != 0;
        } else if ((k[l] >> 16) == static_cast<uint32_t>(high)) {
          bucket = k[l] & 0xffffu;
        }
      }
      count_in_warp(counts, bucket);
    }
  }
  if (high < 0) {
    const unsigned long long block_nonzero = Reduce(temp).Sum(nonzero);
    if (threadIdx.x == 0 && block_nonzero != 0) atomicAdd(counts + kBuckets, block_nonzero);
  }
}

// tile_counts[t] = the keys equal to the threshold in tile t of the piece.
__global__ void equal_count_kernel(const int32_t *keys, int64_t n, int32_t threshold, int64_t *tile_counts) {
  using Reduce = cub::BlockReduce<int, kThreads>;
  __shared__ typename Reduce::TempStorage temp;
  const int64_t tiles = (n + kTile - 1) / kTile;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {  // block-uniform
    const int64_t i = tile * kTile + static_cast<int64_t>(threadIdx.x) * kQuad;
    const int valid = valid_in(n, i, kQuad);
    int32_t k[kQuad];
    load4(keys + i, valid, k);
    int equal = 0;
    for (int l = 0; l < valid; ++l) equal += k[l] == threshold;
    const int total = Reduce(temp).Sum(equal);
    if (threadIdx.x == 0) tile_counts[tile] = total;
    __syncthreads();  // temp is reused
  }
}

// One block: tile_counts becomes the count of equal keys in the call before each tile (running holds those before
// the piece), and running moves past the piece. The pieces' kernels run in piece order (PieceChain).
__global__ void tile_scan_kernel(int64_t *tile_counts, int64_t tiles, int64_t *running) {
  using Scan = cub::BlockScan<long long, kThreads>;
  __shared__ typename Scan::TempStorage temp;
  long long carry = *running;
  for (int64_t base = 0; base < tiles; base += kThreads) {
    const int64_t t = base + threadIdx.x;
    long long before = 0, aggregate = 0;
    Scan(temp).ExclusiveSum(t < tiles ? static_cast<long long>(tile_counts[t]) : 0LL, before, aggregate);
    if (t < tiles) tile_counts[t] = carry + before;
    carry += aggregate;
    __syncthreads();  // temp is reused
  }
  __syncthreads();  // every thread has read *running
  if (threadIdx.x == 0) *running = carry;
}

// flags[i] = element i is kept, in the call's element order (tile_offsets from tile_scan_kernel).
__global__ void select_kernel(const int32_t *keys, int64_t n, int32_t threshold, int64_t room,
                              const int64_t *tile_offsets, uint8_t *flags) {
  using Scan = cub::BlockScan<int, kThreads>;
  __shared__ typename Scan::TempStorage temp;
  const int64_t tiles = (n + kTile - 1) / kTile;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {  // block-uniform
    const int64_t i = tile * kTile + static_cast<int64_t>(threadIdx.x) * kQuad;
    const int valid = valid_in(n, i, kQuad);
    int32_t k[kQuad];
    load4(keys + i, valid, k);
    int equal = 0;
    for (int l = 0; l < valid; ++l) equal += k[l] == threshold;
    int before = 0;
    Scan(temp).ExclusiveSum(equal, before);
    int64_t rank = tile_offsets[tile] + before;
    uint32_t packed = 0;
    for (int l = 0; l < valid; ++l) {
      packed |= static_cast<uint32_t>(selected(k[l], threshold, rank, room)) << (8 * l);
      rank += k[l] == threshold;
    }
    if (valid == kQuad) {
      *reinterpret_cast<uint32_t *>(flags + i) = packed;
    } else {
      for (int l = 0; l < valid; ++l) flags[i + l] = static_cast<uint8_t>((packed >> (8 * l)) & 1u);
    }
    __syncthreads();  // temp is reused
  }
}

// flags null: every element kept when all, none otherwise.
__global__ void merge_kernel(Rows r, int64_t n, const uint8_t *flags, bool all, const double *weights, float *out) {
  const int64_t quads = (n + kQuad - 1) / kQuad;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t q = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; q < quads; q += stride) {
    const int64_t i = q * kQuad;
    const int valid = valid_in(n, i, kQuad);
    uint32_t kept = 0;
    if (flags != nullptr && valid == kQuad) {
      const uint32_t packed = *reinterpret_cast<const uint32_t *>(flags + i);  // 4-byte aligned: i % 4 == 0
      for (int l = 0; l < kQuad; ++l) kept |= ((packed >> (8 * l)) & 1u) << l;
    } else if (flags != nullptr) {
      for (int l = 0; l < valid; ++l) kept |= static_cast<uint32_t>(flags[i + l] & 1u) << l;
    } else if (all) {
      kept = (1u << valid) - 1u;
    }
    float o[kQuad];
    merge_quad(r, i, valid, kept, weights, o);
    if (valid == kQuad) {
      *reinterpret_cast<float4 *>(out + i) = make_float4(o[0], o[1], o[2], o[3]);
    } else {
      for (int l = 0; l < valid; ++l) out[i + l] = o[l];
    }
  }
}

// The sum of one block's runs in a fixed tree that keeps element order (valid on thread 0): lane l's run covers
// elements 16l .. 16l + 15 of its warp's 512; the warp adds neighbours pairwise (1, 2, 4, 8, 16 lanes apart, the
// lower half first), then thread 0 adds the 8 warps' sums in order. Each addition has the earlier elements on the
// left, so a NaN result is the first NaN term quieted, as in the CPU chain.
__device__ __forceinline__ double square_block_sum(double v, double *warp_sums) {
  for (int offset = 1; offset < 32; offset <<= 1) v = x86_add(v, __shfl_down_sync(0xffffffffu, v, offset));
  if ((threadIdx.x & 31u) == 0) warp_sums[threadIdx.x / 32] = v;
  __syncthreads();
  double s = 0.0;
  if (threadIdx.x == 0) {
    s = warp_sums[0];
    for (int w = 1; w < kWarps; ++w) s = x86_add(s, warp_sums[w]);
  }
  __syncthreads();  // warp_sums is reused
  return s;
}

// block_sums[k * blocks_total + first_block + blk] = the kept squares of row k in reduction block blk of the piece.
// flags null: every element kept.
__global__ void squares_kernel(Rows r, int64_t n, const uint8_t *flags, int64_t first_block, int64_t blocks_total,
                               double *block_sums) {
  __shared__ double warp_sums[kWarps];
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  for (int64_t blk = blockIdx.x; blk < blocks; blk += gridDim.x) {  // block-uniform
    const int64_t i = blk * kSumBlock + static_cast<int64_t>(threadIdx.x) * kRun;
    const int valid = valid_in(n, i, kRun);
    const uint32_t kept = flags != nullptr ? run_flags(flags + i, valid) : (1u << valid) - 1u;
    float v[kRun];
    load16(r.b + i, valid, v);
    double b[kRun];
    for (int j = 0; j < kRun; ++j) b[j] = x86_widen(v[j]);
    for (int32_t k = 0; k < r.models; ++k) {
      const double s = square_block_sum(square_run(r.row(k) + i, b, valid, kept), warp_sums);
      if (threadIdx.x == 0) block_sums[k * blocks_total + first_block + blk] = s;
    }
  }
}

// sums[k] += the block sums of row k in block order: one chain per model, on top of the caller's value.
__global__ void square_total_kernel(const double *block_sums, int64_t blocks, int32_t models, double *sums) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < models; k += stride) {
    double s = sums[k];
    for (int64_t blk = 0; blk < blocks; ++blk) s = x86_add(s, block_sums[k * blocks + blk]);
    sums[k] = s;
  }
}

// ------------------------------------------------------------------------------------------------ host side

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

bool ok(cudaError_t e) {
  if (e == cudaSuccess) return true;
  record_error(e);
  return false;
}

// 256-byte aligned regions of one scratch buffer.
struct Regions {
  int64_t bytes = 0;
  int64_t add(int64_t size) {
    const int64_t at = bytes;
    bytes += round_up(std::max<int64_t>(size, 1), 256);
    return at;
  }
};

// Runs the pieces' kernels in piece order across staged()'s two streams (each piece waits for the previous one's
// last kernel), for the equal-key count that crosses pieces; the copies still overlap the kernels. One event
// suffices: a wait binds to the record made before it, and the host issues the pieces in order.
struct PieceChain {
  cudaEvent_t event = nullptr;
  bool recorded = false;
  bool create() {
    if (ok(cudaEventCreateWithFlags(&event, cudaEventDisableTiming))) return true;
    event = nullptr;
    return false;
  }
  bool wait(cudaStream_t s) { return !recorded || ok(cudaStreamWaitEvent(s, event, 0)); }
  bool record(cudaStream_t s) {
    if (!ok(cudaEventRecord(event, s))) return false;
    recorded = true;
    return true;
  }
  ~PieceChain() {
    if (event != nullptr) cudaEventDestroy(event);
  }
  PieceChain() = default;
  PieceChain(const PieceChain &) = delete;
  PieceChain &operator=(const PieceChain &) = delete;
};

bool keeps_all(int32_t threshold) { return threshold < 0; }
bool keeps_none(int32_t threshold) { return threshold > static_cast<int32_t>(kNanKey); }

// equal_kept - seen, the equal keys the call may still take (0 when none), saturated.
int64_t room_of(int64_t seen, int64_t equal_kept) {
  if (seen >= equal_kept) return 0;
  int64_t room = 0;
  return __builtin_sub_overflow(equal_kept, seen, &room) ? INT64_MAX : room;
}

// The per-piece scratch of a selecting call, for pieces of at most `piece` elements.
struct SelectScratch {
  int64_t *running = nullptr;      // equal keys before the piece
  int64_t *tile_counts = nullptr;  // piece / kTile
  int32_t *keys = nullptr;         // the piece's keys when the caller gave none
  uint8_t *flags = nullptr;        // the piece's kept flags
  int64_t running_at = 0, tiles_at = 0, keys_at = 0, flags_at = 0;

  void plan(Regions &regions, int64_t piece, bool compute_keys) {
    running_at = regions.add(sizeof(int64_t));
    tiles_at = regions.add(piece / kTile * static_cast<int64_t>(sizeof(int64_t)));
    keys_at = compute_keys ? regions.add(piece * static_cast<int64_t>(sizeof(int32_t))) : -1;
    flags_at = regions.add(piece);
  }
  void place(char *base) {
    running = reinterpret_cast<int64_t *>(base + running_at);
    tile_counts = reinterpret_cast<int64_t *>(base + tiles_at);
    keys = keys_at >= 0 ? reinterpret_cast<int32_t *>(base + keys_at) : nullptr;
    flags = reinterpret_cast<uint8_t *>(base + flags_at);
  }
};

// The kept flags of one piece: keys (given, or computed into the scratch), the tiles' equal counts, their scan
// and the selection. Returns false after an error (recorded).
bool launch_selection(cudaStream_t s, const Rows &r, int64_t len, const PerModel &per, const int32_t *given,
                      const SelectScratch &scratch, int32_t threshold, int64_t room) {
  const int64_t tiles = (len + kTile - 1) / kTile;
  const int32_t *keys = given;
  if (keys == nullptr) {
    keys_kernel<<<grid_for((len + kQuad - 1) / kQuad), kThreads, 0, s>>>(r, len, per, scratch.keys);
    if (!launched()) return false;
    keys = scratch.keys;
  }
  equal_count_kernel<<<grid_for(tiles * kThreads), kThreads, 0, s>>>(keys, len, threshold, scratch.tile_counts);
  if (!launched()) return false;
  tile_scan_kernel<<<1, kThreads, 0, s>>>(scratch.tile_counts, tiles, scratch.running);
  if (!launched()) return false;
  select_kernel<<<grid_for(tiles * kThreads), kThreads, 0, s>>>(keys, len, threshold, room, scratch.tile_counts,
                                                                scratch.flags);
  return launched();
}

Rows rows_of(const DeviceArray *d, int32_t models) {
  return {d[0].data, d[0].row_pitch, models, d[1].row<const float>(0)};
}

// Both histograms: high < 0 is the high one.
void histogram(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int64_t high,
               int64_t *counts_out, int64_t *nonzero, int32_t *keys) {
  if (n <= 0 || failed()) return;
  const int64_t bytes = (kBuckets + 1) * static_cast<int64_t>(sizeof(unsigned long long));
  auto *counts = static_cast<unsigned long long *>(device_scratch(bytes));
  auto *host = static_cast<unsigned long long *>(host_scratch(bytes));
  if (counts == nullptr || host == nullptr) return;
  cudaStream_t main = main_stream();
  if (!ok(cudaMemsetAsync(counts, 0, static_cast<size_t>(bytes), main)) || !ok(cudaStreamSynchronize(main))) return;
  const PerModel per = per_model(models);
  const HostArray arrays[3] = {{x, nullptr, 4, models, stride}, {b, nullptr, 4, 1, 0}, {nullptr, keys, 4, 1, 0}};
  // Integer counts by atomics: pieces may run concurrently, in any order.
  const bool staged_ok = staged_call(
      n, kQuad, 0, arrays, keys != nullptr ? 3 : 2, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
        histogram_kernel<<<grid_for((len + kQuad - 1) / kQuad), kThreads, 0, s>>>(
            rows_of(d, models), len, per, high, keys != nullptr ? d[2].row<int32_t>(0) : nullptr, counts);
      });
  if (!staged_ok) return;
  if (!ok(cudaMemcpyAsync(host, counts, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost, main)) ||
      !ok(cudaStreamSynchronize(main))) {
    return;
  }
  for (int64_t j = 0; j < kBuckets; ++j) counts_out[j] += static_cast<int64_t>(host[j]);
  if (nonzero != nullptr) *nonzero += static_cast<int64_t>(host[kBuckets]);
}

}  // namespace

// ------------------------------------------------------------------------------------------------ table entries

void sce_variance_keys(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int32_t *keys) {
  const PerModel per = per_model(models);
  const HostArray arrays[3] = {{x, nullptr, 4, models, stride}, {b, nullptr, 4, 1, 0}, {nullptr, keys, 4, 1, 0}};
  staged_call(n, kQuad, 0, arrays, 3, [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
    keys_kernel<<<grid_for((len + kQuad - 1) / kQuad), kThreads, 0, s>>>(rows_of(d, models), len, per,
                                                                         d[2].row<int32_t>(0));
  });
}

void sce_histogram_high(int32_t models, const float *x, int64_t stride, const float *b, int64_t n,
                        int64_t *histogram_out, int64_t *nonzero, int32_t *keys) {
  histogram(models, x, stride, b, n, -1, histogram_out, nonzero, keys);
}

void sce_histogram_low(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int32_t high,
                       int64_t *histogram_out) {
  if (static_cast<uint32_t>(high) > (kNanKey >> 16)) return;  // no key has these high bits
  histogram(models, x, stride, b, n, high, histogram_out, nullptr, nullptr);
}

// Square sums: the terms (contract point 9) are exact per element, but the CPU's one chain of additions per model
// is replaced by a fixed tree: each reduction block of kSumBlock = 4096 elements, counted from the call's first
// element, is summed by square_block_sum's tree (runs of 16, pairwise over 32 lanes, 8 warps in order), and sums[k]
// then adds the blocks' sums in block order. The result depends only on the data and n, never on the GPU, the grid
// or the staging pieces. Against the CPU chain: NaN and infinite results are the same (the first NaN term's payload,
// quieted; an inf - inf with a caller's -inf sums[k] aside); a finite sum of the n non-negative terms differs by at
// most about (n + log2 n) * 2^-53 of its value (both orders' error bounds; typically ~sqrt(n) * 2^-53), e.g. 1.2e-10
// relative for an AMALGAM_DOT_SEGMENT.
void sce_square_sums(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys, int64_t n,
                     int32_t threshold, int64_t equal_kept, int64_t *seen, double *sums) {
  if (n <= 0 || keeps_none(threshold) || failed()) return;
  const bool select = !keeps_all(threshold);
  const int64_t blocks_total = (n + kSumBlock - 1) / kSumBlock;
  const int64_t piece = std::min(kMaxPiece, round_up(n, kSumBlock));
  Regions regions;
  const int64_t block_sums_at = regions.add(models * blocks_total * static_cast<int64_t>(sizeof(double)));
  const int64_t sums_at = regions.add(models * static_cast<int64_t>(sizeof(double)));
  SelectScratch scratch;
  if (select) scratch.plan(regions, piece, keys == nullptr);
  Regions host_regions;
  const int64_t host_sums_at = host_regions.add(models * static_cast<int64_t>(sizeof(double)));
  const int64_t host_running_at = host_regions.add(sizeof(int64_t));
  char *device = static_cast<char *>(device_scratch(regions.bytes));
  char *host = static_cast<char *>(host_scratch(host_regions.bytes));
  if (device == nullptr || host == nullptr) return;
  auto *block_sums = reinterpret_cast<double *>(device + block_sums_at);
  auto *device_sums = reinterpret_cast<double *>(device + sums_at);
  auto *host_sums = reinterpret_cast<double *>(host + host_sums_at);
  auto *host_running = reinterpret_cast<int64_t *>(host + host_running_at);
  if (select) scratch.place(device);

  cudaStream_t main = main_stream();
  std::memcpy(host_sums, sums, static_cast<size_t>(models) * sizeof(double));
  if (!ok(cudaMemcpyAsync(device_sums, host_sums, static_cast<size_t>(models) * sizeof(double), cudaMemcpyHostToDevice,
                          main))) {
    return;
  }
  if (select && !ok(cudaMemsetAsync(scratch.running, 0, sizeof(int64_t), main))) return;
  if (!ok(cudaStreamSynchronize(main))) return;

  const int64_t room = select ? room_of(*seen, equal_kept) : 0;
  const PerModel per = per_model(models);
  const HostArray arrays[3] = {{x, nullptr, 4, models, stride}, {b, nullptr, 4, 1, 0}, {keys, nullptr, 4, 1, 0}};
  PieceChain chain;
  if (select && !chain.create()) return;
  const bool staged_ok =
      staged_call(n, kSumBlock, kMaxPiece, arrays, keys != nullptr && select ? 3 : 2,
                  [&](cudaStream_t s, const DeviceArray *d, int64_t first, int64_t len) {
                    const Rows r = rows_of(d, models);
                    if (select) {
                      if (!chain.wait(s)) return;
                      const int32_t *given = keys != nullptr ? d[2].row<const int32_t>(0) : nullptr;
                      if (!launch_selection(s, r, len, per, given, scratch, threshold, room)) return;
                    }
                    squares_kernel<<<grid_for((len + kSumBlock - 1) / kSumBlock * kThreads), kThreads, 0, s>>>(
                        r, len, select ? scratch.flags : nullptr, first / kSumBlock, blocks_total, block_sums);
                    if (!launched()) return;
                    if (select) chain.record(s);
                  });
  if (!staged_ok) return;
  // staged() has synchronised both streams: every block sum is in place.
  square_total_kernel<<<grid_for(models), kThreads, 0, main>>>(block_sums, blocks_total, models, device_sums);
  if (!launched()) return;
  if (!ok(cudaMemcpyAsync(host_sums, device_sums, static_cast<size_t>(models) * sizeof(double), cudaMemcpyDeviceToHost,
                          main))) {
    return;
  }
  if (select && !ok(cudaMemcpyAsync(host_running, scratch.running, sizeof(int64_t), cudaMemcpyDeviceToHost, main))) {
    return;
  }
  if (!ok(cudaStreamSynchronize(main))) return;
  std::memcpy(sums, host_sums, static_cast<size_t>(models) * sizeof(double));
  if (select && room > 0) *seen += std::min(room, *host_running);
}

// The merge: bit-identical to the CPU per element, and seen[0] as the CPU leaves it.
void sce_merge(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys, int64_t n,
               int32_t threshold, int64_t equal_kept, int64_t *seen, const double *weights, float *out) {
  if (n <= 0 || failed()) return;
  const bool select = !keeps_all(threshold) && !keeps_none(threshold);
  const int64_t piece = std::min(kMaxPiece, round_up(n, kTile));
  Regions regions;
  const int64_t weights_at = regions.add(models * static_cast<int64_t>(sizeof(double)));
  SelectScratch scratch;
  if (select) scratch.plan(regions, piece, keys == nullptr);
  Regions host_regions;
  const int64_t host_weights_at = host_regions.add(models * static_cast<int64_t>(sizeof(double)));
  const int64_t host_running_at = host_regions.add(sizeof(int64_t));
  char *device = static_cast<char *>(device_scratch(regions.bytes));
  char *host = static_cast<char *>(host_scratch(host_regions.bytes));
  if (device == nullptr || host == nullptr) return;
  auto *device_weights = reinterpret_cast<double *>(device + weights_at);
  auto *host_weights = reinterpret_cast<double *>(host + host_weights_at);
  auto *host_running = reinterpret_cast<int64_t *>(host + host_running_at);
  if (select) scratch.place(device);

  cudaStream_t main = main_stream();
  std::memcpy(host_weights, weights, static_cast<size_t>(models) * sizeof(double));
  if (!ok(cudaMemcpyAsync(device_weights, host_weights, static_cast<size_t>(models) * sizeof(double),
                          cudaMemcpyHostToDevice, main))) {
    return;
  }
  if (select && !ok(cudaMemsetAsync(scratch.running, 0, sizeof(int64_t), main))) return;
  if (!ok(cudaStreamSynchronize(main))) return;

  const bool all = keeps_all(threshold);
  const int64_t room = select ? room_of(*seen, equal_kept) : 0;
  const PerModel per = per_model(models);
  const HostArray arrays[4] = {
      {x, nullptr, 4, models, stride}, {b, nullptr, 4, 1, 0}, {nullptr, out, 4, 1, 0}, {keys, nullptr, 4, 1, 0}};
  PieceChain chain;
  if (select && !chain.create()) return;
  const bool staged_ok =
      staged_call(n, kTile, kMaxPiece, arrays, keys != nullptr && select ? 4 : 3,
                  [&](cudaStream_t s, const DeviceArray *d, int64_t, int64_t len) {
                    const Rows r = rows_of(d, models);
                    if (select) {
                      if (!chain.wait(s)) return;
                      const int32_t *given = keys != nullptr ? d[3].row<const int32_t>(0) : nullptr;
                      if (!launch_selection(s, r, len, per, given, scratch, threshold, room)) return;
                    }
                    merge_kernel<<<grid_for((len + kQuad - 1) / kQuad), kThreads, 0, s>>>(
                        r, len, select ? scratch.flags : nullptr, all, device_weights, d[2].row<float>(0));
                    if (!launched()) return;
                    if (select) chain.record(s);
                  });
  if (!staged_ok || !select) return;
  if (!ok(cudaMemcpyAsync(host_running, scratch.running, sizeof(int64_t), cudaMemcpyDeviceToHost, main)) ||
      !ok(cudaStreamSynchronize(main))) {
    return;
  }
  if (room > 0) *seen += std::min(room, *host_running);
}

}  // namespace cuda
}  // namespace amalgam
