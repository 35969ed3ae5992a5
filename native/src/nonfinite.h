// Counting NaN and infinite values (amalgam_count_nonfinite). Each ISA translation unit includes this header once;
// the loops are plain integer tests on the stored bits, written so that the compiler vectorizes them with the
// unit's own -m flags (one compare-and-count per element, no branches). Everything sits in an anonymous
// namespace (kernels.h, docs/native.md pitfall 9).
#ifndef AMALGAM_NONFINITE_H
#define AMALGAM_NONFINITE_H

#include <cstdint>
#include <cstring>

#include "amalgam.h"

namespace amalgam {
namespace {

// A value is non-finite when its exponent bits are all ones: infinite with a zero mantissa, else NaN. Real weights
// almost never hold one, so each block is first scanned with one compare per element in the storage width (no
// widening, so the vectorized loop runs near the cache's bandwidth) and counted exactly only if the scan found one.
template <typename Bits, Bits kExponent, Bits kMantissa>
void count_nonfinite_bits(const void *src, int64_t n, int64_t *counts) {
  const unsigned char *p = static_cast<const unsigned char *>(src);
  int64_t nan = 0;
  int64_t inf = 0;
  constexpr int64_t kStep = 4096;  // 32-bit lane counters stay exact within a step
  for (int64_t start = 0; start < n; start += kStep) {
    const int64_t end = start + kStep < n ? start + kStep : n;
    Bits any = 0;
    for (int64_t i = start; i < end; ++i) {
      Bits v;
      std::memcpy(&v, p + i * static_cast<int64_t>(sizeof(Bits)), sizeof(Bits));
      any |= static_cast<Bits>((v & kExponent) == kExponent);
    }
    if (any == 0) continue;
    uint32_t step_nan = 0;
    uint32_t step_inf = 0;
    for (int64_t i = start; i < end; ++i) {
      Bits v;
      std::memcpy(&v, p + i * static_cast<int64_t>(sizeof(Bits)), sizeof(Bits));
      const uint32_t special = (v & kExponent) == kExponent;
      const uint32_t zero_mantissa = (v & kMantissa) == 0;
      step_inf += special & zero_mantissa;
      step_nan += special & (zero_mantissa ^ 1u);
    }
    nan += step_nan;
    inf += step_inf;
  }
  counts[0] += nan;
  counts[1] += inf;
}

void count_nonfinite(const void *src, int32_t dtype, int64_t n, int64_t *counts) {
  switch (dtype) {
    case AMALGAM_DTYPE_F32:
      count_nonfinite_bits<uint32_t, 0x7f800000u, 0x007fffffu>(src, n, counts);
      break;
    case AMALGAM_DTYPE_F16:
      count_nonfinite_bits<uint16_t, 0x7c00u, 0x03ffu>(src, n, counts);
      break;
    default:  // AMALGAM_DTYPE_BF16
      count_nonfinite_bits<uint16_t, 0x7f80u, 0x007fu>(src, n, counts);
      break;
  }
}

}  // namespace
}  // namespace amalgam

#endif  // AMALGAM_NONFINITE_H
