// The task-arithmetic kernels (contract point 8 of amalgam.h): magnitude histograms, Philox4x32-10 uniforms and
// Bernoulli masks, and the sign-consensus / plain merges. Each ISA translation unit includes this header once;
// the vector code is chosen by the flags that unit is compiled with (__AVX512F__, __AVX2__), and every path
// falls back to the scalar functions below for heads and tails, which compute the same bits.
// Everything sits in an anonymous namespace (kernels.h, docs/native.md pitfall 9).
// The CUDA sources (native/src/cuda) include it for the scalar element code marked AMALGAM_HD; under nvcc the
// vector code and the per-ISA kernels are left out.
#ifndef AMALGAM_TASK_ARITHMETIC_H
#define AMALGAM_TASK_ARITHMETIC_H

#include <cstdint>
#include <cstring>

#include "scalar_math.h"  // AMALGAM_HD

#if (defined(__AVX2__) || defined(__AVX512F__)) && !defined(__CUDACC__)
#include <immintrin.h>
#endif

namespace amalgam {
namespace {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

AMALGAM_HD static inline uint32_t ta_abs_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u & 0x7fffffffu;
}

// ---- scalar reference ----

static inline void ta_histogram_high_scalar(const float *v, int64_t from, int64_t to, int64_t *histogram) {
  for (int64_t i = from; i < to; ++i) ++histogram[ta_abs_bits(v[i]) >> 16];
}

static inline void ta_histogram_low_scalar(const float *v, int64_t from, int64_t to, uint32_t high,
                                           int64_t *histogram) {
  for (int64_t i = from; i < to; ++i) {
    const uint32_t bits = ta_abs_bits(v[i]);
    if ((bits >> 16) == high) ++histogram[bits & 0xffffu];
  }
}

// Philox4x32-10 of one counter block (Random123's philox4x32_R(10, ctr, key)).
AMALGAM_HD static inline void ta_philox_block(uint64_t block, uint64_t hash, uint64_t seed, uint32_t out[4]) {
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32);
  uint32_t c2 = static_cast<uint32_t>(hash), c3 = static_cast<uint32_t>(hash >> 32);
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// sink(i, m) for i in [from, to): m = the 24-bit mantissa (word >> 8) of element first + i.
template <class Sink>
static inline void ta_philox_scalar(uint64_t seed, uint64_t hash, int64_t first, int64_t from, int64_t to, Sink &sink) {
  uint32_t words[4];
  int64_t current = -1;
  for (int64_t i = from; i < to; ++i) {
    const int64_t e = first + i;
    const int64_t b = e >> 2;
    if (b != current) {
      ta_philox_block(static_cast<uint64_t>(b), hash, seed, words);
      current = b;
    }
    sink(i, words[e & 3] >> 8);
  }
}

struct UniformSink {
  float *out;
  void operator()(int64_t i, uint32_t m) const { out[i] = static_cast<float>(m) * 0x1p-24f; }
};

// keep iff m < threshold (the dispatcher turns u < p into this exact integer test).
struct KeepSink {
  float *values;
  uint32_t threshold;
  // Branch-free: with p near 1/2 the keep decision is a coin flip, and a branch on it mispredicts every other
  // element (it cost ~5 ns per element). A dropped value becomes +0, a kept one keeps its bits.
  void operator()(int64_t i, uint32_t m) const {
    uint32_t bits;
    std::memcpy(&bits, values + i, sizeof bits);
    bits &= 0u - static_cast<uint32_t>(m < threshold);
    std::memcpy(values + i, &bits, sizeof bits);
  }
};

// The threshold walk of one element (MagnitudeSelection.Cursor): in the top set iff bits > t, or bits == t
// while fewer than equal_kept equal elements were seen before it (then it counts as seen).
AMALGAM_HD static inline bool ta_in_top(uint32_t bits, int32_t t, int64_t equal_kept, int64_t *seen) {
  const int32_t b = static_cast<int32_t>(bits);
  if (b > t) return true;
  if (b == t && *seen < equal_kept) {
    ++*seen;
    return true;
  }
  return false;
}

// Of the lanes in equal (bit l = lane l) that equal a threshold, the ones it takes in lane order: all while fewer
// than equal_kept were counted, then none; *seen advances by the lanes taken (the scalar walk, one vector at once).
static inline uint32_t ta_take_equal(uint32_t equal, int64_t equal_kept, int64_t *seen) {
  if (equal == 0) return 0;
  const int64_t room = equal_kept - *seen;
  const int64_t lanes = __builtin_popcount(equal);
  if (lanes <= room) {
    *seen += lanes;
    return equal;
  }
  uint32_t taken = 0;
  for (int64_t j = 0; j < room; ++j) {
    const uint32_t lowest = equal & (0u - equal);
    taken |= lowest;
    equal ^= lowest;
  }
  if (room > 0) *seen += room;
  return taken;
}

static inline void ta_magnitude_mask_scalar(float *v, int64_t from, int64_t to, int32_t keep_bits, int64_t keep_equal,
                                            int32_t drop_bits, int64_t drop_equal, int64_t *seen) {
  for (int64_t i = from; i < to; ++i) {
    const uint32_t bits = ta_abs_bits(v[i]);
    const bool kept = ta_in_top(bits, keep_bits, keep_equal, &seen[0]);
    const bool dropped = ta_in_top(bits, drop_bits, drop_equal, &seen[1]);
    if (!kept || dropped) v[i] = 0.0f;
  }
}

static inline void ta_disjoint_scalar(int32_t models, const float *w, int64_t stride, const float *weights,
                                      int64_t from, int64_t to, bool normalize, const float *base, float lambda,
                                      float *out) {
  for (int64_t i = from; i < to; ++i) {
    float sum = 0.0f;
    for (int32_t k = 0; k < models; ++k) sum += w[k * stride + i];
    const bool positive = sum >= 0.0f;
    float mixed = 0.0f, divisor = 0.0f;
    for (int32_t k = 0; k < models; ++k) {
      const float v = w[k * stride + i];
      if (positive ? v > 0.0f : v < 0.0f) {
        mixed += v;
        divisor += weights[k];
      }
    }
    if (normalize) {
      if (divisor == 0.0f) divisor = 1.0f;
      mixed /= divisor;
    }
    if (lambda != 1.0f) mixed *= lambda;
    out[i] = base[i] + mixed;
  }
}

static inline void ta_plain_scalar(int32_t models, const float *w, int64_t stride, int64_t from, int64_t to,
                                   float divisor, const float *base, float lambda, float *out) {
  for (int64_t i = from; i < to; ++i) {
    float mixed = 0.0f;
    for (int32_t k = 0; k < models; ++k) mixed += w[k * stride + i];
    if (divisor != 1.0f) mixed /= divisor;
    if (lambda != 1.0f) mixed *= lambda;
    out[i] = base[i] + mixed;
  }
}

#if !defined(__CUDACC__)
// ---- vector traits: 16 lanes (AVX-512) or 8 lanes (AVX2) ----

#if defined(__AVX512F__)
struct TaVec {
  static constexpr int64_t kLanes = 16;
  using F = __m512;
  using I = __m512i;
  using M = __mmask16;
  static F loadf(const float *p) { return _mm512_loadu_ps(p); }
  static void storef(float *p, F v) { _mm512_storeu_ps(p, v); }
  static I loadi(const float *p) { return _mm512_loadu_si512(p); }
  static void storei(uint32_t *p, I v) { _mm512_storeu_si512(p, v); }
  static F zero() { return _mm512_setzero_ps(); }
  static F splat(float c) { return _mm512_set1_ps(c); }
  static I splati(uint32_t c) { return _mm512_set1_epi32(static_cast<int>(c)); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M eq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static M pick(M m, M a, M b) { return static_cast<M>((m & a) | (~m & b)); }
  static F select(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }  // m ? a : b
  static I band(I a, I b) { return _mm512_and_si512(a, b); }
  static I bxor(I a, I b) { return _mm512_xor_si512(a, b); }
  static I shr(I a, int s) { return _mm512_srli_epi32(a, s); }
  static I add32(I a, I b) { return _mm512_add_epi32(a, b); }
  static I mul_even(I a, I b) { return _mm512_mul_epu32(a, b); }
  static I shr64(I a) { return _mm512_srli_epi64(a, 32); }
  static I shl64(I a) { return _mm512_slli_epi64(a, 32); }
  static I odd_from(I even, I odd) { return _mm512_mask_blend_epi32(0xAAAA, even, odd); }
  static I iota() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  static F to_float(I a) { return _mm512_cvtepi32_ps(a); }
  static M igt(I a, I b) { return _mm512_cmpgt_epi32_mask(a, b); }
  static M ieq(I a, I b) { return _mm512_cmpeq_epi32_mask(a, b); }
  static bool any(M m) { return m != 0; }
  static uint32_t bits(M m) { return m; }
  static M from_bits(uint32_t b) { return static_cast<M>(b); }
  static M or_(M a, M b) { return static_cast<M>(a | b); }
  // keep && !drop ? v : +0
  static F keep_only(M keep, M drop, F v) { return _mm512_maskz_mov_ps(static_cast<M>(keep & ~drop), v); }
  // Positions of the lanes whose high 16 bits equal high, packed to the front of out; returns their count.
  static int matches_low(I bits, I high, uint32_t *out) {
    const M m = _mm512_cmpeq_epi32_mask(_mm512_srli_epi32(bits, 16), high);
    if (m == 0) return 0;
    _mm512_storeu_si512(out, _mm512_maskz_compress_epi32(m, _mm512_and_si512(bits, _mm512_set1_epi32(0xffff))));
    return __builtin_popcount(m);
  }
};
#define AMALGAM_TA_SIMD 1
#elif defined(__AVX2__)
struct TaVec {
  static constexpr int64_t kLanes = 8;
  using F = __m256;
  using I = __m256i;
  using M = __m256;
  static F loadf(const float *p) { return _mm256_loadu_ps(p); }
  static void storef(float *p, F v) { _mm256_storeu_ps(p, v); }
  static I loadi(const float *p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)); }
  static void storei(uint32_t *p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), v); }
  static F zero() { return _mm256_setzero_ps(); }
  static F splat(float c) { return _mm256_set1_ps(c); }
  static I splati(uint32_t c) { return _mm256_set1_epi32(static_cast<int>(c)); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static M gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M eq(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static M pick(M m, M a, M b) { return _mm256_blendv_ps(b, a, m); }
  static F select(M m, F a, F b) { return _mm256_blendv_ps(b, a, m); }  // m ? a : b
  static I band(I a, I b) { return _mm256_and_si256(a, b); }
  static I bxor(I a, I b) { return _mm256_xor_si256(a, b); }
  static I shr(I a, int s) { return _mm256_srli_epi32(a, s); }
  static I add32(I a, I b) { return _mm256_add_epi32(a, b); }
  static I mul_even(I a, I b) { return _mm256_mul_epu32(a, b); }
  static I shr64(I a) { return _mm256_srli_epi64(a, 32); }
  static I shl64(I a) { return _mm256_slli_epi64(a, 32); }
  static I odd_from(I even, I odd) { return _mm256_blend_epi32(even, odd, 0xAA); }
  static I iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  static F to_float(I a) { return _mm256_cvtepi32_ps(a); }
  static M igt(I a, I b) { return _mm256_castsi256_ps(_mm256_cmpgt_epi32(a, b)); }
  static M ieq(I a, I b) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)); }
  static bool any(M m) { return _mm256_movemask_ps(m) != 0; }
  static uint32_t bits(M m) { return static_cast<uint32_t>(_mm256_movemask_ps(m)); }
  static M from_bits(uint32_t b) {
    const __m256i lanes = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_castsi256_ps(
        _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(static_cast<int>(b)), lanes), lanes));
  }
  static M or_(M a, M b) { return _mm256_or_ps(a, b); }
  static F keep_only(M keep, M drop, F v) { return _mm256_and_ps(_mm256_andnot_ps(drop, keep), v); }
  static int matches_low(I bits, I high, uint32_t *out) {
    const int m = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_srli_epi32(bits, 16), high)));
    if (m == 0) return 0;
    alignas(32) uint32_t low[8];
    _mm256_store_si256(reinterpret_cast<__m256i *>(low), _mm256_and_si256(bits, _mm256_set1_epi32(0xffff)));
    int count = 0;
    for (int bitsLeft = m; bitsLeft != 0; bitsLeft &= bitsLeft - 1) out[count++] = low[__builtin_ctz(bitsLeft)];
    return count;
  }
};
#define AMALGAM_TA_SIMD 1
#endif

