/*
 * amalgam.h - the whole C ABI of Amalgam's native kernels (libamalgam.so). The llama.cpp bridge has its own
 * header, amalgam_llama.h.
 *
 * Contract:
 *  1. Every function is extern "C", never throws, and returns an amalgam_status (0 = AMALGAM_OK) unless it
 *     says otherwise. Callers (the Java peer dev.amalgam.kernels.jni.AmalgamNative) validate arguments first;
 *     the checks here are a second line of defence, not the API's error reporting.
 *  2. Memory is passed as int64_t addresses of caller-owned memory (direct NIO buffers, mapped files). The
 *     kernels allocate nothing (amalgam_weighted_sum allocates only a pointer table, and only for more than 64
 *     inputs), keep no pointer after a call returns and hold no global mutable state, so every function is
 *     thread-safe; callers split work across threads themselves.
 *  3. Element counts are int64_t and must be >= 0. Buffers are little-endian and need no alignment.
 *  4. isa selects the instruction-set path: AMALGAM_ISA_BEST, or any value <= amalgam_isa_best(); a larger
 *     value returns AMALGAM_ERR_UNSUPPORTED_ISA. Every path produces the same bits (see 6) except that
 *     AMALGAM_ISA_AVX512_BF16 computes bf16 x bf16 reductions with vdpbf16ps, which flushes subnormal inputs,
 *     products and sums to zero (on normal data it gives the same bits).
 *  5. Conversions: bf16 and f16 -> f32 are exact. f32 -> bf16 and f32 -> f16 round to nearest even, keep
 *     subnormals (f16) and infinities, and turn every NaN into a quiet NaN of the same sign whose payload is
 *     the source payload's top bits (bf16: (bits >> 16) | 0x0040; f16: sign | 0x7e00 | (mantissa >> 13)).
 *  6. Canonical arithmetic, which the Java reference (dev.amalgam.kernels.JavaKernels) reproduces bit for bit:
 *     weighted sum: acc = c[0] * x0[i] (f32 multiply); acc = fmaf(c[k], xk[i], acc) for k = 1..count-1 in
 *       order; out[i] = convert(acc).
 *     dot3: the range is cut into blocks of AMALGAM_DOT_BLOCK elements counted from the first element. In a
 *       block, 16 f32 lanes per sum start at +0. Each group of 32 elements (j = 32g .. 32g+31) updates lane l
 *       with acc[l] = fmaf(x[j+2l+1], y[j+2l+1], acc[l]) and then acc[l] = fmaf(x[j+2l], y[j+2l], acc[l]);
 *       elements past n read as +0. At the end of a block s = 0.0 (double); s += (double)acc[l] for l = 0..15;
 *       total += s. total starts at 0.0. result[0] = sum x*y, result[1] = sum x*x, result[2] = sum y*y.
 *       The result therefore depends on where a range starts: callers that split a tensor across calls must
 *       cut at fixed multiples of AMALGAM_DOT_BLOCK (Java uses AMALGAM_DOT_SEGMENT) to stay deterministic.
 *     NaN: arithmetic follows x86 SSE/AVX rules (the default MXCSR: round to nearest, no FTZ/DAZ). A NaN
 *       operand is quieted and passed on, a NaN multiplicand before a NaN addend, and an invalid operation
 *       (0 * inf, inf - inf) gives the default NaN 0xffc00000. So a weighted sum with non-NaN coefficients
 *       gives the same bits on every path, and in the Java reference on an x86 JVM whose Math.fma is the FMA
 *       instruction (HotSpot's default), for every input, NaN payloads included. Which of two NaN
 *       multiplicands wins depends on the instruction form a compiler picks and is unspecified: a NaN
 *       coefficient meeting a NaN input, and x[i] * y[i] with both NaN (dot3 results that are NaN may carry
 *       any payload).
 *  7. Block formats (ggml's, docs/formats.md §2.4): a block holds AMALGAM_QUANT_BLOCK = 32 elements; Q8_0 is
 *     f16 d then 32 int8 qs (34 bytes), Q4_0 is f16 d then 16 bytes of nibbles (18 bytes). Element counts of the block
 *     functions must be multiples of 32, else AMALGAM_ERR_BAD_BLOCK_COUNT.
 *     quantize Q8_0 (ggml's quantize_row_q8_0_ref as the Java reference GgufQuant.quantizeQ8_0 computes it), per
 *       block of source values x[0..31], each widened exactly to f32:
 *       a[j] = bits(x[j]) & 0x7fffffff. If some a[j] is a NaN, the block is d = 0x7e00 | ((a[k] >> 13) & 0x3ff)
 *       for the first such k (the f16 of that NaN's magnitude, quieted) and qs = 0. Otherwise amax = max a[j];
 *       d = amax / 127 (f32 division); id = d != 0 ? 1 / d : 0 (f32, from the unrounded d); the stored d is
 *       f32 -> f16 of d (point 5; amax > 65504 * 127 stores infinity); qs[j] = low 8 bits of
 *       java_int(round_half_away(x[j] * id)), where the product is one f32 multiply, round_half_away is exact
 *       (t = trunc(v); t + sign(v) if |v - t| >= 0.5) and java_int is Java's (int) conversion: NaN -> 0,
 *       >= 2^31 -> 2^31 - 1, <= -2^31 -> -2^31. So an infinite block (no NaN) is d = f16 infinity, qs = 0, and a
 *       block whose d is subnormal can have |x * id| > 127, which wraps like Java's (byte) cast.
 *     dequantize: x[j] = (float) q[j] * f16_to_f32(d) (one f32 multiply), q[j] = qs[j] for Q8_0 and
 *       (nibble - 8) for Q4_0 (low nibbles of the 16 bytes are elements 0..15, high nibbles 16..31); then x is
 *       stored as the destination dtype (point 5).
 *  8. Task-arithmetic kernels (docs/merge-semantics.md §2.7). All f32 arithmetic is one IEEE operation at a
 *     time in the order written, with no FMA; a = bits(v) & 0x7fffffff is a value's magnitude as an integer.
 *     histograms: high adds 1 to histogram[a >> 16] per element; low adds 1 to histogram[a & 0xffff] for the
 *       elements with a >> 16 == high. Both add to the counts already there (callers sum partial histograms).
 *     Philox: element e (>= 0) of the stream (seed, stream_hash) takes word e & 3 of Philox4x32-10 (Random123's
 *       philox4x32_R(10)) of the counter (lo32(e >> 2), hi32(e >> 2), lo32(stream_hash), hi32(stream_hash)) under
 *       the key (lo32(seed), hi32(seed)); m = word >> 8 (24 bits) and the uniform is u = m * 2^-24, exact in f32.
 *       A Bernoulli(p) draw keeps the element iff u < p, tested exactly as m < ceil(p * 2^24) (p <= 0 or NaN
 *       keeps nothing, p >= 1 everything); a dropped value becomes +0 and a kept one keeps its bits.
 *     magnitude masks: amalgam_magnitude_mask's comment gives the threshold walk; the keep and drop counters
 *       carry across calls, so a tensor split into calls in element order gives the same mask as one call.
 *     disjoint merge (TIES): sum = w[0] + ... + w[models-1] (each w[k * stride + i]); the sign is positive iff
 *       sum >= 0. mixed and divisor sum, in model order, the w and weights[k] of the models whose w is > 0
 *       (positive) or < 0 (negative). With normalize, mixed = mixed / divisor, divisor 0 counting as 1. Then
 *       mixed = mixed * lambda unless lambda == 1, and out[i] = base[i] + mixed.
 *     plain merge: mixed = w[0] + ... + w[models-1]; mixed = mixed / divisor unless divisor == 1; mixed =
 *       mixed * lambda unless lambda == 1; out[i] = base[i] + mixed.
 *  9. Method kernels (ABI 6; docs/merge-semantics.md §2). Each is the per-element step of one merge method, over a
 *     range the caller chose; the caller (Java) owns the passes, the thread split and every state that crosses
 *     ranges, so a kernel's result depends only on its arguments. The split keeps the bits the same at any thread
 *     count: reductions are either integer counts (added in any order) or sums whose order the kernel's comment
 *     fixes. A CUDA mirror implements the same functions with the same contracts, one for one. Scratch memory is
 *     always passed in by the caller.
 *     DELLA (amalgam_della_mask): per row of row_length elements, element j of the row (tensor element e) has the
 *       Philox uniform u of e (point 8) and a = bits(values) & 0x7fffffff; its rank r is its position in the
 *       ascending order of (a, j) (ties by index). p = row_length > 1 ? (density - epsilon) + 2.0 * epsilon * r /
 *       (row_length - 1) : density - epsilon, in double, one operation at a time left to right (r and
 *       row_length - 1 converted to double); the element becomes +0 unless (double) u < p. Rows are independent,
 *       so any split into whole rows gives the same bits.
 *     Gram (amalgam_gram): x_i = input i's element e widened to f32, minus the base's element (one f32
 *       subtraction) when a base is given; then for i = 0..count-1, for j = i..count-1 in that order,
 *       acc[k++] += (double) x_i * (double) x_j (the product is exact; one double addition). Elements are taken in
 *       order e = 0..n-1, so each acc[k] is one chain of additions: a tensor split into calls in element order
 *       gives the same sums, and the pass cannot be split across threads without changing them.
 *     arcee_fusion's shared definitions (the three amalgam_fusion_* kernels): a and b are the base and the other
 *       model, each element widened exactly to f32. Rows are the tensor's last dimension: element i of a call is
 *       tensor element first + i, in row (first + i) / row_length, whose KL divergence is kl[row] (an f32 the caller
 *       computed in Java: exp and log stay there, as HotSpot's Math.exp and Math.log cannot be reproduced bit for
 *       bit here). A kernel walks the rows (no division per element), so the caller can split a range anywhere.
 *       The importance is d = |b - a| (one f32 subtraction, then the sign bit cleared) if d is a NaN, else
 *       d * kl[row] (one f32 multiply; a NaN kl gives kl quieted). Its sortable key is
 *       k = bits ^ ((bits >> 31) & 0x7fffffff) (arithmetic shift: the signed order of k is the float order, NaNs
 *       with the sign bit set first, with it clear last); top = (uint32_t)k >> 16, low = k & 0xffff.
 *     amalgam_fusion_histogram_high: adds 1 to histogram[top] per element. An integer count: callers add the
 *       histograms of their ranges in any order.
 *     amalgam_fusion_histogram_low: adds 1 to histograms[j * 65536 + low] for every j with buckets[j] == top (equal
 *       buckets each count), per element; added like the high histogram.
 *     amalgam_fusion_select: out[i] = importance >= threshold (f32 compare, false for a NaN) ? a + (b - a) : a (two
 *       f32 operations in that order), stored as out_dtype (point 5).
 *     amalgam_nearswap: with b the base and x the other model widened exactly to f32, and Java's Math.max and
 *       Math.min semantics (a NaN operand is returned, -0 < +0): m = max(|b - x|, 1e-6f) (the sign bit of b - x
 *       cleared); w = t / m; w = max(+0, min(1, w)); out = w if w is a NaN, else fmaf(w, x, (1 - w) * b) (f32, one
 *       rounding for the fma), stored as out_dtype (point 5). So a NaN input gives |b - x|: b's NaN if both are,
 *       quieted, with the sign bit clear. Element-wise: callers split a range anywhere.
 *     SCE (docs/merge-semantics.md §2.8): models >= 1 task-vector inputs x[k * stride + i] (f32, the stored inputs
 *       widened exactly) and the base b[i] (f32), all arithmetic in double, one IEEE operation at a time in the
 *       order written, no FMA. delta_k = (double)x[k * stride + i] - (double)b[i]; total = 0.0 + delta_0 + ... +
 *       delta_{models-1} (left to right); mean = total / models; variance = 0.0 + e_0 * e_0 + ... with
 *       e_k = delta_k - mean; key = bits((float)(variance / models)) (round to nearest), every NaN as 0x7fc00000
 *       (Java's floatToIntBits): keys are >= 0 and order like the variances, a NaN above +inf. (Where models is a
 *       power of two, multiplying by 1.0 / models instead of dividing gives the same bits, and is faster.)
 *     SCE selection (threshold t, equal_kept e, counter s = seen[0]), in element order: kept iff key > t, or
 *       key == t and s < e (then s += 1). t < 0 keeps every element and t > 0x7fc00000 none; neither computes
 *       keys or moves s. The caller runs a tensor's ranges with s set to min(e, the keys == t before the range).
 *       The kernels that select read the keys where the caller kept them (they must be the keys above), else
 *       compute them.
 *     SCE histograms: high adds 1 to histogram[key >> 16] per element and adds the count of non-zero keys to
 *       nonzero[0]; low adds 1 to histogram[key & 0xffff] for the keys with key >> 16 == high. Both add to the
 *       counts there (callers sum partial histograms).
 *     SCE square sums: for each element in element order, sums[k] = sums[k] + (kept ? delta_k * delta_k : -0.0)
 *       for k = 0 .. models-1: one chain of additions per model on top of the value in sums (the caller sums each
 *       AMALGAM_DOT_SEGMENT segment from +0 and adds the segments in order). Adding -0.0 leaves every value but a
 *       signalling NaN as it is, so this is the sum of the kept squares without a branch per element.
 *     SCE merge: merged = 0.0 unless the element is kept; then positive = total >= 0 (false for NaN); numerator
 *       and divisor start at 0.0 and add, in model order, weights[k] * delta_k and weights[k] for the k with
 *       delta_k > 0 (positive) or delta_k < 0 (negative); merged = numerator / (divisor < 1e-6 ? 1e-6 : divisor)
 *       (Java's Math.max: a NaN divisor stays). out[i] = (float)((double)b[i] + merged), round to nearest.
 * 10. CUDA (ABI 7; docs/native.md §6). The optional libamalgam_cuda.so mirrors every kernel table entry. This library
 *     never links it: the caller loads it where it exists (with RTLD_GLOBAL) and passes the address of its
 *     amalgam_cuda_entry function to amalgam_cuda_attach, so libamalgam.so loads on machines without CUDA or a
 *     driver. Then isa = AMALGAM_ISA_CUDA_FIRST + d runs the kernels on CUDA device d with the same arguments
 *     (host memory) and contracts: each call stages its ranges through pinned buffers on two streams, copying piece
 *     p + 1 in while piece p runs and piece p - 1 comes back, and returns when its outputs are in host memory.
 *     Results have the CPU's bits, NaN payloads included (the device code applies the x86 NaN rules of point 6),
 *     except the two sums whose order the contract fixes as one chain over every element: amalgam_gram and
 *     amalgam_sce_square_sums add in a fixed tree order on the device (deterministic; the relative difference from
 *     the chain is bounded in docs/native.md §6). amalgam_task_vector runs on the CPU on a CUDA path. A call that
 *     meets a CUDA error returns AMALGAM_ERR_CUDA and amalgam_cuda_last_error() gives the cudaError_t value.
 *     The amalgam_cuda_device_* functions take device pointers and a cudaStream_t (as int64_t) for applications that
 *     already hold device memory; they enqueue the kernel and return without waiting, except dot3, which waits for
 *     its three sums. Their arguments are checked like the host functions' (device memory itself cannot be).
 */
