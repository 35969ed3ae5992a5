// The loops of the SIMD paths, written once over an ISA traits class S (kernels_avx2.cpp, avx512_traits.h).
// Like scalar_math.h, everything sits in an anonymous namespace: each ISA translation unit gets its own copy,
// compiled with its own -m flags, and nothing can be merged across ISAs (kernels.h, docs/native.md pitfall 9).
//
// S provides:
//   kLanes                          f32 lanes per vector
//   Vec                             the f32 vector type
//   splat(c), mul(a, b), fma(a, b, c) (= a * b + c, one rounding)
//   load<D>(p, i)                   elements i .. i + kLanes - 1 of dtype D, widened exactly to f32
//   store_pair<D, kStream>(p, i, v0, v1)
//                                   rounds v0, v1 to dtype D and stores 2 * kLanes elements at i with
//                                   full-width stores (non-temporal if kStream: then p + i is 64-byte aligned)
//   store_f32(p, v)                 an ordinary unaligned store of kLanes floats
//   Dot3Acc, dot3_zero(acc), dot3_group<XD, YD>(acc, x, y, j), dot3_save(acc, lanes)
//                                   one group of 32 elements in the order of contract point 6
//   stream_fence()
//   i8_to_f32(p)                    kLanes int8 values at p, converted exactly to f32
//   quantize_q8_0_block<D>(src, first, out)
//                                   one Q8_0 block of elements first .. first + 31 (contract point 7); returns
//                                   false, having written nothing, if the block holds a NaN (the scalar code
//                                   then writes it)
// Tails and the head before a 64-byte boundary run through the scalar code of scalar_math.h, which computes
// the same bits, so no masked loads are needed anywhere.
#ifndef AMALGAM_SIMD_KERNELS_H
#define AMALGAM_SIMD_KERNELS_H

#include <immintrin.h>

#include <cstdint>

#include "amalgam.h"
#include "scalar_math.h"

namespace amalgam {
namespace {

constexpr int32_t kF32 = AMALGAM_DTYPE_F32;
constexpr int32_t kF16 = AMALGAM_DTYPE_F16;
constexpr int32_t kBf16 = AMALGAM_DTYPE_BF16;

// Software prefetch distance of every streaming loop. The hardware prefetchers alone kept too few lines in
// flight on the development VM: at 64M bf16 elements dot3 read at 8 GB/s and lerp moved 14 GB/s; with this
// 10.5 and 18 GB/s (1 KiB was slower, 4 and 8 KiB no better).
constexpr int64_t kPrefetchBytes = 2048;

// Elements of one strip of the weighted sum with three or more inputs; the f32 accumulator strip (2 KiB)
// stays in L1 while every input is folded in.
constexpr int64_t kStrip = 512;

constexpr int64_t dtype_size(int32_t dtype) { return dtype == kF32 ? 4 : 2; }

inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

// How an element-wise kernel cuts [0, n): scalar head, vector body [head, body_end), scalar tail.
struct Plan {
  int64_t head;
  int64_t body_end;
  bool stream;
};

// With streaming, the body starts at the output's first 64-byte boundary so every non-temporal store is
// aligned and whole cache lines are written; an output not aligned to its element size cannot get there and
// falls back to ordinary stores.
inline Plan plan_elementwise(const void *out, int32_t out_dtype, int64_t n, int32_t flags, int64_t step) {
  Plan p{0, 0, (flags & AMALGAM_FLAG_STREAM_STORES) != 0};
  const int64_t size = dtype_size(out_dtype);
  const uintptr_t address = reinterpret_cast<uintptr_t>(out);
  if (p.stream && address % static_cast<uintptr_t>(size) != 0) p.stream = false;
  if (p.stream) p.head = min_i64(n, static_cast<int64_t>((64u - (address & 63u)) & 63u) / size);
  p.body_end = p.head + (n - p.head) / step * step;
  return p;
}

// Prefetches, kPrefetchBytes ahead, the cache lines of elements [i, i + kCount) of a D array. Integer
// arithmetic: the address may lie past the end of the buffer, which prefetches tolerate.
template <int32_t D, int64_t kCount>
inline void prefetch_ahead(const void *p, int64_t i) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(i * dtype_size(D) + kPrefetchBytes);
  for (int64_t offset = 0; offset < kCount * dtype_size(D); offset += 64) {
    _mm_prefetch(reinterpret_cast<const char *>(at + static_cast<uintptr_t>(offset)), _MM_HINT_T0);
  }
}

// ---------------------------------------------------------------------------------------------- convert

template <class S, int32_t SD, int32_t DD, bool kStream>
void convert_body(const void *src, void *dst, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; i += 2 * S::kLanes) {
    prefetch_ahead<SD, 2 * S::kLanes>(src, i);
    const typename S::Vec v0 = S::template load<SD>(src, i);
    const typename S::Vec v1 = S::template load<SD>(src, i + S::kLanes);
    S::template store_pair<DD, kStream>(dst, i, v0, v1);
  }
}

