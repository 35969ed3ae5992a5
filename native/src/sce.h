// The SCE kernels (contract point 9 of amalgam.h): variance keys and their histograms, the selection's kept
// squares and the sign-consensus merge, all in double from f32 inputs. Each ISA translation unit includes this
// header once; the vector code is chosen by the flags that unit is compiled with (__AVX512F__, __AVX2__) and works
// on doubles (8 or 4 lanes), and every path falls back to the scalar functions below for tails, which compute the
// same bits: every lane does the scalar operations in the scalar order, without FMA.
// Everything sits in an anonymous namespace (kernels.h, docs/native.md pitfall 9).
#ifndef AMALGAM_SCE_H
#define AMALGAM_SCE_H

#include <cstdint>
#include <cstring>

#include "task_arithmetic.h"

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace amalgam {
namespace {

// Java's Float.floatToIntBits of every NaN; above +inf, so a NaN variance ranks above every number.
constexpr uint32_t kSceNanKey = 0x7fc00000u;
// mergekit's floor of the divisor.
constexpr double kSceWeightFloor = 1e-6;

// ---- scalar reference ----

static inline double sce_delta(const float *x, int64_t stride, int32_t k, const float *b, int64_t i) {
  return static_cast<double>(x[k * stride + i]) - static_cast<double>(b[i]);
}

static inline uint32_t sce_key_scalar(int32_t models, const float *x, int64_t stride, const float *b, int64_t i) {
  const double m = static_cast<double>(models);
  double total = 0.0;
  for (int32_t k = 0; k < models; ++k) total += sce_delta(x, stride, k, b, i);
  const double mean = total / m;
  double variance = 0.0;
  for (int32_t k = 0; k < models; ++k) {
    const double e = sce_delta(x, stride, k, b, i) - mean;
    variance += e * e;
  }
  const float f = static_cast<float>(variance / m);
  if (f != f) return kSceNanKey;
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// The selection of the next element in element order: a threshold below 0 keeps all, one above kSceNanKey none.
static inline bool sce_keeps_all(int32_t threshold) { return threshold < 0; }
static inline bool sce_keeps_none(int32_t threshold) { return threshold > static_cast<int32_t>(kSceNanKey); }

// keys, unless null, holds the elements' keys, which are then not computed.
static inline bool sce_keep_scalar(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys,
                                   int64_t i, int32_t threshold, int64_t equal_kept, int64_t *seen) {
  if (sce_keeps_all(threshold)) return true;
  if (sce_keeps_none(threshold)) return false;
  const uint32_t key = keys != nullptr ? static_cast<uint32_t>(keys[i]) : sce_key_scalar(models, x, stride, b, i);
  return ta_in_top(key, threshold, equal_kept, seen);
}

static inline float sce_merge_scalar(int32_t models, const float *x, int64_t stride, const float *b, int64_t i,
                                     bool kept, const double *weights) {
  double merged = 0.0;
  if (kept) {
    double total = 0.0;
    for (int32_t k = 0; k < models; ++k) total += sce_delta(x, stride, k, b, i);
    const bool positive = total >= 0.0;
    double numerator = 0.0, divisor = 0.0;
    for (int32_t k = 0; k < models; ++k) {
      const double d = sce_delta(x, stride, k, b, i);
      if (positive ? d > 0.0 : d < 0.0) {
        numerator += weights[k] * d;
        divisor += weights[k];
      }
    }
    // Java's Math.max(divisor, floor): a NaN divisor stays NaN.
    merged = numerator / (divisor < kSceWeightFloor ? kSceWeightFloor : divisor);
  }
  return static_cast<float>(static_cast<double>(b[i]) + merged);
}

// ---- vector traits: 8 (AVX-512) or 4 (AVX2) double lanes, widened from f32 ----

#if defined(__AVX512F__)
struct SceVec {
  static constexpr int64_t kLanes = 8;
  using D = __m512d;
  using M = __mmask8;
  using K = __m256i;  // the lanes' keys
  static D load(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  static D zero() { return _mm512_setzero_pd(); }
  static D splat(double c) { return _mm512_set1_pd(c); }
  static D add(D a, D b) { return _mm512_add_pd(a, b); }
  static D sub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm512_mul_pd(a, b); }
  static D div(D a, D b) { return _mm512_div_pd(a, b); }
  static M ge(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
  static M gt(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
  static M lt(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
  static M pick(M m, M a, M b) { return static_cast<M>((m & a) | (~m & b)); }  // m ? a : b
  static D select(M m, D a, D b) { return _mm512_mask_blend_pd(m, b, a); }     // m ? a : b
  static M from_bits(uint32_t bits) { return static_cast<M>(bits); }
  static K keys(D v) {
    const __m256 f = _mm512_cvtpd_ps(v);
    const __mmask8 nan = _mm256_cmp_ps_mask(f, f, _CMP_UNORD_Q);
    return _mm256_mask_blend_epi32(nan, _mm256_castps_si256(f), _mm256_set1_epi32(static_cast<int>(kSceNanKey)));
  }
  static void store_keys(uint32_t *p, K k) { _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), k); }
  static K load_keys(const int32_t *p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)); }
  static uint32_t gt_bits(K k, int32_t t) { return _mm256_cmpgt_epi32_mask(k, _mm256_set1_epi32(t)); }
  static uint32_t eq_bits(K k, int32_t t) { return _mm256_cmpeq_epi32_mask(k, _mm256_set1_epi32(t)); }
  static void store(float *p, D v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
};
#define AMALGAM_SCE_SIMD 1
#elif defined(__AVX2__)
struct SceVec {
  static constexpr int64_t kLanes = 4;
  using D = __m256d;
  using M = __m256d;
  using K = __m128i;
  static D load(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  static D zero() { return _mm256_setzero_pd(); }
  static D splat(double c) { return _mm256_set1_pd(c); }
  static D add(D a, D b) { return _mm256_add_pd(a, b); }
  static D sub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm256_mul_pd(a, b); }
  static D div(D a, D b) { return _mm256_div_pd(a, b); }
  static M ge(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
  static M gt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  static M lt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static M pick(M m, M a, M b) { return _mm256_blendv_pd(b, a, m); }
  static D select(M m, D a, D b) { return _mm256_blendv_pd(b, a, m); }
  static M from_bits(uint32_t bits) {
    const __m256i lanes = _mm256_setr_epi64x(1, 2, 4, 8);
    return _mm256_castsi256_pd(
        _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(static_cast<int64_t>(bits)), lanes), lanes));
  }
  static K keys(D v) {
    const __m128 f = _mm256_cvtpd_ps(v);
    const __m128 nan = _mm_cmpunord_ps(f, f);
    return _mm_castps_si128(_mm_blendv_ps(f, _mm_castsi128_ps(_mm_set1_epi32(static_cast<int>(kSceNanKey))), nan));
  }
  static void store_keys(uint32_t *p, K k) { _mm_storeu_si128(reinterpret_cast<__m128i *>(p), k); }
  static K load_keys(const int32_t *p) { return _mm_loadu_si128(reinterpret_cast<const __m128i *>(p)); }
  static uint32_t gt_bits(K k, int32_t t) {
    return static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(k, _mm_set1_epi32(t)))));
  }
  static uint32_t eq_bits(K k, int32_t t) {
    return static_cast<uint32_t>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(k, _mm_set1_epi32(t)))));
  }
  static void store(float *p, D v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
};
#define AMALGAM_SCE_SIMD 1
#endif