#ifdef AMALGAM_TA_SIMD
using V = TaVec;

// 32 x 32 -> 64 products of every lane: lo and hi halves.
static inline void ta_mulhilo(V::I a, V::I m, V::I *lo, V::I *hi) {
  const V::I even = V::mul_even(a, m);
  const V::I odd = V::mul_even(V::shr64(a), m);
  *lo = V::odd_from(even, V::shl64(odd));
  *hi = V::odd_from(V::shr64(even), odd);
}

// The 24-bit mantissas of kLanes consecutive blocks starting at block b: word j of block b + l in lane l of
// out[j].
static inline void ta_philox_vectors(uint64_t b, uint64_t hash, uint64_t seed, V::I out[4]) {
  // Blocks b .. b + kLanes - 1: the low word may wrap into the high word inside the group.
  alignas(64) uint32_t lowWords[V::kLanes], highWords[V::kLanes];
  for (int64_t l = 0; l < V::kLanes; ++l) {
    const uint64_t block = b + static_cast<uint64_t>(l);
    lowWords[l] = static_cast<uint32_t>(block);
    highWords[l] = static_cast<uint32_t>(block >> 32);
  }
  V::I c0 = V::loadi(reinterpret_cast<const float *>(lowWords));
  V::I c1 = V::loadi(reinterpret_cast<const float *>(highWords));
  V::I c2 = V::splati(static_cast<uint32_t>(hash));
  V::I c3 = V::splati(static_cast<uint32_t>(hash >> 32));
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  const V::I m0 = V::splati(kPhiloxM0), m1 = V::splati(kPhiloxM1);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    V::I lo0, hi0, lo1, hi1;
    ta_mulhilo(c0, m0, &lo0, &hi0);
    ta_mulhilo(c2, m1, &lo1, &hi1);
    const V::I n0 = V::bxor(V::bxor(hi1, c1), V::splati(k0));
    const V::I n2 = V::bxor(V::bxor(hi0, c3), V::splati(k1));
    c1 = lo1;
    c3 = lo0;
    c0 = n0;
    c2 = n2;
  }
  out[0] = V::shr(c0, 8);
  out[1] = V::shr(c1, 8);
  out[2] = V::shr(c2, 8);
  out[3] = V::shr(c3, 8);
}

