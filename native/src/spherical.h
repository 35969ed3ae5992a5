// The spherical methods' Gram pass (amalgam.h contract point 9). Every accumulator is one chain of double
// additions in element order, so the loop is sequential by definition; the products are exact in double, and the
// specialisations for two to four inputs keep the chains in registers instead of memory.
// Everything sits in an anonymous namespace (kernels.h, docs/native.md pitfall 9).
#ifndef AMALGAM_SPHERICAL_H
#define AMALGAM_SPHERICAL_H

#include <cstdint>
#include <cstring>

#include "amalgam.h"
#include "scalar_math.h"

namespace amalgam {
namespace {

// x[i] = input i's element e widened to f32, minus the base's (one f32 subtraction) when there is a base.
static inline void gram_load(int32_t count, const void *const *inputs, const int32_t *dtypes, const void *base,
                             int32_t base_dtype, int64_t e, float *x) {
  const float b = base != nullptr ? load_scalar(base, base_dtype, e) : 0.0f;
  for (int32_t i = 0; i < count; ++i) {
    const float v = load_scalar(inputs[i], dtypes[i], e);
    x[i] = base != nullptr ? v - b : v;
  }
}

// Elements [e, e + count) of one input widened to f32, the dtype switch outside the loops so that they vectorise.
static inline void gram_widen(const void *p, int32_t dtype, int64_t e, int64_t count, float *out) {
  switch (dtype) {
    case AMALGAM_DTYPE_F32:
      std::memcpy(out, static_cast<const char *>(p) + e * 4, static_cast<size_t>(count) * 4);
      return;
    case AMALGAM_DTYPE_F16:
      for (int64_t i = 0; i < count; ++i) out[i] = load_scalar(p, AMALGAM_DTYPE_F16, e + i);
      return;
    default:
      for (int64_t i = 0; i < count; ++i) out[i] = load_scalar(p, AMALGAM_DTYPE_BF16, e + i);
      return;
  }
}

constexpr int64_t kGramBlock = 512;

// Widens a block of every input (less the base) into x[i][...]; returns the elements in it.
template <int N>
static inline int64_t gram_block(const void *const *inputs, const int32_t *dtypes, const void *base, int32_t base_dtype,
                                 int64_t e0, int64_t n, float (*x)[kGramBlock], float *b) {
  const int64_t count = n - e0 < kGramBlock ? n - e0 : kGramBlock;
  for (int i = 0; i < N; ++i) gram_widen(inputs[i], dtypes[i], e0, count, x[i]);
  if (base != nullptr) {
    gram_widen(base, base_dtype, e0, count, b);
    for (int i = 0; i < N; ++i) {
      for (int64_t e = 0; e < count; ++e) x[i][e] = x[i][e] - b[e];
    }
  }
  return count;
}

// The chains for two to four inputs, each sum a named local: GCC kept an array of sums on the stack, and a
// chain through memory (store, reload, add) ran at a third of the speed of one through a register.
static inline double gram_dot(float a, float b) { return static_cast<double>(a) * static_cast<double>(b); }

static void gram2(const void *const *inputs, const int32_t *dtypes, const void *base, int32_t base_dtype, int64_t n,
                  double *acc) {
  alignas(64) float x[2][kGramBlock];
  alignas(64) float b[kGramBlock];
  double s00 = acc[0], s01 = acc[1], s11 = acc[2];
  for (int64_t e0 = 0; e0 < n; e0 += kGramBlock) {
    const int64_t count = gram_block<2>(inputs, dtypes, base, base_dtype, e0, n, x, b);
    for (int64_t e = 0; e < count; ++e) {
      const float x0 = x[0][e], x1 = x[1][e];
      s00 += gram_dot(x0, x0);
      s01 += gram_dot(x0, x1);
      s11 += gram_dot(x1, x1);
    }
  }
  acc[0] = s00;
  acc[1] = s01;
  acc[2] = s11;
}

static void gram3(const void *const *inputs, const int32_t *dtypes, const void *base, int32_t base_dtype, int64_t n,
                  double *acc) {
  alignas(64) float x[3][kGramBlock];
  alignas(64) float b[kGramBlock];
  double s00 = acc[0], s01 = acc[1], s02 = acc[2], s11 = acc[3], s12 = acc[4], s22 = acc[5];
  for (int64_t e0 = 0; e0 < n; e0 += kGramBlock) {
    const int64_t count = gram_block<3>(inputs, dtypes, base, base_dtype, e0, n, x, b);
    for (int64_t e = 0; e < count; ++e) {
      const float x0 = x[0][e], x1 = x[1][e], x2 = x[2][e];
      s00 += gram_dot(x0, x0);
      s01 += gram_dot(x0, x1);
      s02 += gram_dot(x0, x2);
      s11 += gram_dot(x1, x1);
      s12 += gram_dot(x1, x2);
      s22 += gram_dot(x2, x2);
    }
  }
  acc[0] = s00;
  acc[1] = s01;
  acc[2] = s02;
  acc[3] = s11;
  acc[4] = s12;
  acc[5] = s22;
}

static void gram4(const void *const *inputs, const int32_t *dtypes, const void *base, int32_t base_dtype, int64_t n,
                  double *acc) {
  alignas(64) float x[4][kGramBlock];
  alignas(64) float b[kGramBlock];
  double s00 = acc[0], s01 = acc[1], s02 = acc[2], s03 = acc[3], s11 = acc[4], s12 = acc[5], s13 = acc[6], s22 = acc[7],
         s23 = acc[8], s33 = acc[9];
  for (int64_t e0 = 0; e0 < n; e0 += kGramBlock) {
    const int64_t count = gram_block<4>(inputs, dtypes, base, base_dtype, e0, n, x, b);
    for (int64_t e = 0; e < count; ++e) {
      const float x0 = x[0][e], x1 = x[1][e], x2 = x[2][e], x3 = x[3][e];
      s00 += gram_dot(x0, x0);
      s01 += gram_dot(x0, x1);
      s02 += gram_dot(x0, x2);
      s03 += gram_dot(x0, x3);
      s11 += gram_dot(x1, x1);
      s12 += gram_dot(x1, x2);
      s13 += gram_dot(x1, x3);
      s22 += gram_dot(x2, x2);
      s23 += gram_dot(x2, x3);
      s33 += gram_dot(x3, x3);
    }
  }
  const double sums[10] = {s00, s01, s02, s03, s11, s12, s13, s22, s23, s33};
  for (int k = 0; k < 10; ++k) acc[k] = sums[k];
}

void gram(int32_t count, const void *const *inputs, const int32_t *dtypes, const void *base, int32_t base_dtype,
          int64_t n, double *acc) {
  switch (count) {
    case 2:
      gram2(inputs, dtypes, base, base_dtype, n, acc);
      return;
    case 3:
      gram3(inputs, dtypes, base, base_dtype, n, acc);
      return;
    case 4:
      gram4(inputs, dtypes, base, base_dtype, n, acc);
      return;
    default:
      break;
  }
  float x[AMALGAM_GRAM_MAX_INPUTS];
  for (int64_t e = 0; e < n; ++e) {
    gram_load(count, inputs, dtypes, base, base_dtype, e, x);
    int64_t k = 0;
    for (int32_t i = 0; i < count; ++i) {
      const double xi = x[i];
      for (int32_t j = i; j < count; ++j) acc[k++] += xi * static_cast<double>(x[j]);
    }
  }
}

}  // namespace
}  // namespace amalgam

#endif  // AMALGAM_SPHERICAL_H