#ifndef AMALGAM_H
#define AMALGAM_H

#include <stdint.h>

#if defined(_WIN32)
#define AMALGAM_API __declspec(dllexport)
#else
#define AMALGAM_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this ABI; the Java peer refuses a library whose version differs from its own. */
#define AMALGAM_ABI_VERSION 7

/** Elements per dot3 block (see 6). */
#define AMALGAM_DOT_BLOCK 4096
/** Elements per deterministic reduction segment used by the Java side; a multiple of AMALGAM_DOT_BLOCK. */
#define AMALGAM_DOT_SEGMENT 1048576

/** Most inputs amalgam_gram takes (contract point 9). */
#define AMALGAM_GRAM_MAX_INPUTS 64

/** Counters of each magnitude histogram (contract point 8): one per value of 16 bits. */
#define AMALGAM_MAGNITUDE_BUCKETS 65536

/** Elements per block of the block formats (contract point 7). */
#define AMALGAM_QUANT_BLOCK 32

/** Block formats; the values equal ggml's type ids (and dev.amalgam.kernels.BlockFormat#ggmlId()). */
enum amalgam_block_format { AMALGAM_BLOCK_Q4_0 = 2, AMALGAM_BLOCK_Q8_0 = 8 };

/** Element types; the values equal dev.amalgam.tensor.DType#kernelCode(). */
enum amalgam_dtype { AMALGAM_DTYPE_F32 = 0, AMALGAM_DTYPE_F16 = 1, AMALGAM_DTYPE_BF16 = 2 };