// The same as words[j][lane] in memory.
static inline void ta_philox_lanes(uint64_t b, uint64_t hash, uint64_t seed, uint32_t words[4][V::kLanes]) {
  V::I w[4];
  ta_philox_vectors(b, hash, seed, w);
  for (int j = 0; j < 4; ++j) V::storei(words[j], w[j]);
}
#endif

// ---- the kernels of one ISA ----

void ta_histogram_high(const float *v, int64_t n, int64_t *histogram) {
  int64_t i = 0;
#ifdef AMALGAM_TA_SIMD
  alignas(64) uint32_t idx[V::kLanes];
  const V::I magnitude = V::splati(0x7fffffffu);
  for (; i + V::kLanes <= n; i += V::kLanes) {
    V::storei(idx, V::shr(V::band(V::loadi(v + i), magnitude), 16));
    for (int64_t l = 0; l < V::kLanes; ++l) ++histogram[idx[l]];
  }
#endif
  ta_histogram_high_scalar(v, i, n, histogram);
}

void ta_histogram_low(const float *v, int64_t n, int32_t high, int64_t *histogram) {
  const uint32_t h = static_cast<uint32_t>(high);
  if (h > 0x7fffu) return;  // no |x| has these high bits
  int64_t i = 0;
#ifdef AMALGAM_TA_SIMD
  alignas(64) uint32_t low[V::kLanes];
  const V::I magnitude = V::splati(0x7fffffffu), wanted = V::splati(h);
  for (; i + V::kLanes <= n; i += V::kLanes) {
    const int count = V::matches_low(V::band(V::loadi(v + i), magnitude), wanted, low);
    for (int l = 0; l < count; ++l) ++histogram[low[l]];
  }
#endif
  ta_histogram_low_scalar(v, i, n, h, histogram);
}