template <class S, int32_t SD, int32_t DD>
void convert_typed(const void *src, void *dst, int64_t n, int32_t flags) {
  const Plan p = plan_elementwise(dst, DD, n, flags, 2 * S::kLanes);
  convert_scalar_range(src, SD, dst, DD, 0, p.head);
  if (p.stream) {
    convert_body<S, SD, DD, true>(src, dst, p.head, p.body_end);
  } else {
    convert_body<S, SD, DD, false>(src, dst, p.head, p.body_end);
  }
  convert_scalar_range(src, SD, dst, DD, p.body_end, n);
  if (p.stream) S::stream_fence();
}

using ConvertFn = void (*)(const void *, void *, int64_t, int32_t);

template <class S, int32_t SD>
ConvertFn pick_convert(int32_t dd) {
  switch (dd) {
    case kF32:
      return convert_typed<S, SD, kF32>;
    case kF16:
      return convert_typed<S, SD, kF16>;
    default:
      return convert_typed<S, SD, kBf16>;
  }
}

template <class S>
void simd_convert(const void *src, int32_t sd, void *dst, int32_t dd, int64_t n, int32_t flags) {
  ConvertFn fn = sd == kF32   ? pick_convert<S, kF32>(dd)
                 : sd == kF16 ? pick_convert<S, kF16>(dd)
                              : pick_convert<S, kBf16>(dd);
  fn(src, dst, n, flags);
}

// ----------------------------------------------------------------------------------------- weighted sum

// One input: out = c0 * x0.
template <class S, int32_t D0, int32_t DO, bool kStream>
void scale_body(const void *const *in, const float *c, void *out, int64_t begin, int64_t end) {
  const typename S::Vec c0 = S::splat(c[0]);
  for (int64_t i = begin; i < end; i += 2 * S::kLanes) {
    prefetch_ahead<D0, 2 * S::kLanes>(in[0], i);
    S::template store_pair<DO, kStream>(out, i, S::mul(c0, S::template load<D0>(in[0], i)),
                                        S::mul(c0, S::template load<D0>(in[0], i + S::kLanes)));
  }
}

// Two inputs, the merge hot path (linear, SLERP): out = fma(c1, x1, c0 * x0).
template <class S, int32_t D0, int32_t D1, int32_t DO, bool kStream>
void pair_body(const void *const *in, const float *c, void *out, int64_t begin, int64_t end) {
  const typename S::Vec c0 = S::splat(c[0]);
  const typename S::Vec c1 = S::splat(c[1]);
  for (int64_t i = begin; i < end; i += 2 * S::kLanes) {
    prefetch_ahead<D0, 2 * S::kLanes>(in[0], i);
    prefetch_ahead<D1, 2 * S::kLanes>(in[1], i);
    const int64_t k = i + S::kLanes;
    const typename S::Vec first0 = S::mul(c0, S::template load<D0>(in[0], i));
    const typename S::Vec first1 = S::mul(c0, S::template load<D0>(in[0], k));
    S::template store_pair<DO, kStream>(out, i, S::fma(c1, S::template load<D1>(in[1], i), first0),
                                        S::fma(c1, S::template load<D1>(in[1], k), first1));
  }
}

