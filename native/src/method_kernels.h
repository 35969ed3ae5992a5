// The method kernels of contract point 9 (amalgam.h): arcee_fusion's importance histograms and output, and
// nearswap. The scalar functions below define the bits and serve the scalar path and every SIMD tail; the vector
// loops, written once over the ISA traits S of simd_kernels.h (loads and rounding stores), exist only in the units
// compiled with AVX2 or AVX-512 and compute the same bits. Everything sits in an anonymous namespace (kernels.h,
// docs/native.md pitfall 9).
//
// NaN payloads never depend on an instruction's operand order: every operation that could meet two NaNs is
// either non-commutative (b - a, t / m) or replaced by an explicit choice (a NaN |b - a| is the importance; a NaN
// w is nearswap's output), so the scalar code, the vector code and the Java reference agree bit for bit.
#ifndef AMALGAM_METHOD_KERNELS_H
#define AMALGAM_METHOD_KERNELS_H

#include <cmath>
#include <cstdint>

#include "amalgam.h"
#include "scalar_math.h"

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>

#include "simd_kernels.h"
#endif

namespace amalgam {
namespace {

// nearswap's floor on |b - x| (mergekit's 1e-6, as an f32).
constexpr float kNearSwapMinDistance = 1e-6f;

// ---- scalar reference ----

// |b - a| with the sign bit cleared, or that NaN; else times the row's KL.
static inline float mk_importance(float a, float b, float kl) {
  const float m = std::fabs(b - a);
  return m != m ? m : m * kl;
}

// The sortable key: its signed order is the float order.
static inline uint32_t mk_key(float f) {
  const int32_t bits = static_cast<int32_t>(f32_bits(f));
  return static_cast<uint32_t>(bits ^ ((bits >> 31) & 0x7fffffff));
}

static inline float mk_nearswap(float b, float x, float t) {
  const float distance = std::fabs(b - x);
  const float m = distance < kNearSwapMinDistance ? kNearSwapMinDistance : distance;  // Java max: NaN stays
  float w = t / m;
  w = (w < 1.0f || w != w) ? w : 1.0f;  // Java Math.min(1f, w)
  w = (w > 0.0f || w != w) ? w : 0.0f;  // Java Math.max(0f, w): -0 becomes +0
  if (w != w) return w;
  return std::fmaf(w, x, (1.0f - w) * b);
}

// Calls seg(from, to, kl[row]) for each row's part of [0, n), starting at (row, column).
template <class Seg>
inline void mk_by_rows(int64_t n, int64_t row, int64_t column, int64_t row_length, const float *kl, Seg &&seg) {
  for (int64_t i = 0; i < n; ++row) {
    const int64_t left = row_length - column;
    const int64_t len = left < n - i ? left : n - i;
    seg(i, i + len, kl[row]);
    i += len;
    column = 0;
  }
}

static inline void mk_high_scalar(const void *a, int32_t ad, const void *b, int32_t bd, int64_t from, int64_t to,
                                  float kl, int64_t *histogram) {
  for (int64_t i = from; i < to; ++i) {
    ++histogram[mk_key(mk_importance(load_scalar(a, ad, i), load_scalar(b, bd, i), kl)) >> 16];
  }
}

static inline void mk_count_low(uint32_t key, int32_t bucket_count, const int32_t *buckets, int64_t *histograms) {
  const int32_t top = static_cast<int32_t>(key >> 16);
  for (int32_t j = 0; j < bucket_count; ++j) {
    if (buckets[j] == top) ++histograms[static_cast<int64_t>(j) * AMALGAM_MAGNITUDE_BUCKETS + (key & 0xffffu)];
  }
}

static inline void mk_low_scalar(const void *a, int32_t ad, const void *b, int32_t bd, int64_t from, int64_t to,
                                 float kl, int32_t bucket_count, const int32_t *buckets, int64_t *histograms) {
  for (int64_t i = from; i < to; ++i) {
    mk_count_low(mk_key(mk_importance(load_scalar(a, ad, i), load_scalar(b, bd, i), kl)), bucket_count, buckets,
                 histograms);
  }
}

static inline void mk_select_scalar(const void *a, int32_t ad, const void *b, int32_t bd, int64_t from, int64_t to,
                                    float kl, float threshold, void *out, int32_t od) {
  for (int64_t i = from; i < to; ++i) {
    const float x = load_scalar(a, ad, i);
    const float y = load_scalar(b, bd, i);
    store_scalar(out, od, i, mk_importance(x, y, kl) >= threshold ? x + (y - x) : x);
  }
}

static inline void mk_nearswap_scalar(const void *base, int32_t bd, const void *other, int32_t xd, float t, void *out,
                                      int32_t od, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; ++i) {
    store_scalar(out, od, i, mk_nearswap(load_scalar(base, bd, i), load_scalar(other, xd, i), t));
  }
}

// The scalar path's table entries.
inline void mk_fusion_high_scalar(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row,
                                  int64_t column, int64_t row_length, const float *kl, int64_t *histogram) {
  mk_by_rows(n, row, column, row_length, kl,
             [&](int64_t from, int64_t to, float k) { mk_high_scalar(a, ad, b, bd, from, to, k, histogram); });
}

inline void mk_fusion_low_scalar(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row,
                                 int64_t column, int64_t row_length, const float *kl, int32_t bucket_count,
                                 const int32_t *buckets, int64_t *histograms) {
  mk_by_rows(n, row, column, row_length, kl, [&](int64_t from, int64_t to, float k) {
    mk_low_scalar(a, ad, b, bd, from, to, k, bucket_count, buckets, histograms);
  });
}

inline void mk_fusion_select_scalar(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row,
                                    int64_t column, int64_t row_length, const float *kl, float threshold, void *out,
                                    int32_t od) {
  mk_by_rows(n, row, column, row_length, kl, [&](int64_t from, int64_t to, float k) {
    mk_select_scalar(a, ad, b, bd, from, to, k, threshold, out, od);
  });
}

inline void mk_nearswap_scalar_all(const void *base, int32_t bd, const void *other, int32_t xd, float t, void *out,
                                   int32_t od, int64_t n, int32_t /*flags*/) {
  mk_nearswap_scalar(base, bd, other, xd, t, out, od, 0, n);
}

// ---- vector operations: 16 lanes (AVX-512) or 8 lanes (AVX2) ----

#if defined(__AVX512F__)
struct MkOps {
  using F = __m512;
  using I = __m512i;
  using M = __mmask16;
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F splat(float c) { return _mm512_set1_ps(c); }
  static F abs(F a) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
  }
  static M is_nan(F a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M lt_or_nan(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_NGE_UQ); }
  static M gt_or_nan(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_NLE_UQ); }
  static F select(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }  // m ? a : b
  static I key(F f) {
    const I bits = _mm512_castps_si512(f);
    return _mm512_xor_si512(bits, _mm512_and_si512(_mm512_srai_epi32(bits, 31), _mm512_set1_epi32(0x7fffffff)));
  }
  static I top(I key) { return _mm512_srli_epi32(key, 16); }
  static void store(uint32_t *p, I v) { _mm512_storeu_si512(p, v); }
  // Lanes whose top 16 bits equal bucket, as bits.
  static uint32_t matches(I top, int32_t bucket) { return _mm512_cmpeq_epi32_mask(top, _mm512_set1_epi32(bucket)); }
};
#define AMALGAM_MK_SIMD 1
#elif defined(__AVX2__)
struct MkOps {
  using F = __m256;
  using I = __m256i;
  using M = __m256;
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F splat(float c) { return _mm256_set1_ps(c); }
  static F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static M is_nan(F a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static M lt_or_nan(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_NGE_UQ); }
  static M gt_or_nan(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_NLE_UQ); }
  static F select(M m, F a, F b) { return _mm256_blendv_ps(b, a, m); }  // m ? a : b
  static I key(F f) {
    const I bits = _mm256_castps_si256(f);
    return _mm256_xor_si256(bits, _mm256_and_si256(_mm256_srai_epi32(bits, 31), _mm256_set1_epi32(0x7fffffff)));
  }
  static I top(I key) { return _mm256_srli_epi32(key, 16); }
  static void store(uint32_t *p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), v); }
  static uint32_t matches(I top, int32_t bucket) {
    return static_cast<uint32_t>(
        _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(top, _mm256_set1_epi32(bucket)))));
  }
};
#define AMALGAM_MK_SIMD 1
#endif