template <class Sink>
void ta_philox_run(uint64_t seed, uint64_t hash, int64_t first, int64_t n, Sink &sink) {
  int64_t i = 0;
#ifdef AMALGAM_TA_SIMD
  // Head: up to the first whole block, then kLanes whole blocks at a time.
  int64_t head = (4 - (first & 3)) & 3;
  if (head > n) head = n;
  ta_philox_scalar(seed, hash, first, 0, head, sink);
  i = head;
  alignas(64) uint32_t words[4][V::kLanes];
  for (; i + 4 * V::kLanes <= n; i += 4 * V::kLanes) {
    ta_philox_lanes(static_cast<uint64_t>((first + i) >> 2), hash, seed, words);
    for (int64_t l = 0; l < V::kLanes; ++l) {
      for (int64_t j = 0; j < 4; ++j) sink(i + 4 * l + j, words[j][l]);
    }
  }
#endif
  ta_philox_scalar(seed, hash, first, i, n, sink);
}

void ta_philox_uniforms(uint64_t seed, uint64_t hash, int64_t first, int64_t n, float *out) {
  UniformSink sink{out};
  ta_philox_run(seed, hash, first, n, sink);
}

void ta_philox_keep(uint64_t seed, uint64_t hash, int64_t first, int64_t n, uint32_t threshold, float *values) {
  KeepSink sink{values, threshold};
#if defined(__AVX512F__)
  // 64 elements (16 blocks of 4 words) at a time: the words are transposed into element order with two rounds
  // of two-source permutes, compared with the threshold, and the dropped lanes zeroed by a masked move.
  int64_t head = (4 - (first & 3)) & 3;
  if (head > n) head = n;
  ta_philox_scalar(seed, hash, first, 0, head, sink);
  int64_t i = head;
  const __m512i pair_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i pair_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i quad_lo = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
  const __m512i quad_hi = _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
  const __m512i limit = _mm512_set1_epi32(static_cast<int>(threshold));
  for (; i + 64 <= n; i += 64) {
    V::I w[4];
    ta_philox_vectors(static_cast<uint64_t>((first + i) >> 2), hash, seed, w);
    // (word 0, word 1) and (word 2, word 3) of blocks 0..7 and 8..15, interleaved by block
    const __m512i p01[2] = {_mm512_permutex2var_epi32(w[0], pair_lo, w[1]),
                            _mm512_permutex2var_epi32(w[0], pair_hi, w[1])};
    const __m512i p23[2] = {_mm512_permutex2var_epi32(w[2], pair_lo, w[3]),
                            _mm512_permutex2var_epi32(w[2], pair_hi, w[3])};
    for (int q = 0; q < 4; ++q) {
      const __m512i m = _mm512_permutex2var_epi32(p01[q >> 1], (q & 1) ? quad_hi : quad_lo, p23[q >> 1]);
      const __mmask16 keep = _mm512_cmplt_epu32_mask(m, limit);
      float *at = values + i + 16 * q;
      _mm512_storeu_ps(at, _mm512_maskz_mov_ps(keep, _mm512_loadu_ps(at)));
    }
  }
  ta_philox_scalar(seed, hash, first, i, n, sink);
#else
  ta_philox_run(seed, hash, first, n, sink);
#endif
}