/** Instruction-set paths, ordered: every CPU that runs a path also runs the ones below it. */
enum amalgam_isa {
  AMALGAM_ISA_BEST = -1,
  AMALGAM_ISA_SCALAR = 0,     /* portable C++, baseline x86-64 or any other target */
  AMALGAM_ISA_AVX2 = 1,       /* AVX2 + FMA + F16C */
  AMALGAM_ISA_AVX512 = 2,     /* AVX-512 F/BW/VL */
  AMALGAM_ISA_AVX512_BF16 = 3 /* AVX-512 + AVX512_BF16 */
};

/** isa values AMALGAM_ISA_CUDA_FIRST + d select CUDA device d once the CUDA library is attached (point 10). */
#define AMALGAM_ISA_CUDA_FIRST 64
/** Most CUDA devices an isa value can name. */
#define AMALGAM_CUDA_MAX_DEVICES 64

/** Status codes; amalgam_status_message() names each. */
enum amalgam_status {
  AMALGAM_OK = 0,
  AMALGAM_ERR_NULL_POINTER = -1,
  AMALGAM_ERR_NEGATIVE_COUNT = -2,
  AMALGAM_ERR_BAD_DTYPE = -3,
  AMALGAM_ERR_BAD_INPUT_COUNT = -4,
  AMALGAM_ERR_UNSUPPORTED_ISA = -5,
  AMALGAM_ERR_BAD_ADVICE = -6,
  AMALGAM_ERR_SYSTEM = -7,
  AMALGAM_ERR_BAD_BLOCK_COUNT = -8,
  AMALGAM_ERR_BAD_ARGUMENT = -9,
  AMALGAM_ERR_CUDA = -10,   /* a CUDA call failed; amalgam_cuda_last_error() gives its cudaError_t */
  AMALGAM_ERR_NO_CUDA = -11 /* amalgam_cuda_attach has not succeeded */
};