#ifdef AMALGAM_MK_SIMD
using MO = MkOps;

template <class S, int32_t AD, int32_t BD>
inline typename MO::F mk_importance_vec(const void *a, const void *b, int64_t i, typename MO::F kl) {
  const typename MO::F m = MO::abs(MO::sub(S::template load<BD>(b, i), S::template load<AD>(a, i)));
  return MO::select(MO::is_nan(m), m, MO::mul(m, kl));
}

template <class S, int32_t AD, int32_t BD>
void mk_high_typed(const void *a, const void *b, int64_t n, int64_t row, int64_t column, int64_t row_length,
                   const float *kl, int64_t *histogram) {
  alignas(64) uint32_t tops[S::kLanes];
  mk_by_rows(n, row, column, row_length, kl, [&](int64_t from, int64_t to, float k) {
    const typename MO::F kv = MO::splat(k);
    int64_t i = from;
    for (; i + S::kLanes <= to; i += S::kLanes) {
      prefetch_ahead<AD, S::kLanes>(a, i);
      prefetch_ahead<BD, S::kLanes>(b, i);
      MO::store(tops, MO::top(MO::key(mk_importance_vec<S, AD, BD>(a, b, i, kv))));
      for (int64_t l = 0; l < S::kLanes; ++l) ++histogram[tops[l]];
    }
    mk_high_scalar(a, AD, b, BD, i, to, k, histogram);
  });
}

