// Internal interface between the dispatcher and the per-ISA translation units.
// Each ISA file is compiled with its own -m flags and defines one KernelTable; everything else in those files
// lives in an anonymous namespace so that no inline code compiled for one ISA is merged into another (docs/native.md
// pitfall 9: COMDAT folding could otherwise hand AVX-512 code to the scalar path).
#ifndef AMALGAM_KERNELS_H
#define AMALGAM_KERNELS_H

#include <cstdint>

namespace amalgam {

// Arguments are validated by the dispatcher: non-null pointers, n >= 0, dtypes and formats in range, count >= 1.
struct KernelTable {
  void (*convert)(const void *src, int32_t src_dtype, void *dst, int32_t dst_dtype, int64_t n, int32_t flags);
  void (*weighted_sum)(int32_t count, const void *const *inputs, const int32_t *input_dtypes, const float *coefficients,
                       void *out, int32_t out_dtype, int64_t n, int32_t flags);
  void (*dot3)(const void *x, int32_t x_dtype, const void *y, int32_t y_dtype, int64_t n, double *result);
  // Block kernels count whole blocks of AMALGAM_QUANT_BLOCK elements; format is an amalgam_block_format.
  void (*quantize_q8_0)(const void *src, int32_t src_dtype, void *dst, int64_t blocks);
  void (*dequantize)(const void *src, int32_t format, void *dst, int32_t dst_dtype, int64_t blocks);
  // Task-arithmetic kernels (amalgam.h contract point 8, task_arithmetic.h). The histograms hold 65536 entries;
  // keep_threshold is the integer form of u < p that the dispatcher computes.
  void (*magnitude_histogram_high)(const float *values, int64_t n, int64_t *histogram);
  void (*magnitude_histogram_low)(const float *values, int64_t n, int32_t high, int64_t *histogram);
  void (*philox_uniforms)(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, float *out);
  void (*philox_keep)(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, uint32_t keep_threshold,
                      float *values);
  void (*disjoint_merge)(int32_t models, const float *w, int64_t stride, const float *weights, int64_t n,
                         int32_t normalize, const float *base, float lambda, float *out);
  void (*plain_merge)(int32_t models, const float *w, int64_t stride, int64_t n, float divisor, const float *base,
                      float lambda, float *out);
  void (*magnitude_mask)(float *values, int64_t n, int32_t keep_bits, int64_t keep_equal, int32_t drop_bits,
                         int64_t drop_equal, int64_t *seen);
  // counts[0] += NaNs, counts[1] += infinities (amalgam_count_nonfinite).
  void (*count_nonfinite)(const void *src, int32_t dtype, int64_t n, int64_t *counts);
  // Method kernels (amalgam.h contract point 9). DELLA: n is a multiple of row; keys holds 3 * row, uniforms row.
  void (*della_mask)(uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n, int64_t row, double density,
                     double epsilon, float *values, uint64_t *keys, float *uniforms);
  // Gram: acc holds count * (count + 1) / 2 sums, count in 1 .. AMALGAM_GRAM_MAX_INPUTS; base may be null.
  void (*gram)(int32_t count, const void *const *inputs, const int32_t *dtypes, const void *base, int32_t base_dtype,
               int64_t n, double *acc);
  // Method kernels (contract point 9, method_kernels.h). The fusion kernels get the row of element 0 (first /
  // row_length) and its column (first % row_length), so they never divide; buckets has bucket_count entries.
  void (*fusion_histogram_high)(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                                int64_t column, int64_t row_length, const float *kl, int64_t *histogram);
  void (*fusion_histogram_low)(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                               int64_t column, int64_t row_length, const float *kl, int32_t bucket_count,
                               const int32_t *buckets, int64_t *histograms);
  void (*fusion_select)(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, int64_t n, int64_t row,
                        int64_t column, int64_t row_length, const float *kl, float threshold, void *out,
                        int32_t out_dtype);
  void (*nearswap)(const void *base, int32_t base_dtype, const void *other, int32_t other_dtype, float t, void *out,
                   int32_t out_dtype, int64_t n, int32_t flags);
  // SCE kernels (amalgam.h contract point 9, sce.h); models >= 1, stride >= n.
  void (*sce_variance_keys)(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int32_t *keys);
  void (*sce_histogram_high)(int32_t models, const float *x, int64_t stride, const float *b, int64_t n,
                             int64_t *histogram, int64_t *nonzero, int32_t *keys);
  void (*sce_histogram_low)(int32_t models, const float *x, int64_t stride, const float *b, int64_t n, int32_t high,
                            int64_t *histogram);
  // keys may be null (see amalgam.h).
  void (*sce_square_sums)(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys,
                          int64_t n, int32_t threshold, int64_t equal_kept, int64_t *seen, double *sums);
  void (*sce_merge)(int32_t models, const float *x, int64_t stride, const float *b, const int32_t *keys, int64_t n,
                    int32_t threshold, int64_t equal_kept, int64_t *seen, const double *weights, float *out);
};

extern const KernelTable kScalarKernels;
#ifdef AMALGAM_HAVE_AVX2
extern const KernelTable kAvx2Kernels;
#endif
#ifdef AMALGAM_HAVE_AVX512
extern const KernelTable kAvx512Kernels;
#endif
#ifdef AMALGAM_HAVE_AVX512_BF16
extern const KernelTable kAvx512Bf16Kernels;
#endif

}  // namespace amalgam

#endif  // AMALGAM_KERNELS_H