/** Flags for amalgam_weighted_sum and amalgam_convert. */
enum amalgam_flags {
  /** Write the output with non-temporal stores: pays when the output will not be read again soon. */
  AMALGAM_FLAG_STREAM_STORES = 1
};

/** Advice for amalgam_advise (madvise on Linux). */
enum amalgam_advice {
  AMALGAM_ADVICE_SEQUENTIAL = 1,
  AMALGAM_ADVICE_WILLNEED = 2,
  /** Drop the resident pages of a read-only file mapping; they are read again from the file if touched. */
  AMALGAM_ADVICE_DONTNEED = 3
};

/** Returns AMALGAM_ABI_VERSION of the compiled library. */
AMALGAM_API int32_t amalgam_abi_version(void);

/** Best ISA that both this CPU and this build support. */
AMALGAM_API int32_t amalgam_isa_best(void);

/** Static name of an ISA ("scalar", "avx2", "avx512", "avx512_bf16"), or "unknown". */
AMALGAM_API const char *amalgam_isa_name(int32_t isa);

/** Static English message for a status code. */
AMALGAM_API const char *amalgam_status_message(int32_t status);

/** Returns p as an integer: the Java peer uses it to learn a direct buffer's address (plus position). */
AMALGAM_API int64_t amalgam_address_of(const void *p);