#ifdef AMALGAM_SCE_SIMD
using SV = SceVec;

// The sum of the lanes' deltas (from +0, in model order) and, unless keys is null, their keys.
static inline SV::D sce_total_vec(int32_t models, const float *x, int64_t stride, SV::D bd, int64_t i) {
  SV::D total = SV::zero();
  for (int32_t k = 0; k < models; ++k) total = SV::add(total, SV::sub(SV::load(x + k * stride + i), bd));
  return total;
}

// v / models. For a power of two this is v * (1 / models), exactly: both round the same real number, and the
// multiply is several times faster than a division.
struct SceMean {
  SV::D models, reciprocal;
  bool power_of_two;
  explicit SceMean(int32_t m)
      : models(SV::splat(static_cast<double>(m))),
        reciprocal(SV::splat(1.0 / static_cast<double>(m))),
        power_of_two((m & (m - 1)) == 0) {}
  SV::D of(SV::D v) const { return power_of_two ? SV::mul(v, reciprocal) : SV::div(v, models); }
};

static inline SV::K sce_keys_vec(int32_t models, const float *x, int64_t stride, SV::D bd, SV::D total, int64_t i,
                                 const SceMean &per) {
  const SV::D mean = per.of(total);
  SV::D variance = SV::zero();
  for (int32_t k = 0; k < models; ++k) {
    const SV::D e = SV::sub(SV::sub(SV::load(x + k * stride + i), bd), mean);
    variance = SV::add(variance, SV::mul(e, e));
  }
  return SV::keys(per.of(variance));
}