// Three or more inputs, strip by strip: acc = c0 * x0, acc = fma(ck, xk, acc) for the middle inputs, and the
// last input fused with the rounding store. Each step dispatches once per strip on its input's dtype.
template <class S, int32_t D>
void strip_first(float *acc, const void *x, float c, int64_t at, int64_t len) {
  const typename S::Vec ck = S::splat(c);
  for (int64_t i = 0; i < len; i += S::kLanes) {
    prefetch_ahead<D, S::kLanes>(x, at + i);
    S::store_f32(acc + i, S::mul(ck, S::template load<D>(x, at + i)));
  }
}

template <class S, int32_t D>
void strip_middle(float *acc, const void *x, float c, int64_t at, int64_t len) {
  const typename S::Vec ck = S::splat(c);
  for (int64_t i = 0; i < len; i += S::kLanes) {
    prefetch_ahead<D, S::kLanes>(x, at + i);
    S::store_f32(acc + i, S::fma(ck, S::template load<D>(x, at + i), S::template load<kF32>(acc, i)));
  }
}

template <class S, int32_t D, int32_t DO, bool kStream>
void strip_last(const float *acc, const void *x, float c, void *out, int64_t at, int64_t len) {
  const typename S::Vec ck = S::splat(c);
  for (int64_t i = 0; i < len; i += 2 * S::kLanes) {
    prefetch_ahead<D, 2 * S::kLanes>(x, at + i);
    const int64_t k = i + S::kLanes;
    S::template store_pair<DO, kStream>(out, at + i,
                                        S::fma(ck, S::template load<D>(x, at + i), S::template load<kF32>(acc, i)),
                                        S::fma(ck, S::template load<D>(x, at + k), S::template load<kF32>(acc, k)));
  }
}

using StripFn = void (*)(float *, const void *, float, int64_t, int64_t);
using StripLastFn = void (*)(const float *, const void *, float, void *, int64_t, int64_t);

template <class S>
StripFn pick_strip_first(int32_t d) {
  return d == kF32 ? strip_first<S, kF32> : d == kF16 ? strip_first<S, kF16> : strip_first<S, kBf16>;
}

template <class S>
StripFn pick_strip_middle(int32_t d) {
  return d == kF32 ? strip_middle<S, kF32> : d == kF16 ? strip_middle<S, kF16> : strip_middle<S, kBf16>;
}

template <class S, int32_t DO, bool kStream>
StripLastFn pick_strip_last(int32_t d) {
  return d == kF32   ? strip_last<S, kF32, DO, kStream>
         : d == kF16 ? strip_last<S, kF16, DO, kStream>
                     : strip_last<S, kBf16, DO, kStream>;
}

template <class S, int32_t DO, bool kStream>
void many_body(int32_t count, const void *const *in, const int32_t *dtypes, const float *c, void *out, int64_t begin,
               int64_t end) {
  alignas(64) float acc[kStrip];
  const StripFn first = pick_strip_first<S>(dtypes[0]);
  const StripLastFn last = pick_strip_last<S, DO, kStream>(dtypes[count - 1]);
  for (int64_t at = begin; at < end; at += kStrip) {
    const int64_t len = min_i64(kStrip, end - at);  // a multiple of 2 * kLanes, as end - begin is
    first(acc, in[0], c[0], at, len);
    for (int32_t k = 1; k + 1 < count; ++k) pick_strip_middle<S>(dtypes[k])(acc, in[k], c[k], at, len);
    last(acc, in[count - 1], c[count - 1], out, at, len);
  }
}

// Every body has this signature so that one driver handles heads, tails and streaming.
using BodyFn = void (*)(int32_t, const void *const *, const int32_t *, const float *, void *, int64_t, int64_t);

template <class S, int32_t D0, int32_t DO, bool kStream>
void scale_entry(int32_t, const void *const *in, const int32_t *, const float *c, void *out, int64_t b, int64_t e) {
  scale_body<S, D0, DO, kStream>(in, c, out, b, e);
}

template <class S, int32_t D0, int32_t D1, int32_t DO, bool kStream>
void pair_entry(int32_t, const void *const *in, const int32_t *, const float *c, void *out, int64_t b, int64_t e) {
  pair_body<S, D0, D1, DO, kStream>(in, c, out, b, e);
}