/** dst[i] = convert(src[i]) for i in [0, n). src and dst must not overlap unless equal and same-size types. */
AMALGAM_API int32_t amalgam_convert(int32_t isa, int64_t src, int32_t src_dtype, int64_t dst, int32_t dst_dtype,
                                    int64_t n, int32_t flags);

/**
 * out[i] = sum_k coefficients[k] * inputs[k][i] for i in [0, n), in the canonical order of contract point 6.
 * inputs and input_dtypes hold count >= 1 entries. out may alias an input only if it has the same dtype.
 */
AMALGAM_API int32_t amalgam_weighted_sum(int32_t isa, int32_t count, const int64_t *inputs, const int32_t *input_dtypes,
                                         const float *coefficients, int64_t out, int32_t out_dtype, int64_t n,
                                         int32_t flags);

/** result[0..2] = (x.y, x.x, y.y) over n elements, in the canonical order of contract point 6. */
AMALGAM_API int32_t amalgam_dot3(int32_t isa, int64_t x, int32_t x_dtype, int64_t y, int32_t y_dtype, int64_t n,
                                 double *result);

/**
 * Quantizes n elements (a multiple of AMALGAM_QUANT_BLOCK) of src_dtype to n / 32 Q8_0 blocks of 34 bytes at dst,
 * as contract point 7 defines. src and dst must not overlap.
 */
AMALGAM_API int32_t amalgam_quantize_q8_0(int32_t isa, int64_t src, int32_t src_dtype, int64_t dst, int64_t n);

/**
 * Decodes n elements (a multiple of AMALGAM_QUANT_BLOCK) of a block format (amalgam_block_format) at src into
 * dst_dtype values at dst (contract point 7). src and dst must not overlap.
 */
AMALGAM_API int32_t amalgam_dequantize(int32_t isa, int64_t src, int32_t format, int64_t dst, int32_t dst_dtype,
                                       int64_t n);

/** Adds the high 16 bits of each |values[i]| to histogram (AMALGAM_MAGNITUDE_BUCKETS int64; contract point 8). */
AMALGAM_API int32_t amalgam_magnitude_histogram_high(int32_t isa, const float *values, int64_t n, int64_t *histogram);

/** Adds the low 16 bits of each |values[i]| whose high 16 bits equal high (contract point 8). */
AMALGAM_API int32_t amalgam_magnitude_histogram_low(int32_t isa, const float *values, int64_t n, int32_t high,
                                                    int64_t *histogram);

/** out[i] = the Philox uniform of element first + i of the stream (contract point 8); first >= 0. */
AMALGAM_API int32_t amalgam_philox_uniforms(int32_t isa, uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n,
                                            float *out);

/** values[i] = +0 where the Bernoulli(p) draw of element first + i drops it (contract point 8). */
AMALGAM_API int32_t amalgam_philox_keep(int32_t isa, uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n,
                                        double p, float *values);