// The keys of elements [from, to), whole vectors only; returns where the vectors stopped.
static inline int64_t sce_keys_run(int32_t models, const float *x, int64_t stride, const float *b, int64_t from,
                                   int64_t to, const SceMean &per, uint32_t *keys) {
  int64_t i = from;
  for (; i + SV::kLanes <= to; i += SV::kLanes) {
    const SV::D bd = SV::load(b + i);
    const SV::D total = sce_total_vec(models, x, stride, bd, i);
    SV::store_keys(keys + (i - from), sce_keys_vec(models, x, stride, bd, total, i, per));
  }
  return i;
}

// The lanes the selection keeps (bit l = lane l), walking the equal ones in lane order.
static inline uint32_t sce_keep_vec(int32_t models, const float *x, int64_t stride, SV::D bd, SV::D total,
                                    const int32_t *given, int64_t i, const SceMean &per, int32_t threshold,
                                    int64_t equal_kept, int64_t *seen) {
  if (sce_keeps_all(threshold)) return (1u << SV::kLanes) - 1;
  if (sce_keeps_none(threshold)) return 0;
  const SV::K keys = given != nullptr ? SV::load_keys(given + i) : sce_keys_vec(models, x, stride, bd, total, i, per);
  return SV::gt_bits(keys, threshold) | ta_take_equal(SV::eq_bits(keys, threshold), equal_kept, seen);
}
#endif

// ---- the kernels of one ISA ----

void sce_variance_keys(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int32_t *keys) {
  int64_t i = 0;
#ifdef AMALGAM_SCE_SIMD
  i = sce_keys_run(models, x, stride, b, 0, n, SceMean(models), reinterpret_cast<uint32_t *>(keys));
#endif
  for (; i < n; ++i) keys[i] = static_cast<int32_t>(sce_key_scalar(models, x, stride, b, i));
}

// Keys of the histogram kernels, a piece at a time: counting from an array that the vector stores filled well
// before avoids reloading lanes straight from a vector store (a store-forwarding stall per lane).
constexpr int64_t kSceKeyPiece = 512;

static inline void sce_piece_keys(int32_t models, const float *x, int64_t stride, const float *b, int64_t from,
                                  int64_t to, uint32_t *keys) {
  int64_t i = from;
#ifdef AMALGAM_SCE_SIMD
  i = sce_keys_run(models, x, stride, b, from, to, SceMean(models), keys);
#endif
  for (; i < to; ++i) keys[i - from] = sce_key_scalar(models, x, stride, b, i);
}

void sce_histogram_high(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int64_t *histogram,
                        int64_t *nonzero, int32_t *keys_out) {
  alignas(64) uint32_t keys[kSceKeyPiece];
  int64_t zeros = 0;
  for (int64_t from = 0; from < n; from += kSceKeyPiece) {
    const int64_t len = n - from < kSceKeyPiece ? n - from : kSceKeyPiece;
    sce_piece_keys(models, x, stride, b, from, from + len, keys);
    if (keys_out != nullptr) std::memcpy(keys_out + from, keys, static_cast<size_t>(len) * sizeof keys[0]);
    for (int64_t j = 0; j < len; ++j) {
      ++histogram[keys[j] >> 16];
      zeros += keys[j] == 0;
    }
  }
  *nonzero += n - zeros;
}

void sce_histogram_low(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int32_t high,
                       int64_t *histogram) {
  const uint32_t h = static_cast<uint32_t>(high);
  if (h > (kSceNanKey >> 16)) return;  // no key has these high bits
  alignas(64) uint32_t keys[kSceKeyPiece];
  for (int64_t from = 0; from < n; from += kSceKeyPiece) {
    const int64_t len = n - from < kSceKeyPiece ? n - from : kSceKeyPiece;
    sce_piece_keys(models, x, stride, b, from, from + len, keys);
    for (int64_t j = 0; j < len; ++j) {
      if ((keys[j] >> 16) == h) ++histogram[keys[j] & 0xffffu];
    }
  }
}