template <class S, int32_t AD, int32_t BD>
void mk_low_typed(const void *a, const void *b, int64_t n, int64_t row, int64_t column, int64_t row_length,
                  const float *kl, int32_t bucket_count, const int32_t *buckets, int64_t *histograms) {
  alignas(64) uint32_t keys[S::kLanes];
  mk_by_rows(n, row, column, row_length, kl, [&](int64_t from, int64_t to, float k) {
    const typename MO::F kv = MO::splat(k);
    int64_t i = from;
    for (; i + S::kLanes <= to; i += S::kLanes) {
      prefetch_ahead<AD, S::kLanes>(a, i);
      prefetch_ahead<BD, S::kLanes>(b, i);
      const typename MO::I key = MO::key(mk_importance_vec<S, AD, BD>(a, b, i, kv));
      const typename MO::I top = MO::top(key);
      uint32_t hit = 0;
      for (int32_t j = 0; j < bucket_count; ++j) hit |= MO::matches(top, buckets[j]);
      if (hit == 0) continue;  // the usual case: few elements fall in the chosen buckets
      MO::store(keys, key);
      for (; hit != 0; hit &= hit - 1) mk_count_low(keys[__builtin_ctz(hit)], bucket_count, buckets, histograms);
    }
    mk_low_scalar(a, AD, b, BD, i, to, k, bucket_count, buckets, histograms);
  });
}

template <class S, int32_t AD, int32_t BD, int32_t OD>
void mk_select_typed(const void *a, const void *b, int64_t n, int64_t row, int64_t column, int64_t row_length,
                     const float *kl, float threshold, void *out) {
  const typename MO::F limit = MO::splat(threshold);
  mk_by_rows(n, row, column, row_length, kl, [&](int64_t from, int64_t to, float k) {
    const typename MO::F kv = MO::splat(k);
    int64_t i = from;
    for (; i + 2 * S::kLanes <= to; i += 2 * S::kLanes) {
      prefetch_ahead<AD, 2 * S::kLanes>(a, i);
      prefetch_ahead<BD, 2 * S::kLanes>(b, i);
      typename MO::F v[2];
      for (int h = 0; h < 2; ++h) {
        const int64_t at = i + h * S::kLanes;
        const typename MO::F x = S::template load<AD>(a, at);
        const typename MO::F y = S::template load<BD>(b, at);
        const typename MO::F m = MO::abs(MO::sub(y, x));
        const typename MO::F importance = MO::select(MO::is_nan(m), m, MO::mul(m, kv));
        v[h] = MO::select(MO::ge(importance, limit), MO::add(x, MO::sub(y, x)), x);
      }
      S::template store_pair<OD, false>(out, i, v[0], v[1]);
    }
    mk_select_scalar(a, AD, b, BD, i, to, k, threshold, out, OD);
  });
}

template <class S>
inline typename MO::F mk_nearswap_vec(typename MO::F b, typename MO::F x, typename MO::F t) {
  const typename MO::F one = MO::splat(1.0f), zero = MO::splat(0.0f), floor = MO::splat(kNearSwapMinDistance);
  const typename MO::F distance = MO::abs(MO::sub(b, x));
  const typename MO::F m = MO::select(MO::lt(distance, floor), floor, distance);
  typename MO::F w = MO::div(t, m);
  w = MO::select(MO::lt_or_nan(w, one), w, one);
  w = MO::select(MO::gt_or_nan(w, zero), w, zero);
  return MO::select(MO::is_nan(w), w, MO::fma(w, x, MO::mul(MO::sub(one, w), b)));
}