/**
 * TIES sign consensus and disjoint merge of models >= 1 weighted task vectors, w[k * stride + i] with
 * stride >= n (contract point 8). out may alias base but not w.
 */
AMALGAM_API int32_t amalgam_disjoint_merge(int32_t isa, int32_t models, const float *w, int64_t stride,
                                           const float *weights, int64_t n, int32_t normalize, const float *base,
                                           float lambda, float *out);

/** The merge without consensus: out[i] = base[i] + lambda * (sum_k w[k * stride + i]) / divisor (point 8). */
AMALGAM_API int32_t amalgam_plain_merge(int32_t isa, int32_t models, const float *w, int64_t stride, int64_t n,
                                        float divisor, const float *base, float lambda, float *out);

/**
 * A task vector, d[i] = r(x[i]) - b[i] in f32 for i in [0, n): x[i] widened from x_dtype, and r rounds it to
 * round_dtype (round to nearest even, as amalgam_convert) where round_dtype is F16 or BF16 and differs from
 * x_dtype, else leaves it. x is the address of x_dtype elements; b and d must not overlap x. Added in ABI 4.
 */
AMALGAM_API int32_t amalgam_task_vector(int32_t isa, int64_t x, int32_t x_dtype, int32_t round_dtype, const float *b,
                                        int64_t n, float *d);

/**
 * The magnitude top-k masks (contract point 8), in element order: with a = bits(values[i]) & 0x7fffffff as a
 * signed int, element i is in a threshold's set (t, e, s) iff a > t, or a == t and s < e (then s += 1; both
 * thresholds count every element). values[i] = +0 unless it is in the keep set and not in the drop set.
 * seen[0] and seen[1] are the keep and drop counters s, carried from call to call; keep_equal, drop_equal >= 0.
 * Added in ABI 4.
 */
AMALGAM_API int32_t amalgam_magnitude_mask(int32_t isa, float *values, int64_t n, int32_t keep_bits, int64_t keep_equal,
                                           int32_t drop_bits, int64_t drop_equal, int64_t *seen);

/**
 * Gives the kernel advice about [address, address + length). DONTNEED shrinks the range inward to whole
 * pages (neighbouring data keeps its pages); the others widen it outward. A no-op returning AMALGAM_OK where the
 * platform has no madvise.
 */
AMALGAM_API int32_t amalgam_advise(int64_t address, int64_t length, int32_t advice);

/**
 * Starts writing back the dirty page-cache pages of [offset, offset + length) of the file at path (UTF-8),
 * without waiting (sync_file_range SYNC_FILE_RANGE_WRITE on Linux). A writer that calls this behind itself
 * keeps the disk busy while it computes, so a final fdatasync has little left to do. A no-op returning
 * AMALGAM_OK where the platform lacks it.
 */
AMALGAM_API int32_t amalgam_start_writeback(const char *path, int64_t offset, int64_t length);

/**
 * Counts the non-finite values among n elements of dtype at src: counts[0] += the NaNs, counts[1] += the
 * infinities (either sign). A value is non-finite when its exponent bits are all ones; its mantissa tells NaN
 * (non-zero) from infinity (zero). Adds to the counts already there, so callers sum over chunks. Added in ABI 5.
 */
AMALGAM_API int32_t amalgam_count_nonfinite(int32_t isa, int64_t src, int32_t dtype, int64_t n, int64_t *counts);

/**
 * Gives the kernel advice about bytes [offset, offset + length) of the file at path (UTF-8), through a descriptor of
 * its own (posix_fadvise on Linux): WILLNEED starts reading them into the page cache without waiting, so a reader
 * that uses positional reads can prefetch what it reads next; SEQUENTIAL widens read-ahead; DONTNEED drops clean
 * cached pages. A zero length does nothing. A no-op returning AMALGAM_OK where the platform lacks it. Added in ABI 5.
 */
AMALGAM_API int32_t amalgam_advise_file(const char *path, int64_t offset, int64_t length, int32_t advice);