// Whole vectors at once: lanes above a threshold are in its set; lanes equal to it are taken in lane order
// while its counter allows (ta_take_equal), exactly as the scalar walk counts them.
void ta_magnitude_mask(float *v, int64_t n, int32_t keep_bits, int64_t keep_equal, int32_t drop_bits,
                       int64_t drop_equal, int64_t *seen) {
  int64_t i = 0;
#ifdef AMALGAM_TA_SIMD
  const V::I magnitude = V::splati(0x7fffffffu);
  const V::I keep_t = V::splati(static_cast<uint32_t>(keep_bits)), drop_t = V::splati(static_cast<uint32_t>(drop_bits));
  for (; i + V::kLanes <= n; i += V::kLanes) {
    const V::I bits = V::band(V::loadi(v + i), magnitude);
    const uint32_t keep_equal_lanes = ta_take_equal(V::bits(V::ieq(bits, keep_t)), keep_equal, &seen[0]);
    const uint32_t drop_equal_lanes = ta_take_equal(V::bits(V::ieq(bits, drop_t)), drop_equal, &seen[1]);
    const V::M keep = V::or_(V::igt(bits, keep_t), V::from_bits(keep_equal_lanes));
    const V::M drop = V::or_(V::igt(bits, drop_t), V::from_bits(drop_equal_lanes));
    V::storef(v + i, V::keep_only(keep, drop, V::loadf(v + i)));
  }
#endif
  ta_magnitude_mask_scalar(v, i, n, keep_bits, keep_equal, drop_bits, drop_equal, seen);
}