template <class S, int32_t DO, bool kStream>
BodyFn pick_scale(int32_t d0) {
  return d0 == kF32   ? scale_entry<S, kF32, DO, kStream>
         : d0 == kF16 ? scale_entry<S, kF16, DO, kStream>
                      : scale_entry<S, kBf16, DO, kStream>;
}

template <class S, int32_t D0, int32_t DO, bool kStream>
BodyFn pick_pair_second(int32_t d1) {
  return d1 == kF32   ? pair_entry<S, D0, kF32, DO, kStream>
         : d1 == kF16 ? pair_entry<S, D0, kF16, DO, kStream>
                      : pair_entry<S, D0, kBf16, DO, kStream>;
}

template <class S, int32_t DO, bool kStream>
BodyFn pick_pair(int32_t d0, int32_t d1) {
  return d0 == kF32   ? pick_pair_second<S, kF32, DO, kStream>(d1)
         : d0 == kF16 ? pick_pair_second<S, kF16, DO, kStream>(d1)
                      : pick_pair_second<S, kBf16, DO, kStream>(d1);
}

template <class S, int32_t DO, bool kStream>
BodyFn pick_body(int32_t count, const int32_t *dtypes) {
  if (count == 1) return pick_scale<S, DO, kStream>(dtypes[0]);
  if (count == 2) return pick_pair<S, DO, kStream>(dtypes[0], dtypes[1]);
  return many_body<S, DO, kStream>;
}

template <class S, bool kStream>
BodyFn pick_body_for_output(int32_t count, const int32_t *dtypes, int32_t out_dtype) {
  switch (out_dtype) {
    case kF32:
      return pick_body<S, kF32, kStream>(count, dtypes);
    case kF16:
      return pick_body<S, kF16, kStream>(count, dtypes);
    default:
      return pick_body<S, kBf16, kStream>(count, dtypes);
  }
}

template <class S>
void simd_weighted_sum(int32_t count, const void *const *inputs, const int32_t *dtypes, const float *c, void *out,
                       int32_t out_dtype, int64_t n, int32_t flags) {
  const Plan p = plan_elementwise(out, out_dtype, n, flags, 2 * S::kLanes);
  weighted_sum_scalar_range(count, inputs, dtypes, c, out, out_dtype, 0, p.head);
  BodyFn body = p.stream ? pick_body_for_output<S, true>(count, dtypes, out_dtype)
                         : pick_body_for_output<S, false>(count, dtypes, out_dtype);
  body(count, inputs, dtypes, c, out, p.head, p.body_end);
  weighted_sum_scalar_range(count, inputs, dtypes, c, out, out_dtype, p.body_end, n);
  if (p.stream) S::stream_fence();
}

// ------------------------------------------------------------------------------------------------- dot3

template <class S, int32_t XD, int32_t YD>
void dot3_typed(const void *x, const void *y, int64_t n, double *result) {
  double total[3] = {0.0, 0.0, 0.0};
  Dot3Lanes lanes;
  for (int64_t block = 0; block < n; block += AMALGAM_DOT_BLOCK) {
    const int64_t end = min_i64(block + AMALGAM_DOT_BLOCK, n);
    typename S::Dot3Acc acc;
    S::dot3_zero(acc);
    int64_t j = block;
    for (; j + 32 <= end; j += 32) {
      prefetch_ahead<XD, 32>(x, j);
      prefetch_ahead<YD, 32>(y, j);
      S::template dot3_group<XD, YD>(acc, x, y, j);
    }
    S::dot3_save(acc, &lanes);
    if (j < end) dot3_group_scalar(&lanes, x, XD, y, YD, j, n);  // the last, partial group of the range
    dot3_lanes_flush(&lanes, total);
  }
  result[0] = total[0];
  result[1] = total[1];
  result[2] = total[2];
}

using Dot3Fn = void (*)(const void *, const void *, int64_t, double *);

template <class S, int32_t XD>
Dot3Fn pick_dot3(int32_t yd) {
  return yd == kF32 ? dot3_typed<S, XD, kF32> : yd == kF16 ? dot3_typed<S, XD, kF16> : dot3_typed<S, XD, kBf16>;
}