/**
 * DELLA's magnitude-ranked random drop (contract point 9) over n / row_length whole rows of values, element i being
 * tensor element first + i of the Philox stream (seed, stream_hash). n must be a multiple of row_length, which is
 * 1 .. 2^31 - 1. Scratch: keys holds 3 * row_length int64 (the sort's two buffers and each rank's probability),
 * uniforms row_length floats. Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_della_mask(int32_t isa, uint64_t seed, uint64_t stream_hash, int64_t first, int64_t n,
                                       int64_t row_length, double density, double epsilon, float *values, int64_t *keys,
                                       float *uniforms);

/**
 * Adds the Gram sums of n elements of count inputs (1 .. AMALGAM_GRAM_MAX_INPUTS; addresses and dtypes in inputs and
 * input_dtypes), less base (an address, or 0 for none), to acc[0 .. count * (count + 1) / 2), the upper triangle
 * row by row (contract point 9). Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_gram(int32_t isa, int32_t count, const int64_t *inputs, const int32_t *input_dtypes,
                                 int64_t base, int32_t base_dtype, int64_t n, double *acc);

/**
 * arcee_fusion's first selection pass (contract point 9): adds the top 16 bits of the sortable key of each element's
 * importance to histogram (AMALGAM_MAGNITUDE_BUCKETS int64). a and b are addresses of n elements of their dtypes;
 * element i is tensor element first + i (first >= 0), row_length >= 1, and kl holds kl_rows entries covering every
 * row the call touches. Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_fusion_histogram_high(int32_t isa, int64_t a, int32_t a_dtype, int64_t b, int32_t b_dtype,
                                                  int64_t n, int64_t first, int64_t row_length, const float *kl,
                                                  int64_t kl_rows, int64_t *histogram);

/**
 * arcee_fusion's second selection pass (contract point 9): for each of bucket_count >= 1 buckets (top 16 bits, each
 * in [0, 65536)), adds the low 16 bits of the keys whose top bits equal it to its own AMALGAM_MAGNITUDE_BUCKETS
 * counters, histograms[j * 65536 ..]. Arguments as amalgam_fusion_histogram_high. Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_fusion_histogram_low(int32_t isa, int64_t a, int32_t a_dtype, int64_t b, int32_t b_dtype,
                                                 int64_t n, int64_t first, int64_t row_length, const float *kl,
                                                 int64_t kl_rows, int32_t bucket_count, const int32_t *buckets,
                                                 int64_t *histograms);

/**
 * arcee_fusion's output (contract point 9): n elements of out_dtype at out, a + (b - a) where the importance reaches
 * threshold, else a. Arguments as amalgam_fusion_histogram_high; out must not overlap a or b. Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_fusion_select(int32_t isa, int64_t a, int32_t a_dtype, int64_t b, int32_t b_dtype,
                                          int64_t n, int64_t first, int64_t row_length, const float *kl,
                                          int64_t kl_rows, float threshold, int64_t out, int32_t out_dtype);

/**
 * nearswap (contract point 9): out[i] for i in [0, n) from the base b and the other model x, at distance t; flags
 * as amalgam_weighted_sum. out may alias an input only if it has the same dtype. Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_nearswap(int32_t isa, int64_t base, int32_t base_dtype, int64_t other, int32_t other_dtype,
                                     float t, int64_t out, int32_t out_dtype, int64_t n, int32_t flags);

/**
 * SCE variance keys (contract point 9) of n elements: keys[i] = the key of element i of models task-vector rows
 * x[k * stride + i] over the base b, stride >= n. Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_sce_variance_keys(int32_t isa, int32_t models, const float *x, int64_t stride,
                                              const float *b, int64_t n, int32_t *keys);

/**
 * Adds each element's SCE key >> 16 to histogram (AMALGAM_MAGNITUDE_BUCKETS int64) and the count of non-zero keys
 * to nonzero[0] (contract point 9); keys, unless null, receives the n keys, for callers that keep them for the later
 * passes. Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_sce_histogram_high(int32_t isa, int32_t models, const float *x, int64_t stride,
                                               const float *b, int64_t n, int64_t *histogram, int64_t *nonzero,
                                               int32_t *keys);

/** Adds key & 0xffff of the SCE keys whose key >> 16 equals high, in [0, 65536) (point 9). Added in ABI 6. */
AMALGAM_API int32_t amalgam_sce_histogram_low(int32_t isa, int32_t models, const float *x, int64_t stride,
                                              const float *b, int64_t n, int32_t high, int64_t *histogram);

/**
 * Adds delta_k^2 of the elements the SCE selection (threshold, equal_kept >= 0, seen[0]) keeps to sums[k], in
 * element order, and -0.0 for the others (contract point 9). keys, unless null, holds the n elements' keys, which
 * are then read instead of computed. Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_sce_square_sums(int32_t isa, int32_t models, const float *x, int64_t stride, const float *b,
                                            const int32_t *keys, int64_t n, int32_t threshold, int64_t equal_kept,
                                            int64_t *seen, double *sums);

/**
 * The SCE merge (contract point 9): out[i] = b[i] + the erased, weighted average of the kept elements' deltas,
 * weights[0..models-1] in double; keys as for amalgam_sce_square_sums. out may be b but must not overlap x or keys.
 * Added in ABI 6.
 */
