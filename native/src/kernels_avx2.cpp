// AVX2 + FMA + F16C path: 8 f32 lanes. Compiled with -mavx2 -mfma -mf16c (cmake/AmalgamIsa.cmake).
#include <immintrin.h>

#include "kernels.h"
#include "method_kernels.h"
#include "nonfinite.h"
#include "sce.h"
#include "simd_kernels.h"
#include "spherical.h"
#include "task_arithmetic.h"

namespace amalgam {
namespace {

struct Avx2 {
  static constexpr int64_t kLanes = 8;
  using Vec = __m256;

  static Vec splat(float c) { return _mm256_set1_ps(c); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static void stream_fence() { _mm_sfence(); }

  static __m128i load_halves(const void *p, int64_t i) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i *>(static_cast<const uint16_t *>(p) + i));
  }

  template <int32_t D>
  static Vec load(const void *p, int64_t i) {
    if constexpr (D == kF32) {
      return _mm256_loadu_ps(static_cast<const float *>(p) + i);
    } else if constexpr (D == kF16) {
      return _mm256_cvtph_ps(load_halves(p, i));
    } else {
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load_halves(p, i)), 16));
    }
  }

  // f32 -> bf16 round to nearest even in integer lanes (not vcvtneps2bf16, which flushes subnormals);
  // NaN -> (bits >> 16) | 0x40 as in scalar_math.h. Each 32-bit lane of the result holds one bf16.
  static __m256i bf16_lanes(Vec v) {
    const __m256i u = _mm256_castps_si256(v);
    const __m256i high = _mm256_srli_epi32(u, 16);
    const __m256i bias = _mm256_add_epi32(_mm256_set1_epi32(0x7fff), _mm256_and_si256(high, _mm256_set1_epi32(1)));
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, bias), 16);
    const __m256i quiet_nan = _mm256_or_si256(high, _mm256_set1_epi32(0x40));
    const __m256i is_nan =
        _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)), _mm256_set1_epi32(0x7f800000));
    return _mm256_blendv_epi8(rounded, quiet_nan, is_nan);
  }

  static void store_f32(float *p, Vec v) { _mm256_storeu_ps(p, v); }

  template <bool kStream>
  static void store_bytes(void *p, __m256i v) {
    if constexpr (kStream) {
      _mm256_stream_si256(static_cast<__m256i *>(p), v);
    } else {
      _mm256_storeu_si256(static_cast<__m256i *>(p), v);
    }
  }

  // Two vectors per call so that a 16-bit output is written with full 32-byte stores, two per cache line.
  template <int32_t D, bool kStream>
  static void store_pair(void *p, int64_t i, Vec v0, Vec v1) {
    if constexpr (D == kF32) {
      store_bytes<kStream>(static_cast<float *>(p) + i, _mm256_castps_si256(v0));
      store_bytes<kStream>(static_cast<float *>(p) + i + 8, _mm256_castps_si256(v1));
    } else if constexpr (D == kF16) {
      const int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
      store_bytes<kStream>(static_cast<uint16_t *>(p) + i,
                           _mm256_set_m128i(_mm256_cvtps_ph(v1, kRound), _mm256_cvtps_ph(v0, kRound)));
    } else {
      // Every lane is <= 0xffff, so unsigned saturation packs it unchanged; the pack interleaves 128-bit
      // halves, which the 64-bit permute puts back in order.
      const __m256i packed = _mm256_packus_epi32(bf16_lanes(v0), bf16_lanes(v1));
      store_bytes<kStream>(static_cast<uint16_t *>(p) + i, _mm256_permute4x64_epi64(packed, 0xd8));
    }
  }

  static Vec i8_to_f32(const int8_t *p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p))));
  }

  // round_half_away then Java's (int) (contract point 7), per lane; only the low byte of each lane is used.
  // cvttps2dq gives 0x80000000 for NaN and out-of-range lanes (low byte 0, as Java's NaN -> 0 and -2^31);
  // lanes >= 2^31 need Java's 2^31 - 1, whose low byte is 0xff.
  static __m256i q8_lanes(Vec v) {
    const Vec t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const Vec magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const Vec up = _mm256_cmp_ps(_mm256_and_ps(_mm256_sub_ps(v, t), magnitude), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const Vec one = _mm256_or_ps(_mm256_andnot_ps(magnitude, v), _mm256_set1_ps(1.0f));
    const Vec r = _mm256_add_ps(t, _mm256_and_ps(up, one));
    const __m256i over = _mm256_castps_si256(_mm256_cmp_ps(r, _mm256_set1_ps(2147483648.0f), _CMP_GE_OQ));
    return _mm256_or_si256(_mm256_cvttps_epi32(r), _mm256_and_si256(over, _mm256_set1_epi32(0xff)));
  }

  template <int32_t D>
  static bool quantize_q8_0_block(const void *src, int64_t first, uint8_t *out) {
    Vec x[4];
    const __m256i magnitude = _mm256_set1_epi32(0x7fffffff);
    __m256i a = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      x[k] = load<D>(src, first + 8 * k);
      // Non-negative floats order like their bits, and every NaN magnitude is above +inf.
      a = _mm256_max_epu32(a, _mm256_and_si256(_mm256_castps_si256(x[k]), magnitude));
    }
    __m128i m = _mm_max_epu32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, 0x4e));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, 0xb1));
    const uint32_t amax_bits = static_cast<uint32_t>(_mm_cvtsi128_si32(m));
    if (amax_bits > 0x7f800000u) return false;
    const float d = f32_from_bits(amax_bits) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t h = static_cast<uint16_t>(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    std::memcpy(out, &h, 2);
    const Vec vid = _mm256_set1_ps(id);
    const __m256i low = _mm256_set1_epi32(0xff);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = _mm256_and_si256(q8_lanes(_mm256_mul_ps(x[k], vid)), low);
    // Values 0..255 pass both unsigned-saturating packs unchanged; the packs interleave 128-bit halves,
    // which the permute puts back in element order.
    const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]), _mm256_packus_epi32(q[2], q[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + 2),
                        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    return true;
  }

  // The 16 canonical lanes live in two vectors: [0] holds lanes 0-7 (elements 0-15 of a group), [1] lanes 8-15.
  struct Dot3Acc {
    Vec xy[2], xx[2], yy[2];
  };

  static void dot3_zero(Dot3Acc &a) {
    for (int h = 0; h < 2; ++h) a.xy[h] = a.xx[h] = a.yy[h] = _mm256_setzero_ps();
  }

  static void dot3_save(const Dot3Acc &a, Dot3Lanes *l) {
    for (int h = 0; h < 2; ++h) {
      _mm256_storeu_ps(l->xy + 8 * h, a.xy[h]);
      _mm256_storeu_ps(l->xx + 8 * h, a.xx[h]);
      _mm256_storeu_ps(l->yy + 8 * h, a.yy[h]);
    }
  }

  // Elements j .. j+15 split into even (j, j+2, ...) and odd (j+1, j+3, ...) elements, one lane per pair.
  template <int32_t D>
  static void load_pairs(const void *p, int64_t j, Vec *even, Vec *odd) {
    if constexpr (D == kBf16) {
      // Each 32-bit word holds one pair: the odd element is its top half, the even one its bottom half.
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(static_cast<const uint16_t *>(p) + j));
      *odd = _mm256_castsi256_ps(_mm256_and_si256(w, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
      *even = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
    } else {
      const Vec lo = load<D>(p, j), hi = load<D>(p, j + 8);
      // shuffle_ps works per 128-bit half; permute4x64 then restores the element order across halves.
      *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xd8));
      *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xdd)), 0xd8));
    }
  }

  template <int32_t XD, int32_t YD>
  static void dot3_group(Dot3Acc &a, const void *x, const void *y, int64_t j) {
    for (int h = 0; h < 2; ++h) {
      Vec xe, xo, ye, yo;
      load_pairs<XD>(x, j + 16 * h, &xe, &xo);
      load_pairs<YD>(y, j + 16 * h, &ye, &yo);
      a.xy[h] = _mm256_fmadd_ps(xe, ye, _mm256_fmadd_ps(xo, yo, a.xy[h]));
      a.xx[h] = _mm256_fmadd_ps(xe, xe, _mm256_fmadd_ps(xo, xo, a.xx[h]));
      a.yy[h] = _mm256_fmadd_ps(ye, ye, _mm256_fmadd_ps(yo, yo, a.yy[h]));
    }
  }
};

