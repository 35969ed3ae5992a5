// AVX-512 F/BW/VL path (with F16C and FMA). Compiled with -mavx512f -mavx512bw -mavx512vl (AmalgamIsa.cmake).
#include "avx512_traits.h"
#include "kernels.h"
#include "nonfinite.h"
#include "sce.h"
#include "task_arithmetic.h"

namespace amalgam {
namespace {

void convert(const void *src, int32_t sd, void *dst, int32_t dd, int64_t n, int32_t flags) {
  simd_convert<Avx512>(src, sd, dst, dd, n, flags);
}

void weighted_sum(int32_t count, const void *const *inputs, const int32_t *dtypes, const float *c, void *out,
                  int32_t out_dtype, int64_t n, int32_t flags) {
  simd_weighted_sum<Avx512>(count, inputs, dtypes, c, out, out_dtype, n, flags);
}

void dot3(const void *x, int32_t xd, const void *y, int32_t yd, int64_t n, double *result) {
  simd_dot3<Avx512>(x, xd, y, yd, n, result);
}

void quantize_q8_0(const void *src, int32_t sd, void *dst, int64_t blocks) {
  simd_quantize_q8_0<Avx512>(src, sd, dst, blocks);
}

void dequantize(const void *src, int32_t format, void *dst, int32_t dd, int64_t blocks) {
  simd_dequantize<Avx512>(src, format, dst, dd, blocks);
}

}  // namespace

const KernelTable kAvx512Kernels = {convert,           weighted_sum,       dot3,
                                    quantize_q8_0,     dequantize,         ta_histogram_high,
                                    ta_histogram_low,  ta_philox_uniforms, ta_philox_keep,
                                    ta_disjoint_merge, ta_plain_merge,     ta_magnitude_mask,
                                    count_nonfinite,   sce_variance_keys,  sce_histogram_high,
                                    sce_histogram_low, sce_square_sums,    sce_merge};

}  // namespace amalgam
