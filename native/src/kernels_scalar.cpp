// Portable path: the canonical arithmetic of amalgam.h, one element at a time.
#include "kernels.h"
#include "method_kernels.h"
#include "nonfinite.h"
#include "scalar_math.h"
#include "sce.h"
#include "spherical.h"
#include "task_arithmetic.h"

namespace amalgam {
namespace {

void convert(const void *src, int32_t src_dtype, void *dst, int32_t dst_dtype, int64_t n, int32_t /*flags*/) {
  convert_scalar_range(src, src_dtype, dst, dst_dtype, 0, n);
}

void weighted_sum(int32_t count, const void *const *inputs, const int32_t *dtypes, const float *c, void *out,
                  int32_t out_dtype, int64_t n, int32_t /*flags*/) {
  weighted_sum_scalar_range(count, inputs, dtypes, c, out, out_dtype, 0, n);
}

void dot3(const void *x, int32_t xd, const void *y, int32_t yd, int64_t n, double *result) {
  double total[3] = {0.0, 0.0, 0.0};
  Dot3Lanes lanes;
  for (int64_t block = 0; block < n; block += AMALGAM_DOT_BLOCK) {
    int64_t end = block + AMALGAM_DOT_BLOCK < n ? block + AMALGAM_DOT_BLOCK : n;
    dot3_lanes_reset(&lanes);
    for (int64_t j = block; j < end; j += 32) dot3_group_scalar(&lanes, x, xd, y, yd, j, n);
    dot3_lanes_flush(&lanes, total);
  }
  result[0] = total[0];
  result[1] = total[1];
  result[2] = total[2];
}

void quantize_q8_0(const void *src, int32_t src_dtype, void *dst, int64_t blocks) {
  uint8_t *out = static_cast<uint8_t *>(dst);
  for (int64_t b = 0; b < blocks; ++b)
    quantize_q8_0_block_scalar(src, src_dtype, b * kQuantBlock, out + b * kQ8_0Bytes);
}

void dequantize(const void *src, int32_t format, void *dst, int32_t dst_dtype, int64_t blocks) {
  const uint8_t *in = static_cast<const uint8_t *>(src);
  const int64_t size = block_bytes(format);
  for (int64_t b = 0; b < blocks; ++b) dequantize_block_scalar(in + b * size, format, dst, dst_dtype, b * kQuantBlock);
}

}  // namespace

const KernelTable kScalarKernels = {convert,
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
                                    mk_fusion_high_scalar,
                                    mk_fusion_low_scalar,
                                    mk_fusion_select_scalar,
                                    mk_nearswap_scalar_all,
                                    sce_variance_keys,
                                    sce_histogram_high,
                                    sce_histogram_low,
                                    sce_square_sums,
                                    sce_merge};

}  // namespace amalgam