void convert(const void *src, int32_t sd, void *dst, int32_t dd, int64_t n, int32_t flags) {
  simd_convert<Avx2>(src, sd, dst, dd, n, flags);
}

void weighted_sum(int32_t count, const void *const *inputs, const int32_t *dtypes, const float *c, void *out,
                  int32_t out_dtype, int64_t n, int32_t flags) {
  simd_weighted_sum<Avx2>(count, inputs, dtypes, c, out, out_dtype, n, flags);
}

void dot3(const void *x, int32_t xd, const void *y, int32_t yd, int64_t n, double *result) {
  simd_dot3<Avx2>(x, xd, y, yd, n, result);
}

void quantize_q8_0(const void *src, int32_t sd, void *dst, int64_t blocks) {
  simd_quantize_q8_0<Avx2>(src, sd, dst, blocks);
}

void dequantize(const void *src, int32_t format, void *dst, int32_t dd, int64_t blocks) {
  simd_dequantize<Avx2>(src, format, dst, dd, blocks);
}

void fusion_histogram_high(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                           int64_t row_length, const float *kl, int64_t *histogram) {
  mk_fusion_high<Avx2>(a, ad, b, bd, n, row, column, row_length, kl, histogram);
}

void fusion_histogram_low(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                          int64_t row_length, const float *kl, int32_t bucket_count, const int32_t *buckets,
                          int64_t *histograms) {
  mk_fusion_low<Avx2>(a, ad, b, bd, n, row, column, row_length, kl, bucket_count, buckets, histograms);
}

void fusion_select(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                   int64_t row_length, const float *kl, float threshold, void *out, int32_t od) {
  mk_fusion_select<Avx2>(a, ad, b, bd, n, row, column, row_length, kl, threshold, out, od);
}

void nearswap(const void *base, int32_t bd, const void *other, int32_t xd, float t, void *out, int32_t od, int64_t n,
              int32_t flags) {
  mk_nearswap_simd<Avx2>(base, bd, other, xd, t, out, od, n, flags);
}

}  // namespace

const KernelTable kAvx2Kernels = {convert,
                                  weighted_sum,
                                  dot3,
                                  quantize_q8_0,
                                  dequantize,
                                  ta_histogram_high,
                                  ta_histogram_low,
                                  ta_philox_uniforms,
                                  ta_philox_keep,
                                  ta_disjoint_merge,
                                  ta_plain_merge,
                                  ta_magnitude_mask,
                                  count_nonfinite,
                                  ta_della_mask,
                                  gram,
                                  fusion_histogram_high,
                                  fusion_histogram_low,
                                  fusion_select,
                                  nearswap,
                                  sce_variance_keys,
                                  sce_histogram_high,
                                  sce_histogram_low,
                                  sce_square_sums,
                                  sce_merge};

}  // namespace amalgam
