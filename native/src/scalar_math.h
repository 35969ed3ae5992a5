// Scalar conversions and the canonical reduction, shared by every ISA file for tails and by the scalar path.
// Everything is static so each translation unit gets its own copy compiled with its own flags (see kernels.h).
#ifndef AMALGAM_SCALAR_MATH_H
#define AMALGAM_SCALAR_MATH_H

#include <cmath>
#include <cstdint>
#include <cstring>

#include "amalgam.h"

// The scalar functions below are also the element code of the CUDA kernels (native/src/cuda), so both paths
// share one definition of every rounding rule.
#if defined(__CUDACC__)
#define AMALGAM_HD __host__ __device__
#else
#define AMALGAM_HD
#endif

namespace amalgam {
namespace {

AMALGAM_HD static inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

AMALGAM_HD static inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

AMALGAM_HD static inline float bf16_to_f32(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }

// Round to nearest even; NaN becomes a quiet NaN keeping sign and top payload bits (the ggml/gguf-py rule).
AMALGAM_HD static inline uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// IEEE binary16 -> binary32, exact; NaN is quieted (as F16C's vcvtph2ps does).
AMALGAM_HD static inline float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0x1fu) {
    u = sign | 0x7f800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u);
  } else if (exp != 0) {
    u = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    u = sign;
  } else {
    // Subnormal half: value = mant * 2^-24; normalise it into an f32.
    int shift = 0;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      ++shift;
    }
    mant &= 0x3ffu;
    u = sign | (static_cast<uint32_t>(113 - shift) << 23) | (mant << 13);
  }
  return f32_from_bits(u);
}

// IEEE binary32 -> binary16, round to nearest even, subnormals kept, overflow to infinity, NaN quieted.
AMALGAM_HD static inline uint16_t f32_to_f16(float f) {
  uint32_t u = f32_bits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: infinity
  if (a >= 0x38800000u) {                                              // normal half
    uint32_t r = a + 0x0fffu + ((a >> 13) & 1u) - 0x38000000u;
    return static_cast<uint16_t>(sign | (r >> 13));
  }
  if (a < 0x33000000u) return sign;  // below half of the smallest subnormal (2^-25): zero
  // Subnormal half: shift the full significand right and round to nearest even.
  uint32_t exp = a >> 23;
  uint32_t mant = (a & 0x7fffffu) | 0x800000u;
  uint32_t shift = 126u - exp;  // value / 2^-24 = mant * 2^(exp - 126), and exp <= 112 here
  uint32_t q = mant >> shift;
  uint32_t rem = mant & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
}

AMALGAM_HD static inline float load_scalar(const void *p, int32_t dtype, int64_t i) {
  switch (dtype) {
    case AMALGAM_DTYPE_F32: {
      float f;
      std::memcpy(&f, static_cast<const char *>(p) + i * 4, 4);
      return f;
    }
    case AMALGAM_DTYPE_F16: {
      uint16_t h;
      std::memcpy(&h, static_cast<const char *>(p) + i * 2, 2);
      return f16_to_f32(h);
    }
    default: {
      uint16_t h;
      std::memcpy(&h, static_cast<const char *>(p) + i * 2, 2);
      return bf16_to_f32(h);
    }
  }
}

AMALGAM_HD static inline void store_scalar(void *p, int32_t dtype, int64_t i, float v) {
  switch (dtype) {
    case AMALGAM_DTYPE_F32:
      std::memcpy(static_cast<char *>(p) + i * 4, &v, 4);
      break;
    case AMALGAM_DTYPE_F16: {
      uint16_t h = f32_to_f16(v);
      std::memcpy(static_cast<char *>(p) + i * 2, &h, 2);
      break;
    }
    default: {
      uint16_t h = f32_to_bf16(v);
      std::memcpy(static_cast<char *>(p) + i * 2, &h, 2);
      break;
    }
  }
}

// Elements [begin, n) of one weighted sum, scalar; used by the scalar path and for SIMD tails.
AMALGAM_HD static inline void weighted_sum_scalar_range(int32_t count, const void *const *inputs, const int32_t *dtypes,
                                                        const float *c, void *out, int32_t out_dtype, int64_t begin,
                                                        int64_t n) {
  for (int64_t i = begin; i < n; ++i) {
    float acc = c[0] * load_scalar(inputs[0], dtypes[0], i);
    for (int32_t k = 1; k < count; ++k) acc = std::fmaf(c[k], load_scalar(inputs[k], dtypes[k], i), acc);
    store_scalar(out, out_dtype, i, acc);
  }
}

AMALGAM_HD static inline void convert_scalar_range(const void *src, int32_t src_dtype, void *dst, int32_t dst_dtype,
                                                   int64_t begin, int64_t n) {
  for (int64_t i = begin; i < n; ++i) store_scalar(dst, dst_dtype, i, load_scalar(src, src_dtype, i));
}

// ------------------------------------------------------------------------------- block formats (point 7)

constexpr int64_t kQuantBlock = AMALGAM_QUANT_BLOCK;
constexpr int64_t kQ8_0Bytes = 34;
constexpr int64_t kQ4_0Bytes = 18;