void ta_disjoint_merge(int32_t models, const float *w, int64_t stride, const float *weights, int64_t n,
                       int32_t normalize, const float *base, float lambda, float *out) {
  int64_t i = 0;
#ifdef AMALGAM_TA_SIMD
  const V::F zero = V::zero(), one = V::splat(1.0f), lam = V::splat(lambda);
  for (; i + V::kLanes <= n; i += V::kLanes) {
    V::F sum = zero;
    for (int32_t k = 0; k < models; ++k) sum = V::add(sum, V::loadf(w + k * stride + i));
    const V::M positive = V::ge(sum, zero);
    V::F mixed = zero, divisor = zero;
    for (int32_t k = 0; k < models; ++k) {
      const V::F v = V::loadf(w + k * stride + i);
      const V::M agree = V::pick(positive, V::gt(v, zero), V::lt(v, zero));
      mixed = V::select(agree, V::add(mixed, v), mixed);
      divisor = V::select(agree, V::add(divisor, V::splat(weights[k])), divisor);
    }
    if (normalize) {
      divisor = V::select(V::eq(divisor, zero), one, divisor);
      mixed = V::div(mixed, divisor);
    }
    if (lambda != 1.0f) mixed = V::mul(mixed, lam);
    V::storef(out + i, V::add(V::loadf(base + i), mixed));
  }
#endif
  ta_disjoint_scalar(models, w, stride, weights, i, n, normalize != 0, base, lambda, out);
}

void ta_plain_merge(int32_t models, const float *w, int64_t stride, int64_t n, float divisor, const float *base,
                    float lambda, float *out) {
  int64_t i = 0;
#ifdef AMALGAM_TA_SIMD
  const V::F div = V::splat(divisor), lam = V::splat(lambda);
  for (; i + V::kLanes <= n; i += V::kLanes) {
    V::F mixed = V::zero();
    for (int32_t k = 0; k < models; ++k) mixed = V::add(mixed, V::loadf(w + k * stride + i));
    if (divisor != 1.0f) mixed = V::div(mixed, div);
    if (lambda != 1.0f) mixed = V::mul(mixed, lam);
    V::storef(out + i, V::add(V::loadf(base + i), mixed));
  }
#endif
  ta_plain_scalar(models, w, stride, i, n, divisor, base, lambda, out);
}