template <class S, int32_t BD, int32_t XD, int32_t OD, bool kStream>
void mk_nearswap_body(const void *base, const void *other, float t, void *out, int64_t begin, int64_t end) {
  const typename MO::F tv = MO::splat(t);
  for (int64_t i = begin; i < end; i += 2 * S::kLanes) {
    prefetch_ahead<BD, 2 * S::kLanes>(base, i);
    prefetch_ahead<XD, 2 * S::kLanes>(other, i);
    const int64_t k = i + S::kLanes;
    S::template store_pair<OD, kStream>(
        out, i, mk_nearswap_vec<S>(S::template load<BD>(base, i), S::template load<XD>(other, i), tv),
        mk_nearswap_vec<S>(S::template load<BD>(base, k), S::template load<XD>(other, k), tv));
  }
}

template <class S, int32_t BD, int32_t XD, int32_t OD>
void mk_nearswap_typed(const void *base, const void *other, float t, void *out, int64_t n, int32_t flags) {
  const Plan p = plan_elementwise(out, OD, n, flags, 2 * S::kLanes);
  mk_nearswap_scalar(base, BD, other, XD, t, out, OD, 0, p.head);
  if (p.stream) {
    mk_nearswap_body<S, BD, XD, OD, true>(base, other, t, out, p.head, p.body_end);
  } else {
    mk_nearswap_body<S, BD, XD, OD, false>(base, other, t, out, p.head, p.body_end);
  }
  mk_nearswap_scalar(base, BD, other, XD, t, out, OD, p.body_end, n);
  if (p.stream) S::stream_fence();
}

// Dispatch on the dtypes: f(D0, D1[, D2]) instantiations picked at run time.
template <int32_t D>
struct MkDtype {
  static constexpr int32_t value = D;
};

template <class F>
inline void mk_with_dtype(int32_t d, F &&f) {
  if (d == kF32) {
    f(MkDtype<kF32>{});
  } else if (d == kF16) {
    f(MkDtype<kF16>{});
  } else {
    f(MkDtype<kBf16>{});
  }
}

template <class S>
void mk_fusion_high(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                    int64_t row_length, const float *kl, int64_t *histogram) {
  static_assert(sizeof(typename S::Vec) == sizeof(typename MO::F), "one vector width per unit");
  mk_with_dtype(ad, [&](auto x) {
    mk_with_dtype(bd, [&](auto y) {
      mk_high_typed<S, decltype(x)::value, decltype(y)::value>(a, b, n, row, column, row_length, kl, histogram);
    });
  });
}

template <class S>
void mk_fusion_low(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                   int64_t row_length, const float *kl, int32_t bucket_count, const int32_t *buckets,
                   int64_t *histograms) {
  mk_with_dtype(ad, [&](auto x) {
    mk_with_dtype(bd, [&](auto y) {
      mk_low_typed<S, decltype(x)::value, decltype(y)::value>(a, b, n, row, column, row_length, kl, bucket_count,
                                                              buckets, histograms);
    });
  });
}

template <class S>
void mk_fusion_select(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                      int64_t row_length, const float *kl, float threshold, void *out, int32_t od) {
  mk_with_dtype(ad, [&](auto x) {
    mk_with_dtype(bd, [&](auto y) {
      mk_with_dtype(od, [&](auto o) {
        mk_select_typed<S, decltype(x)::value, decltype(y)::value, decltype(o)::value>(a, b, n, row, column, row_length,
                                                                                       kl, threshold, out);
      });
    });
  });
}

template <class S>
void mk_nearswap_simd(const void *base, int32_t bd, const void *other, int32_t xd, float t, void *out, int32_t od,
                      int64_t n, int32_t flags) {
  mk_with_dtype(bd, [&](auto x) {
    mk_with_dtype(xd, [&](auto y) {
      mk_with_dtype(od, [&](auto o) {
        mk_nearswap_typed<S, decltype(x)::value, decltype(y)::value, decltype(o)::value>(base, other, t, out, n, flags);
      });
    });
  });
}
#endif

}  // namespace
}  // namespace amalgam

#endif  // AMALGAM_METHOD_KERNELS_H
