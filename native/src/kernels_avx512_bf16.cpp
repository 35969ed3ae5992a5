// AVX-512 + AVX512_BF16 path: the AVX-512 path except that bf16 x bf16 dot3 uses vdpbf16ps. Compiled with the
// AVX-512 flags plus -mavx512bf16 (AmalgamIsa.cmake).
//
// vdpbf16ps computes, per lane l, acc = (acc + x[2l+1] * y[2l+1]) + x[2l] * y[2l] with each addition rounded to
// nearest even: the odd-then-even order of contract point 6. A product of two bf16 values is exact in f32, so
// this equals the two fmaf steps bit for bit, except that the instruction flushes subnormal inputs, products
// and results to zero (amalgam.h contract point 4). Conversions stay on integer rounding (avx512_traits.h).
#include "avx512_traits.h"
#include "kernels.h"
#include "method_kernels.h"
#include "nonfinite.h"
#include "sce.h"
#include "spherical.h"
#include "task_arithmetic.h"

namespace amalgam {
namespace {

struct Avx512Bf16 : Avx512 {
  template <int32_t XD, int32_t YD>
  static void dot3_group(Dot3Acc &a, const void *x, const void *y, int64_t j) {
    if constexpr (XD == kBf16 && YD == kBf16) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(static_cast<const uint16_t *>(x) + j);
      const __m512bh yv = (__m512bh)_mm512_loadu_si512(static_cast<const uint16_t *>(y) + j);
      a.xy = _mm512_dpbf16_ps(a.xy, xv, yv);
      a.xx = _mm512_dpbf16_ps(a.xx, xv, xv);
      a.yy = _mm512_dpbf16_ps(a.yy, yv, yv);
    } else {
      Avx512::dot3_group<XD, YD>(a, x, y, j);
    }
  }
};

void convert(const void *src, int32_t sd, void *dst, int32_t dd, int64_t n, int32_t flags) {
  simd_convert<Avx512Bf16>(src, sd, dst, dd, n, flags);
}

void weighted_sum(int32_t count, const void *const *inputs, const int32_t *dtypes, const float *c, void *out,
                  int32_t out_dtype, int64_t n, int32_t flags) {
  simd_weighted_sum<Avx512Bf16>(count, inputs, dtypes, c, out, out_dtype, n, flags);
}

void dot3(const void *x, int32_t xd, const void *y, int32_t yd, int64_t n, double *result) {
  simd_dot3<Avx512Bf16>(x, xd, y, yd, n, result);
}

void quantize_q8_0(const void *src, int32_t sd, void *dst, int64_t blocks) {
  simd_quantize_q8_0<Avx512Bf16>(src, sd, dst, blocks);
}

void dequantize(const void *src, int32_t format, void *dst, int32_t dd, int64_t blocks) {
  simd_dequantize<Avx512Bf16>(src, format, dst, dd, blocks);
}

void fusion_histogram_high(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                           int64_t row_length, const float *kl, int64_t *histogram) {
  mk_fusion_high<Avx512Bf16>(a, ad, b, bd, n, row, column, row_length, kl, histogram);
}

void fusion_histogram_low(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                          int64_t row_length, const float *kl, int32_t bucket_count, const int32_t *buckets,
                          int64_t *histograms) {
  mk_fusion_low<Avx512Bf16>(a, ad, b, bd, n, row, column, row_length, kl, bucket_count, buckets, histograms);
}

void fusion_select(const void *a, int32_t ad, const void *b, int32_t bd, int64_t n, int64_t row, int64_t column,
                   int64_t row_length, const float *kl, float threshold, void *out, int32_t od) {
  mk_fusion_select<Avx512Bf16>(a, ad, b, bd, n, row, column, row_length, kl, threshold, out, od);
}

void nearswap(const void *base, int32_t bd, const void *other, int32_t xd, float t, void *out, int32_t od, int64_t n,
              int32_t flags) {
  mk_nearswap_simd<Avx512Bf16>(base, bd, other, xd, t, out, od, n, flags);
}

}  // namespace

const KernelTable kAvx512Bf16Kernels = {convert,
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