template <class S>
void simd_dot3(const void *x, int32_t xd, const void *y, int32_t yd, int64_t n, double *result) {
  Dot3Fn fn = xd == kF32 ? pick_dot3<S, kF32>(yd) : xd == kF16 ? pick_dot3<S, kF16>(yd) : pick_dot3<S, kBf16>(yd);
  fn(x, y, n, result);
}

// ---------------------------------------------------------------------------------------- block formats

template <class S, int32_t D>
void quantize_q8_0_typed(const void *src, uint8_t *dst, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t first = b * kQuantBlock;
    prefetch_ahead<D, kQuantBlock>(src, first);
    if (!S::template quantize_q8_0_block<D>(src, first, dst + b * kQ8_0Bytes)) {
      quantize_q8_0_block_scalar(src, D, first, dst + b * kQ8_0Bytes);  // NaN blocks are rare
    }
  }
}

template <class S>
void simd_quantize_q8_0(const void *src, int32_t sd, void *dst, int64_t blocks) {
  uint8_t *out = static_cast<uint8_t *>(dst);
  switch (sd) {
    case kF32:
      quantize_q8_0_typed<S, kF32>(src, out, blocks);
      break;
    case kF16:
      quantize_q8_0_typed<S, kF16>(src, out, blocks);
      break;
    default:
      quantize_q8_0_typed<S, kBf16>(src, out, blocks);
      break;
  }
}

// The 32 signed values of a Q4_0 block: low nibbles are elements 0..15, high nibbles 16..31, each minus 8.
inline void q4_0_values(const uint8_t *block, int8_t *q) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 2));
  const __m128i low4 = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
  const __m128i lo = _mm_sub_epi8(_mm_and_si128(packed, low4), eight);
  const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(packed, 4), low4), eight);
  _mm_storeu_si128(reinterpret_cast<__m128i *>(q), lo);
  _mm_storeu_si128(reinterpret_cast<__m128i *>(q + 16), hi);
}

template <class S, int32_t F, int32_t DD>
void dequantize_typed(const void *src, void *dst, int64_t blocks) {
  constexpr int64_t kBytes = F == AMALGAM_BLOCK_Q8_0 ? kQ8_0Bytes : kQ4_0Bytes;
  const uint8_t *in = static_cast<const uint8_t *>(src);
  alignas(16) int8_t unpacked[kQuantBlock];
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t *block = in + b * kBytes;
    _mm_prefetch(reinterpret_cast<const char *>(block) + kPrefetchBytes, _MM_HINT_T0);
    uint16_t h;
    std::memcpy(&h, block, 2);
    const typename S::Vec d = S::splat(f16_to_f32(h));
    const int8_t *q = reinterpret_cast<const int8_t *>(block + 2);
    if constexpr (F == AMALGAM_BLOCK_Q4_0) {
      q4_0_values(block, unpacked);
      q = unpacked;
    }
    for (int64_t k = 0; k < kQuantBlock; k += 2 * S::kLanes) {
      S::template store_pair<DD, false>(dst, b * kQuantBlock + k, S::mul(S::i8_to_f32(q + k), d),
                                        S::mul(S::i8_to_f32(q + k + S::kLanes), d));
    }
  }
}

template <class S, int32_t F>
void dequantize_format(const void *src, void *dst, int32_t dd, int64_t blocks) {
  switch (dd) {
    case kF32:
      dequantize_typed<S, F, kF32>(src, dst, blocks);
      break;
    case kF16:
      dequantize_typed<S, F, kF16>(src, dst, blocks);
      break;
    default:
      dequantize_typed<S, F, kBf16>(src, dst, blocks);
      break;
  }
}

template <class S>
void simd_dequantize(const void *src, int32_t format, void *dst, int32_t dd, int64_t blocks) {
  if (format == AMALGAM_BLOCK_Q8_0) {
    dequantize_format<S, AMALGAM_BLOCK_Q8_0>(src, dst, dd, blocks);
  } else {
    dequantize_format<S, AMALGAM_BLOCK_Q4_0>(src, dst, dd, blocks);
  }
}

}  // namespace
}  // namespace amalgam

#endif  // AMALGAM_SIMD_KERNELS_H