// DELLA over whole rows (contract point 9). Each row's uniforms come from the ISA's Philox path and its ranks from a
// stable least-significant-digit radix sort of (magnitude bits << 32 | index), whose digits of 11, 10 and 10 bits
// are counted in one read; a digit that is the same for the whole row moves nothing and is skipped. The keep
// probability of each rank is computed once per call (one division each, the same for every row), and the last
// pass that moves anything decides each element as it learns its rank, branch-free.
constexpr int kDellaDigits = 3;
constexpr int kDellaShift[kDellaDigits] = {32, 43, 53};
constexpr uint32_t kDellaBuckets[kDellaDigits] = {2048, 1024, 1024};

static inline void della_decide(float *v, const float *uniforms, const double *p, uint32_t j, int64_t r) {
  const bool keep = static_cast<double>(uniforms[j]) < p[r];
  v[j] = keep ? v[j] : 0.0f;
}

void ta_della_mask(uint64_t seed, uint64_t hash, int64_t first, int64_t n, int64_t row, double density, double epsilon,
                   float *values, uint64_t *keys, float *uniforms) {
  double *p = reinterpret_cast<double *>(keys + 2 * row);
  const double low = density - epsilon;
  const double span = static_cast<double>(row - 1);
  for (int64_t r = 0; r < row; ++r) p[r] = row > 1 ? low + 2.0 * epsilon * static_cast<double>(r) / span : low;
  uint32_t counts[2048 + 1024 + 1024];
  uint32_t *digit_counts[kDellaDigits] = {counts, counts + 2048, counts + 3072};
  for (int64_t start = 0; start < n; start += row) {
    float *v = values + start;
    ta_philox_uniforms(seed, hash, first + start, row, uniforms);
    std::memset(counts, 0, sizeof counts);
    for (int64_t j = 0; j < row; ++j) {
      const uint32_t a = ta_abs_bits(v[j]);
      keys[j] = (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(j);
      ++digit_counts[0][a & 2047];
      ++digit_counts[1][(a >> 11) & 1023];
      ++digit_counts[2][a >> 21];
    }
    int moves[kDellaDigits];
    int passes = 0;
    for (int d = 0; d < kDellaDigits; ++d) {
      const uint64_t mask = kDellaBuckets[d] - 1;
      if (digit_counts[d][(keys[0] >> kDellaShift[d]) & mask] != static_cast<uint32_t>(row)) moves[passes++] = d;
    }
    uint64_t *from = keys, *to = keys + row;
    for (int q = 0; q < passes; ++q) {
      const int d = moves[q], shift = kDellaShift[d];
      const uint64_t mask = kDellaBuckets[d] - 1;
      uint32_t *c = digit_counts[d];
      uint32_t sum = 0;
      for (uint32_t b = 0; b < kDellaBuckets[d]; ++b) {
        const uint32_t here = c[b];
        c[b] = sum;
        sum += here;
      }
      if (q + 1 < passes) {
        for (int64_t i = 0; i < row; ++i) {
          const uint64_t k = from[i];
          to[c[(k >> shift) & mask]++] = k;
        }
        uint64_t *swap = from;
        from = to;
        to = swap;
      } else {  // the last move: each key's slot is its rank
        for (int64_t i = 0; i < row; ++i) {
          const uint64_t k = from[i];
          della_decide(v, uniforms, p, static_cast<uint32_t>(k), c[(k >> shift) & mask]++);
        }
      }
    }
    if (passes == 0) {  // every magnitude equal: ranks follow the index
      for (int64_t r = 0; r < row; ++r) della_decide(v, uniforms, p, static_cast<uint32_t>(r), r);
    }
  }
}

#endif  // !defined(__CUDACC__)

}  // namespace
}  // namespace amalgam

#endif  // AMALGAM_TASK_ARITHMETIC_H