// The kept elements' squares added to G chains at once (models first .. first + G - 1), held in registers: each
// chain is one dependent addition per element, in element order (-0.0 for the elements not kept).
template <int G>
static inline void sce_square_chains(int32_t first, const float *x, int64_t stride, const float *b, int64_t from,
                                     int64_t to, const uint8_t *keep, double *sums) {
  double s[G];
  for (int g = 0; g < G; ++g) s[g] = sums[first + g];
  for (int64_t i = from; i < to; ++i) {
    // No branch: about half the elements are kept, in no pattern a branch predictor could learn. A dropped
    // element adds -0.0 (its square's bits masked to the sign bit), off the chain of additions.
    const uint64_t kept = 0 - static_cast<uint64_t>(keep[i - from]);
    for (int g = 0; g < G; ++g) {
      const double d = sce_delta(x, stride, first + g, b, i);
      const double square = d * d;
      uint64_t bits;
      std::memcpy(&bits, &square, sizeof bits);
      bits = (bits & kept) | (~kept & 0x8000000000000000u);
      double term;
      std::memcpy(&term, &bits, sizeof term);
      s[g] += term;
    }
  }
  for (int g = 0; g < G; ++g) sums[first + g] = s[g];
}

void sce_square_sums(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys, int64_t n,
                     int32_t threshold, int64_t equal_kept, int64_t *seen, double *sums) {
  if (sce_keeps_none(threshold)) return;
  // The keep decisions of a piece first (vectorised, in element order), then the chains over it.
  constexpr int64_t kPiece = 1024;
  alignas(64) uint8_t keep[kPiece];
#ifdef AMALGAM_SCE_SIMD
  const SceMean per(models);
#endif
  for (int64_t from = 0; from < n; from += kPiece) {
    const int64_t to = n - from < kPiece ? n : from + kPiece;
    int64_t i = from;
#ifdef AMALGAM_SCE_SIMD
    for (; i + SV::kLanes <= to; i += SV::kLanes) {
      const SV::D bd = SV::load(b + i);
      // the total only feeds computed keys
      const bool computed = keys == nullptr && !sce_keeps_all(threshold);
      const SV::D total = computed ? sce_total_vec(models, x, stride, bd, i) : bd;
      const uint32_t bits = sce_keep_vec(models, x, stride, bd, total, keys, i, per, threshold, equal_kept, seen);
      for (int64_t l = 0; l < SV::kLanes; ++l) keep[i - from + l] = static_cast<uint8_t>((bits >> l) & 1u);
    }
#endif
    for (; i < to; ++i) keep[i - from] = sce_keep_scalar(models, x, stride, b, keys, i, threshold, equal_kept, seen);
    int32_t k = 0;
    for (; k + 4 <= models; k += 4) sce_square_chains<4>(k, x, stride, b, from, to, keep, sums);
    switch (models - k) {
      case 3:
        sce_square_chains<3>(k, x, stride, b, from, to, keep, sums);
        break;
      case 2:
        sce_square_chains<2>(k, x, stride, b, from, to, keep, sums);
        break;
      case 1:
        sce_square_chains<1>(k, x, stride, b, from, to, keep, sums);
        break;
      default:
        break;
    }
  }
}

void sce_merge(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys, int64_t n,
               int32_t threshold, int64_t equal_kept, int64_t *seen, const double *weights, float *out) {
  int64_t i = 0;
#ifdef AMALGAM_SCE_SIMD
  const SV::D zero = SV::zero(), floor = SV::splat(kSceWeightFloor);
  const SceMean per(models);
  for (; i + SV::kLanes <= n; i += SV::kLanes) {
    const SV::D bd = SV::load(b + i);
    const SV::D total = sce_total_vec(models, x, stride, bd, i);
    const uint32_t kept = sce_keep_vec(models, x, stride, bd, total, keys, i, per, threshold, equal_kept, seen);
    SV::D merged = zero;
    if (kept != 0) {
      const SV::M positive = SV::ge(total, zero);
      SV::D numerator = zero, divisor = zero;
      for (int32_t k = 0; k < models; ++k) {
        const SV::D d = SV::sub(SV::load(x + k * stride + i), bd);
        const SV::D w = SV::splat(weights[k]);
        const SV::M agree = SV::pick(positive, SV::gt(d, zero), SV::lt(d, zero));
        numerator = SV::select(agree, SV::add(numerator, SV::mul(w, d)), numerator);
        divisor = SV::select(agree, SV::add(divisor, w), divisor);
      }
      divisor = SV::select(SV::lt(divisor, floor), floor, divisor);
      merged = SV::select(SV::from_bits(kept), SV::div(numerator, divisor), zero);
    }
    SV::store(out + i, SV::add(bd, merged));
  }
#endif
  for (; i < n; ++i) {
    const bool kept = sce_keep_scalar(models, x, stride, b, keys, i, threshold, equal_kept, seen);
    out[i] = sce_merge_scalar(models, x, stride, b, i, kept, weights);
  }
}

}  // namespace
}  // namespace amalgam

#endif  // AMALGAM_SCE_H