AMALGAM_API int32_t amalgam_sce_merge(int32_t isa, int32_t models, const float *x, int64_t stride, const float *b,
                                      const int32_t *keys, int64_t n, int32_t threshold, int64_t equal_kept,
                                      int64_t *seen, const double *weights, float *out);

/* ---------------------------------------------------------------------------------------------- CUDA (point 10) */

/** Attaches the CUDA library: entry_function is the address of libamalgam_cuda.so's amalgam_cuda_entry. Returns
 *  AMALGAM_ERR_BAD_ARGUMENT if the library comes from another build. Attaching again replaces the entry. */
AMALGAM_API int32_t amalgam_cuda_attach(int64_t entry_function);

/** The number of CUDA devices in *count (0 on error) and the cudaError_t of the query in *cuda_error (35: no driver
 *  or one too old for the runtime; 100: no device). AMALGAM_ERR_NO_CUDA if not attached. */
AMALGAM_API int32_t amalgam_cuda_device_count(int32_t *count, int32_t *cuda_error);

/** Device d's name (NUL-terminated, at most name_capacity bytes), memory[0..1] = total and free bytes, and
 *  numbers[0..5] = compute capability major and minor, multiprocessors, driver version, runtime version (1000 *
 *  major + 10 * minor) and PCI bus id. The query's cudaError_t goes to *cuda_error (then the status is
 *  AMALGAM_ERR_CUDA). */
AMALGAM_API int32_t amalgam_cuda_device_info(int32_t device, char *name, int32_t name_capacity, int64_t *memory,
                                             int32_t *numbers, int32_t *cuda_error);

/** The cudaError_t of the calling thread's last call that returned AMALGAM_ERR_CUDA (0 if none). */
AMALGAM_API int32_t amalgam_cuda_last_error(void);

/** The CUDA runtime's name and description of a cudaError_t value ("unknown" when not attached). */
AMALGAM_API const char *amalgam_cuda_error_name(int32_t cuda_error);
AMALGAM_API const char *amalgam_cuda_error_string(int32_t cuda_error);

/** Bytes of each of the two pinned staging slots per host thread and device (default 32 MiB, at least 1 MiB); the
 *  device holds the same again. Takes effect for contexts created afterwards and slots that grow. */
AMALGAM_API int32_t amalgam_cuda_set_staging_bytes(int64_t bytes);

/** Device-pointer kernels (point 10): dst = convert(src); out = weighted sum (contract point 6, at most 32 inputs);
 *  result[0..2] = the dot3 sums (point 6) of each AMALGAM_DOT_SEGMENT segment from the first element, added in order
 *  (what the Java side's dot3 of a whole tensor gives). stream is a cudaStream_t, 0 for the legacy default stream. */
AMALGAM_API int32_t amalgam_cuda_device_convert(int32_t device, int64_t stream, int64_t src, int32_t src_dtype,
                                                int64_t dst, int32_t dst_dtype, int64_t n);
AMALGAM_API int32_t amalgam_cuda_device_weighted_sum(int32_t device, int64_t stream, int32_t count,
                                                     const int64_t *inputs, const int32_t *input_dtypes,
                                                     const float *coefficients, int64_t out, int32_t out_dtype,
                                                     int64_t n);
AMALGAM_API int32_t amalgam_cuda_device_dot3(int32_t device, int64_t stream, int64_t x, int32_t x_dtype, int64_t y,
                                             int32_t y_dtype, int64_t n, double *result);

/** Device memory (point 10): cudaMalloc of bytes > 0 into *address, cudaFree, an asynchronous copy on the stream
 *  (kind 1: host to device, 2: device to host, 3: device to device; host memory should be pinned or the copy
 *  is synchronous) and cudaStreamSynchronize. */
AMALGAM_API int32_t amalgam_cuda_malloc(int32_t device, int64_t bytes, int64_t *address);
AMALGAM_API int32_t amalgam_cuda_free(int32_t device, int64_t address);
AMALGAM_API int32_t amalgam_cuda_copy(int32_t device, int64_t stream, int64_t dst, int64_t src, int64_t bytes,
                                      int32_t kind);
AMALGAM_API int32_t amalgam_cuda_synchronize(int32_t device, int64_t stream);

/** 0 makes the staged calls finish each piece before the next (no overlap), for measuring the pipeline; 1 (the
 *  default) overlaps them. */
AMALGAM_API int32_t amalgam_cuda_set_pipelining(int32_t on);

/** Most inputs of amalgam_cuda_device_weighted_sum. */
#define AMALGAM_CUDA_DEVICE_SUM_INPUTS 32

#ifdef __cplusplus
}
#endif

#endif /* AMALGAM_H */
