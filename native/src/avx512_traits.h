// AVX-512 F/BW/VL traits for simd_kernels.h: 16 f32 lanes, exactly the 16 canonical dot3 lanes.
// Shared by kernels_avx512.cpp and kernels_avx512_bf16.cpp; in an anonymous namespace like every ISA helper.
#ifndef AMALGAM_AVX512_TRAITS_H
#define AMALGAM_AVX512_TRAITS_H

#include <immintrin.h>

#include "simd_kernels.h"

namespace amalgam {
namespace {

struct Avx512 {
  static constexpr int64_t kLanes = 16;
  using Vec = __m512;

  static Vec splat(float c) { return _mm512_set1_ps(c); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static void stream_fence() { _mm_sfence(); }

  static __m256i load_halves(const void *p, int64_t i) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(static_cast<const uint16_t *>(p) + i));
  }

  template <int32_t D>
  static Vec load(const void *p, int64_t i) {
    if constexpr (D == kF32) {
      return _mm512_loadu_ps(static_cast<const float *>(p) + i);
    } else if constexpr (D == kF16) {
      return _mm512_cvtph_ps(load_halves(p, i));
    } else {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(load_halves(p, i)), 16));
    }
  }

  // f32 -> bf16 round to nearest even in integer lanes on every AVX-512 path, including AVX512_BF16: its
  // vcvtne2ps2bf16 flushes subnormals to zero (docs/native.md pitfall 11). NaN -> (bits >> 16) | 0x40.
  // Each 32-bit lane of the result holds one bf16.
  static __m512i bf16_lanes(Vec v) {
    const __m512i u = _mm512_castps_si512(v);
    const __m512i high = _mm512_srli_epi32(u, 16);
    const __m512i bias = _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(high, _mm512_set1_epi32(1)));
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, bias), 16);
    const __mmask16 is_nan =
        _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    return _mm512_mask_or_epi32(rounded, is_nan, high, _mm512_set1_epi32(0x40));
  }

  static void store_f32(float *p, Vec v) { _mm512_storeu_ps(p, v); }

  template <bool kStream>
  static void store_bytes(void *p, __m512i v) {
    if constexpr (kStream) {
      _mm512_stream_si512(static_cast<__m512i *>(p), v);
    } else {
      _mm512_storeu_si512(p, v);
    }
  }

  // Two vectors per call so that a 16-bit output is written with whole 64-byte stores (one cache line each
  // when streaming).
  // Always inlined: an out-of-line copy (once many kernels call it) trips GCC 12's false -Wuninitialized on the
  // _mm512_undefined_epi32() inside its shift and permute intrinsics.
  template <int32_t D, bool kStream>
  __attribute__((always_inline)) static void store_pair(void *p, int64_t i, Vec v0, Vec v1) {
    if constexpr (D == kF32) {
      store_bytes<kStream>(static_cast<float *>(p) + i, _mm512_castps_si512(v0));
      store_bytes<kStream>(static_cast<float *>(p) + i + 16, _mm512_castps_si512(v1));
    } else if constexpr (D == kF16) {
      const int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
      const __m512i both =
          _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtps_ph(v0, kRound)), _mm512_cvtps_ph(v1, kRound), 1);
      store_bytes<kStream>(static_cast<uint16_t *>(p) + i, both);
    } else {
      // Every lane is <= 0xffff, so unsigned saturation packs it unchanged; the pack interleaves the two
      // inputs per 128-bit lane, which the 64-bit permute puts back in order.
      const __m512i packed = _mm512_packus_epi32(bf16_lanes(v0), bf16_lanes(v1));
      const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
      store_bytes<kStream>(static_cast<uint16_t *>(p) + i, _mm512_permutexvar_epi64(order, packed));
    }
  }

  static Vec i8_to_f32(const int8_t *p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))));
  }

  // round_half_away then Java's (int) (contract point 7), truncated to int8 as Java's (byte) cast. cvttps2dq
  // gives 0x80000000 for NaN and out-of-range lanes (low byte 0, as Java's NaN -> 0 and -2^31); lanes >= 2^31
  // take Java's 2^31 - 1.
  static __m128i q8_lanes(Vec v) {
    const Vec t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(static_cast<int>(0x80000000u)));
    const Vec one = _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_castps_si512(_mm512_set1_ps(1.0f))));
    const Vec r = _mm512_mask_add_ps(t, up, t, one);
    const __mmask16 over = _mm512_cmp_ps_mask(r, _mm512_set1_ps(2147483648.0f), _CMP_GE_OQ);
    const __m512i q = _mm512_mask_mov_epi32(_mm512_cvttps_epi32(r), over, _mm512_set1_epi32(0x7fffffff));
    return _mm512_cvtepi32_epi8(q);
  }

  template <int32_t D>
  static bool quantize_q8_0_block(const void *src, int64_t first, uint8_t *out) {
    const Vec x0 = load<D>(src, first), x1 = load<D>(src, first + 16);
    // Non-negative floats order like their bits, and every NaN magnitude is above +inf.
    const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
    const __m512i a = _mm512_max_epu32(_mm512_and_si512(_mm512_castps_si512(x0), magnitude),
                                       _mm512_and_si512(_mm512_castps_si512(x1), magnitude));
    __m256i m = _mm256_max_epu32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
    __m128i m4 = _mm_max_epu32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    m4 = _mm_max_epu32(m4, _mm_shuffle_epi32(m4, 0x4e));
    m4 = _mm_max_epu32(m4, _mm_shuffle_epi32(m4, 0xb1));
    const uint32_t amax_bits = static_cast<uint32_t>(_mm_cvtsi128_si32(m4));
    if (amax_bits > 0x7f800000u) return false;
    const float d = f32_from_bits(amax_bits) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t h = static_cast<uint16_t>(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    std::memcpy(out, &h, 2);
    const Vec vid = _mm512_set1_ps(id);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 2), q8_lanes(_mm512_mul_ps(x0, vid)));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 18), q8_lanes(_mm512_mul_ps(x1, vid)));
    return true;
  }

  struct Dot3Acc {
    Vec xy, xx, yy;
  };

  static void dot3_zero(Dot3Acc &a) { a.xy = a.xx = a.yy = _mm512_setzero_ps(); }

  static void dot3_save(const Dot3Acc &a, Dot3Lanes *l) {
    _mm512_storeu_ps(l->xy, a.xy);
    _mm512_storeu_ps(l->xx, a.xx);
    _mm512_storeu_ps(l->yy, a.yy);
  }

  // Elements j .. j+31 split into even (j, j+2, ...) and odd (j+1, j+3, ...) elements: lane l gets pair l.
  template <int32_t D>
  static void load_pairs(const void *p, int64_t j, Vec *even, Vec *odd) {
    if constexpr (D == kBf16) {
      // Each 32-bit word holds one pair: the odd element is its top half, the even one its bottom half.
      const __m512i w = _mm512_loadu_si512(static_cast<const uint16_t *>(p) + j);
      *odd = _mm512_castsi512_ps(_mm512_and_si512(w, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
      *even = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
    } else {
      const Vec lo = load<D>(p, j), hi = load<D>(p, j + 16);
      const __m512i even_index = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
      const __m512i odd_index = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
      *even = _mm512_permutex2var_ps(lo, even_index, hi);
      *odd = _mm512_permutex2var_ps(lo, odd_index, hi);
    }
  }

  // Widen + FMA: the odd element of each pair first, then the even one (contract point 6).
  template <int32_t XD, int32_t YD>
  static void dot3_group(Dot3Acc &a, const void *x, const void *y, int64_t j) {
    Vec xe, xo, ye, yo;
    load_pairs<XD>(x, j, &xe, &xo);
    load_pairs<YD>(y, j, &ye, &yo);
    a.xy = _mm512_fmadd_ps(xe, ye, _mm512_fmadd_ps(xo, yo, a.xy));
    a.xx = _mm512_fmadd_ps(xe, xe, _mm512_fmadd_ps(xo, xo, a.xx));
    a.yy = _mm512_fmadd_ps(ye, ye, _mm512_fmadd_ps(yo, yo, a.yy));
  }
};

}  // namespace
}  // namespace amalgam

#endif  // AMALGAM_AVX512_TRAITS_H