// Java's (int) conversion of a float: NaN -> 0, saturating at the int32 range, truncating otherwise.
AMALGAM_HD static inline int32_t java_int(float v) {
  if (v != v) return 0;
  if (v >= 2147483648.0f) return INT32_MAX;
  if (v <= -2147483648.0f) return INT32_MIN;
  return static_cast<int32_t>(v);
}

// Round half away from zero, exactly (C's roundf): v - trunc(v) is exact for every float.
AMALGAM_HD static inline float round_half_away(float v) {
  float t = std::trunc(v);
  if (std::fabs(v - t) >= 0.5f) t += v < 0.0f ? -1.0f : 1.0f;
  return t;
}

// The f16 d of a block holding a NaN: the first NaN's magnitude, quieted and narrowed (f32_to_f16 of it).
AMALGAM_HD static inline uint16_t q8_0_nan_scale(uint32_t magnitude_bits) {
  return static_cast<uint16_t>(0x7e00u | ((magnitude_bits >> 13) & 0x3ffu));
}

// One Q8_0 block of the 32 elements at src[first ..]: the reference every SIMD path must equal.
AMALGAM_HD static inline void quantize_q8_0_block_scalar(const void *src, int32_t dtype, int64_t first, uint8_t *out) {
  float x[kQuantBlock];
  uint32_t amax_bits = 0;
  bool nan = false;
  for (int j = 0; j < kQuantBlock; ++j) {
    x[j] = load_scalar(src, dtype, first + j);
    const uint32_t a = f32_bits(x[j]) & 0x7fffffffu;
    if (nan) continue;
    if (a > 0x7f800000u) {
      nan = true;
      amax_bits = a;
    } else if (a > amax_bits) {
      amax_bits = a;  // for non-negative non-NaN floats the integer order is the float order
    }
  }
  if (nan) {
    const uint16_t h = q8_0_nan_scale(amax_bits);
    std::memcpy(out, &h, 2);
    std::memset(out + 2, 0, kQuantBlock);
    return;
  }
  const float d = f32_from_bits(amax_bits) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const uint16_t h = f32_to_f16(d);
  std::memcpy(out, &h, 2);
  for (int j = 0; j < kQuantBlock; ++j) {
    out[2 + j] = static_cast<uint8_t>(static_cast<uint32_t>(java_int(round_half_away(x[j] * id))) & 0xffu);
  }
}

// The 32 signed values of one block (before scaling): Q8_0 bytes, or Q4_0 nibbles minus 8.
AMALGAM_HD static inline void block_values_scalar(const uint8_t *block, int32_t format, int8_t *q) {
  if (format == AMALGAM_BLOCK_Q8_0) {
    std::memcpy(q, block + 2, kQuantBlock);
  } else {
    for (int j = 0; j < 16; ++j) {
      q[j] = static_cast<int8_t>((block[2 + j] & 0x0f) - 8);
      q[j + 16] = static_cast<int8_t>((block[2 + j] >> 4) - 8);
    }
  }
}

AMALGAM_HD static inline void dequantize_block_scalar(const uint8_t *block, int32_t format, void *dst,
                                                      int32_t dst_dtype, int64_t first) {
  uint16_t h;
  std::memcpy(&h, block, 2);
  const float d = f16_to_f32(h);
  int8_t q[kQuantBlock];
  block_values_scalar(block, format, q);
  for (int j = 0; j < kQuantBlock; ++j) store_scalar(dst, dst_dtype, first + j, static_cast<float>(q[j]) * d);
}

AMALGAM_HD static inline int64_t block_bytes(int32_t format) {
  return format == AMALGAM_BLOCK_Q8_0 ? kQ8_0Bytes : kQ4_0Bytes;
}

// Lane state of one dot3 block (contract point 6 of amalgam.h).
struct Dot3Lanes {
  float xy[16];
  float xx[16];
  float yy[16];
};

AMALGAM_HD static inline void dot3_lanes_reset(Dot3Lanes *l) {
  for (int i = 0; i < 16; ++i) l->xy[i] = l->xx[i] = l->yy[i] = 0.0f;
}

// One group of 32 elements starting at element j, of which only those < n exist (the rest read as +0).
AMALGAM_HD static inline void dot3_group_scalar(Dot3Lanes *l, const void *x, int32_t xd, const void *y, int32_t yd,
                                                int64_t j, int64_t n) {
  for (int lane = 0; lane < 16; ++lane) {
    for (int odd = 1; odd >= 0; --odd) {
      int64_t e = j + 2 * lane + odd;
      float a = e < n ? load_scalar(x, xd, e) : 0.0f;
      float b = e < n ? load_scalar(y, yd, e) : 0.0f;
      l->xy[lane] = std::fmaf(a, b, l->xy[lane]);
      l->xx[lane] = std::fmaf(a, a, l->xx[lane]);
      l->yy[lane] = std::fmaf(b, b, l->yy[lane]);
    }
  }
}

AMALGAM_HD static inline void dot3_lanes_flush(const Dot3Lanes *l, double *total) {
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (int i = 0; i < 16; ++i) {
    sxy += static_cast<double>(l->xy[i]);
    sxx += static_cast<double>(l->xx[i]);
    syy += static_cast<double>(l->yy[i]);
  }
  total[0] += sxy;
  total[1] += sxx;
  total[2] += syy;
}

}  // namespace
}  // namespace amalgam

#endif  // AMALGAM_SCALAR_MATH_H
