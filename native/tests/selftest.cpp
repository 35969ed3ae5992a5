// Native self-test: every ISA path against the scalar path, without the JVM.
// Usage: amalgam_selftest [N] [--exhaustive] [--bench]
//   N             elements of the random-data tests (default 1000003)
//   --exhaustive  also convert all 2^32 f32 bit patterns to f16 and bf16 on every path (~1 minute)
//   --bench       time lerp, SLERP, copy, read, Q8_0 quantize and dequantize over N bf16 elements (single
//                 thread) after the checks
// Exit status 0 = all paths agree bit for bit.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "amalgam.h"

#if defined(__SANITIZE_ADDRESS__)
#define AMALGAM_SELFTEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AMALGAM_SELFTEST_ASAN 1
#endif
#endif
#ifdef AMALGAM_SELFTEST_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, bytes) ASAN_POISON_MEMORY_REGION((p), static_cast<size_t>(bytes))
#define UNPOISON(p, bytes) ASAN_UNPOISON_MEMORY_REGION((p), static_cast<size_t>(bytes))
#else
#define POISON(p, bytes) ((void)(p), (void)(bytes))
#define UNPOISON(p, bytes) ((void)(p), (void)(bytes))
#endif

namespace {

const int kDtypes[] = {AMALGAM_DTYPE_F32, AMALGAM_DTYPE_F16, AMALGAM_DTYPE_BF16};
int failures = 0;

const char *dtype_name(int d) { return d == AMALGAM_DTYPE_F32 ? "f32" : d == AMALGAM_DTYPE_F16 ? "f16" : "bf16"; }
int64_t dtype_size(int d) { return d == AMALGAM_DTYPE_F32 ? 4 : 2; }
int64_t address(const void *p) { return amalgam_address_of(p); }

void check(bool ok, const char *what, int isa, int64_t n, const char *detail = "") {
  if (!ok) {
    std::fprintf(stderr, "FAIL %s isa=%s n=%" PRId64 " %s\n", what, amalgam_isa_name(isa), n, detail);
    ++failures;
  }
}

void expect_ok(int status, const char *what) {
  if (status != AMALGAM_OK) {
    std::fprintf(stderr, "FAIL %s returned %s\n", what, amalgam_status_message(status));
    ++failures;
  }
}

uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A byte buffer whose data starts `offset` bytes past a 64-byte boundary, with guard bytes on both sides so
// that a write outside [data, data + bytes) shows up as a difference.
struct Buffer {
  std::vector<uint8_t> storage;
  int64_t offset;
  int64_t bytes;

  Buffer(int64_t size, int64_t off) : storage(static_cast<size_t>(size + 256), 0xab), offset(off), bytes(size) {
    poison_guards();
  }
  Buffer(Buffer &&) = default;
  Buffer(const Buffer &) = delete;
  ~Buffer() { UNPOISON(storage.data(), storage.size()); }
  // 64 guard bytes before the data and at least 64 after it (offset < 64).
  uint8_t *data() {
    uintptr_t base = reinterpret_cast<uintptr_t>(storage.data()) + 64;
    uintptr_t aligned = (base + 63) / 64 * 64;
    return reinterpret_cast<uint8_t *>(aligned) + offset;
  }
  void fill(uint8_t v) {
    UNPOISON(storage.data(), storage.size());
    std::memset(storage.data(), v, storage.size());
    poison_guards();
  }
  // Under AddressSanitizer a kernel that reads or writes a guard byte fails at once, not only when it changes
  // one. (ASan poisons whole 8-byte granules below data(), so an underrun of under 8 bytes can go unseen there.)
  void poison_guards() {
    POISON(storage.data(), data() - storage.data());
    POISON(data() + bytes, storage.data() + storage.size() - (data() + bytes));
  }
};

// Normal data: N(0, 0.02), the shape of model weights, converted to dtype by the scalar path.
void fill_normal(Buffer &b, int dtype, int64_t n, std::mt19937_64 &rng) {
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> f(static_cast<size_t>(n));
  for (auto &v : f) v = normal(rng);
  expect_ok(amalgam_convert(AMALGAM_ISA_SCALAR, address(f.data()), AMALGAM_DTYPE_F32, address(b.data()), dtype, n, 0),
            "convert (fill)");
}

// Normal numbers of widely spread magnitudes (2^-60 .. 2^60; 2^-14 .. 2^14 for f16), random signs: the products
// and sums stay normal, so even vdpbf16ps must give the canonical bits.
void fill_wide(Buffer &b, int dtype, int64_t n, std::mt19937_64 &rng) {
  int span = dtype == AMALGAM_DTYPE_F16 ? 14 : 60;
  std::vector<float> f(static_cast<size_t>(n));
  for (auto &v : f) {
    uint64_t r = rng();
    int exponent = static_cast<int>(r % static_cast<uint64_t>(2 * span + 1)) - span;
    uint32_t bits = (static_cast<uint32_t>(r >> 32) & 0x807fffffu) | static_cast<uint32_t>(exponent + 127) << 23;
    v = f32_from_bits(bits);
  }
  expect_ok(amalgam_convert(AMALGAM_ISA_SCALAR, address(f.data()), AMALGAM_DTYPE_F32, address(b.data()), dtype, n, 0),
            "convert (fill)");
}

// Any bit pattern, with NaN, infinities, zeros and subnormals over-represented, plus normal values.
void fill_special(Buffer &b, int dtype, int64_t n, std::mt19937_64 &rng) {
  uint8_t *p = b.data();
  for (int64_t i = 0; i < n; ++i) {
    uint64_t r = rng();
    uint32_t kind = r & 7u;
    uint32_t bits = static_cast<uint32_t>(r >> 8);
    if (dtype == AMALGAM_DTYPE_F32) {
      if (kind == 0) bits = (bits & 0x807fffffu) | 0x7f800000u;  // NaN or infinity
      if (kind == 1) bits &= 0x807fffffu;                        // subnormal or zero
      if (kind == 2) bits &= 0x80000000u;                        // +-0
      std::memcpy(p + 4 * i, &bits, 4);
    } else {
      uint16_t h = static_cast<uint16_t>(bits);
      uint16_t exp_mask = dtype == AMALGAM_DTYPE_F16 ? 0x7c00 : 0x7f80;
      if (kind == 0) h |= exp_mask;
      if (kind == 1) h &= static_cast<uint16_t>(~exp_mask);
      if (kind == 2) h &= 0x8000;
      std::memcpy(p + 2 * i, &h, 2);
    }
  }
}

// Equal data and untouched guard bytes around it.
bool same_bytes(Buffer &a, Buffer &b) {
  UNPOISON(a.storage.data(), a.storage.size());
  UNPOISON(b.storage.data(), b.storage.size());
  const bool same =
      a.bytes == b.bytes && std::memcmp(a.data() - 64, b.data() - 64, static_cast<size_t>(a.bytes + 128)) == 0;
  a.poison_guards();
  b.poison_guards();
  return same;
}

// ------------------------------------------------------------------------------------------ conversions

void test_all_16_bit_patterns(int best) {
  std::vector<uint16_t> src(65536);
  for (uint32_t i = 0; i < 65536; ++i) src[i] = static_cast<uint16_t>(i);
  for (int sd : {AMALGAM_DTYPE_F16, AMALGAM_DTYPE_BF16}) {
    for (int dd : kDtypes) {
      Buffer want(65536 * dtype_size(dd), 0), got(65536 * dtype_size(dd), 0);
      expect_ok(amalgam_convert(AMALGAM_ISA_SCALAR, address(src.data()), sd, address(want.data()), dd, 65536, 0),
                "convert");
      for (int isa = 1; isa <= best; ++isa) {
        for (int flags : {0, static_cast<int>(AMALGAM_FLAG_STREAM_STORES)}) {
          got.fill(0xab);
          expect_ok(amalgam_convert(isa, address(src.data()), sd, address(got.data()), dd, 65536, flags), "convert");
          char detail[64];
          std::snprintf(detail, sizeof detail, "%s -> %s flags=%d", dtype_name(sd), dtype_name(dd), flags);
          check(same_bytes(want, got), "all 16-bit patterns", isa, 65536, detail);
        }
      }
    }
  }
  // The scalar widening itself: bf16 is a shift, f16 NaN is quieted (contract point 5).
  std::vector<float> wide(65536);
  amalgam_convert(AMALGAM_ISA_SCALAR, address(src.data()), AMALGAM_DTYPE_BF16, address(wide.data()), AMALGAM_DTYPE_F32,
                  65536, 0);
  for (uint32_t i = 0; i < 65536; ++i) check(f32_bits(wide[i]) == i << 16, "bf16 widening", 0, i);
}

std::vector<float> special_floats(std::mt19937_64 &rng, int64_t random_count) {
  std::vector<uint32_t> bits = {
      0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u, 0x007fffffu, 0x00800000u, 0x7f7fffffu, 0xff7fffffu,
      0x7f800000u, 0xff800000u, 0x7f800001u, 0xff800001u, 0x7fc00000u, 0xffc00000u, 0x7fffffffu, 0xffffffffu,
      0x7fa00000u, 0x7f80ffffu, 0x7fbfffffu, 0x7f808000u,
      // f16 boundaries: max half (65504), the overflow threshold 65520 and its neighbours, min normal and
      // subnormal halves and the half-way points below them.
      0x477fe000u, 0x477fefffu, 0x477ff000u, 0x477ff001u, 0x38800000u, 0x387fffffu, 0x33800000u, 0x33000000u,
      0x33000001u, 0x32ffffffu, 0x33c00000u, 0x34000000u, 0x34200000u, 0x34400000u,
      // bf16 ties: exactly half-way, with even and odd kept bit.
      0x3f808000u, 0x3f818000u, 0x3f807fffu, 0x3f808001u, 0x7f7f8000u, 0x007f8000u, 0x00008000u, 0x00018000u};
  for (int64_t i = 0; i < random_count; ++i) bits.push_back(static_cast<uint32_t>(rng()));
  // Every f16 rounding tie: half-way between consecutive halves, for normal and subnormal targets.
  for (uint32_t h = 0; h < 0x7c00u; h += 7) {
    uint16_t hh = static_cast<uint16_t>(h);
    uint16_t next = static_cast<uint16_t>(h + 1);
    float a, b;
    amalgam_convert(AMALGAM_ISA_SCALAR, address(&hh), AMALGAM_DTYPE_F16, address(&a), AMALGAM_DTYPE_F32, 1, 0);
    amalgam_convert(AMALGAM_ISA_SCALAR, address(&next), AMALGAM_DTYPE_F16, address(&b), AMALGAM_DTYPE_F32, 1, 0);
    double mid = (static_cast<double>(a) + static_cast<double>(b)) / 2;
    bits.push_back(f32_bits(static_cast<float>(mid)));
    bits.push_back(f32_bits(-static_cast<float>(mid)));
  }
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = f32_from_bits(bits[i]);
  return out;
}

void test_f32_narrowing(int best, std::mt19937_64 &rng) {
  std::vector<float> src = special_floats(rng, 1 << 20);
  int64_t n = static_cast<int64_t>(src.size());
  for (int dd : {AMALGAM_DTYPE_F16, AMALGAM_DTYPE_BF16, AMALGAM_DTYPE_F32}) {
    Buffer want(n * dtype_size(dd), 0), got(n * dtype_size(dd), 0);
    expect_ok(
        amalgam_convert(AMALGAM_ISA_SCALAR, address(src.data()), AMALGAM_DTYPE_F32, address(want.data()), dd, n, 0),
        "convert");
    for (int isa = 1; isa <= best; ++isa) {
      got.fill(0xab);
      expect_ok(amalgam_convert(isa, address(src.data()), AMALGAM_DTYPE_F32, address(got.data()), dd, n, 0), "convert");
      check(same_bytes(want, got), "f32 special values", isa, n, dtype_name(dd));
    }
  }
}

void test_all_f32_patterns(int best) {
  const int64_t chunk = 1 << 24;
  std::vector<uint32_t> src(chunk);
  std::vector<uint16_t> want(chunk), got(chunk);
  for (int dd : {AMALGAM_DTYPE_F16, AMALGAM_DTYPE_BF16}) {
    for (uint64_t start = 0; start < (1ull << 32); start += chunk) {
      for (int64_t i = 0; i < chunk; ++i) src[i] = static_cast<uint32_t>(start + i);
      amalgam_convert(AMALGAM_ISA_SCALAR, address(src.data()), AMALGAM_DTYPE_F32, address(want.data()), dd, chunk, 0);
      for (int isa = 1; isa <= best; ++isa) {
        amalgam_convert(isa, address(src.data()), AMALGAM_DTYPE_F32, address(got.data()), dd, chunk, 0);
        if (want != got) {
          for (int64_t i = 0; i < chunk; ++i) {
            if (want[i] != got[i]) {
              std::fprintf(stderr, "FAIL all f32 patterns isa=%s to %s: %08x gives %04x, scalar %04x\n",
                           amalgam_isa_name(isa), dtype_name(dd), src[i], got[i], want[i]);
              ++failures;
              break;
            }
          }
        }
      }
    }
    std::printf("amalgam_selftest: all 2^32 f32 patterns to %s checked\n", dtype_name(dd));
  }
}

// ----------------------------------------------------------------------------------------- weighted sum

// One weighted sum on every path against scalar, ordinary and streaming stores, inputs and output misaligned.
void compare_weighted_sum(int best, int count, const int *in_dtypes, int out_dtype, int64_t n, bool special,
                          std::mt19937_64 &rng) {
  std::vector<Buffer> inputs;
  std::vector<int64_t> addresses;
  std::vector<int32_t> dtypes(in_dtypes, in_dtypes + count);
  std::vector<float> coefficients;
  const float coefficient_choices[] = {0.3f, 0.7f, -1.0f, 1.0f, 0.0f, -0.0f, 1e-30f, 3.5e30f, 0.123456f, -2.5f};
  for (int k = 0; k < count; ++k) {
    int64_t offset = static_cast<int64_t>(rng() % 32) * dtype_size(dtypes[k]);
    inputs.emplace_back(n * dtype_size(dtypes[k]), offset);
  }
  for (int k = 0; k < count; ++k) {
    if (special) {
      fill_special(inputs[k], dtypes[k], n, rng);
    } else {
      fill_normal(inputs[k], dtypes[k], n, rng);
    }
    addresses.push_back(address(inputs[k].data()));
    coefficients.push_back(special ? coefficient_choices[rng() % 10] : (k == 0 ? 0.3f : 0.7f / static_cast<float>(k)));
  }
  // Odd byte offsets too: a streaming output that cannot be aligned must fall back to ordinary stores.
  int64_t out_offset = static_cast<int64_t>(rng() % 64);
  if (rng() % 2 == 0) out_offset -= out_offset % dtype_size(out_dtype);
  Buffer want(n * dtype_size(out_dtype), out_offset), got(n * dtype_size(out_dtype), out_offset);
  expect_ok(amalgam_weighted_sum(AMALGAM_ISA_SCALAR, count, addresses.data(), dtypes.data(), coefficients.data(),
                                 address(want.data()), out_dtype, n, 0),
            "weighted_sum");
  for (int isa = 1; isa <= best; ++isa) {
    for (int flags : {0, static_cast<int>(AMALGAM_FLAG_STREAM_STORES)}) {
      got.fill(0xab);
      expect_ok(amalgam_weighted_sum(isa, count, addresses.data(), dtypes.data(), coefficients.data(),
                                     address(got.data()), out_dtype, n, flags),
                "weighted_sum");
      char detail[160];
      int len = std::snprintf(detail, sizeof detail, "count=%d out=%s off=%" PRId64 " flags=%d special=%d in=", count,
                              dtype_name(out_dtype), out_offset, flags, special ? 1 : 0);
      for (int k = 0; k < count && len < 140; ++k) len += std::snprintf(detail + len, 16, "%s,", dtype_name(dtypes[k]));
      check(same_bytes(want, got), "weighted_sum", isa, n, detail);
    }
  }
}

void test_weighted_sums(int best, std::mt19937_64 &rng) {
  const int64_t sizes[] = {0, 1, 15, 16, 17, 31, 33, 100, 511, 512, 513, 1000, 4099, 70001};
  for (int64_t n : sizes) {
    for (int od : kDtypes) {
      for (int d0 : kDtypes) {
        int one[1] = {d0};
        compare_weighted_sum(best, 1, one, od, n, true, rng);
        for (int d1 : kDtypes) {
          int two[2] = {d0, d1};
          compare_weighted_sum(best, 2, two, od, n, true, rng);
        }
      }
      for (int count = 3; count <= 5; ++count) {
        int many[5];
        for (int k = 0; k < count; ++k) many[k] = kDtypes[rng() % 3];
        compare_weighted_sum(best, count, many, od, n, true, rng);
        compare_weighted_sum(best, count, many, od, n, false, rng);
      }
    }
  }
}

// --------------------------------------------------------------------------------------------------- dot3

bool same_dot3(const double *a, const double *b) {
  for (int i = 0; i < 3; ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;  // NaN payloads of dot3 are unspecified
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) return false;
  }
  return true;
}

void test_dot3_edges(int best, std::mt19937_64 &rng) {
  const int64_t sizes[] = {1, 2, 31, 32, 33, 63, 64, 4095, 4096, 4097, 4096 + 31, 8192 + 33, 3 * 4096};
  for (int64_t n : sizes) {
    for (int xd : kDtypes) {
      for (int yd : kDtypes) {
        for (int data = 0; data < 3; ++data) {
          const bool special = data == 2;
          Buffer x(n * dtype_size(xd), static_cast<int64_t>(rng() % 16) * dtype_size(xd));
          Buffer y(n * dtype_size(yd), static_cast<int64_t>(rng() % 16) * dtype_size(yd));
          if (data == 0) {
            fill_normal(x, xd, n, rng);
            fill_normal(y, yd, n, rng);
          } else if (data == 1) {
            fill_wide(x, xd, n, rng);
            fill_wide(y, yd, n, rng);
          } else {
            fill_special(x, xd, n, rng);
            fill_special(y, yd, n, rng);
          }
          double want[3], got[3];
          expect_ok(amalgam_dot3(AMALGAM_ISA_SCALAR, address(x.data()), xd, address(y.data()), yd, n, want), "dot3");
          for (int isa = 1; isa <= best; ++isa) {
            // vdpbf16ps flushes subnormals (contract point 4): special data is exact only elsewhere.
            if (special && isa == AMALGAM_ISA_AVX512_BF16 && xd == AMALGAM_DTYPE_BF16 && yd == AMALGAM_DTYPE_BF16)
              continue;
            expect_ok(amalgam_dot3(isa, address(x.data()), xd, address(y.data()), yd, n, got), "dot3");
            char detail[64];
            std::snprintf(detail, sizeof detail, "%s x %s data=%d", dtype_name(xd), dtype_name(yd), data);
            check(same_dot3(want, got), "dot3 edges", isa, n, detail);
          }
        }
      }
    }
  }
}

// The original broad test: normal data, every dtype pair and output, every path.
void test_random_normal(int best, int64_t n, std::mt19937_64 &rng) {
  for (int xd : kDtypes) {
    for (int yd : kDtypes) {
      Buffer x(n * dtype_size(xd), 0), y(n * dtype_size(yd), 0);
      fill_normal(x, xd, n, rng);
      fill_normal(y, yd, n, rng);
      double ref[3];
      expect_ok(amalgam_dot3(AMALGAM_ISA_SCALAR, address(x.data()), xd, address(y.data()), yd, n, ref), "dot3");
      for (int od : kDtypes) {
        Buffer want(n * dtype_size(od), 0), got(n * dtype_size(od), 0), conv(n * dtype_size(od), 0);
        int64_t in[2] = {address(x.data()), address(y.data())};
        int32_t ind[2] = {xd, yd};
        float c[2] = {0.3f, 0.7f};
        amalgam_weighted_sum(AMALGAM_ISA_SCALAR, 2, in, ind, c, address(want.data()), od, n, 0);
        amalgam_convert(AMALGAM_ISA_SCALAR, address(x.data()), xd, address(conv.data()), od, n, 0);
        for (int isa = 1; isa <= best; ++isa) {
          got.fill(0xab);
          int st = amalgam_weighted_sum(isa, 2, in, ind, c, address(got.data()), od, n, 0);
          check(st == AMALGAM_OK && same_bytes(got, want), "weighted_sum", isa, n);
          got.fill(0xab);
          st = amalgam_convert(isa, address(x.data()), xd, address(got.data()), od, n, AMALGAM_FLAG_STREAM_STORES);
          check(st == AMALGAM_OK && same_bytes(got, conv), "convert", isa, n);
        }
      }
      for (int isa = 1; isa <= best; ++isa) {
        double r[3];
        int st = amalgam_dot3(isa, address(x.data()), xd, address(y.data()), yd, n, r);
        check(st == AMALGAM_OK && std::memcmp(r, ref, sizeof r) == 0, "dot3", isa, n);
      }
    }
  }
}

// In-place conversion between same-size types and an output equal to an input are allowed (amalgam.h).
void test_aliasing(int best, std::mt19937_64 &rng) {
  const int64_t n = 10007;
  for (int isa = 0; isa <= best; ++isa) {
    Buffer a(n * 2, 0), b(n * 2, 0), want(n * 2, 0);
    fill_special(a, AMALGAM_DTYPE_F16, n, rng);
    fill_normal(b, AMALGAM_DTYPE_BF16, n, rng);
    amalgam_convert(AMALGAM_ISA_SCALAR, address(a.data()), AMALGAM_DTYPE_F16, address(want.data()), AMALGAM_DTYPE_BF16,
                    n, 0);
    amalgam_convert(isa, address(a.data()), AMALGAM_DTYPE_F16, address(a.data()), AMALGAM_DTYPE_BF16, n, 0);
    check(std::memcmp(a.data(), want.data(), n * 2) == 0, "in-place convert", isa, n);
    int64_t in[2] = {address(a.data()), address(b.data())};
    int32_t dt[2] = {AMALGAM_DTYPE_BF16, AMALGAM_DTYPE_BF16};
    float c[2] = {0.25f, 0.75f};
    amalgam_weighted_sum(AMALGAM_ISA_SCALAR, 2, in, dt, c, address(want.data()), AMALGAM_DTYPE_BF16, n, 0);
    amalgam_weighted_sum(isa, 2, in, dt, c, address(a.data()), AMALGAM_DTYPE_BF16, n, AMALGAM_FLAG_STREAM_STORES);
    check(std::memcmp(a.data(), want.data(), n * 2) == 0, "weighted_sum into its input", isa, n);
  }
}

void test_status_codes() {
  double r[3];
  float c = 1.0f;
  int32_t dt = AMALGAM_DTYPE_F32;
  int64_t in = 64;
  check(amalgam_convert(amalgam_isa_best() + 1, 64, 0, 64, 0, 1, 0) == AMALGAM_ERR_UNSUPPORTED_ISA, "isa", 0, 1);
  check(amalgam_convert(0, 64, 0, 64, 0, -1, 0) == AMALGAM_ERR_NEGATIVE_COUNT, "negative n", 0, -1);
  check(amalgam_convert(0, 64, 7, 64, 0, 1, 0) == AMALGAM_ERR_BAD_DTYPE, "bad dtype", 0, 1);
  check(amalgam_dot3(0, 0, 0, 64, 0, 1, r) == AMALGAM_ERR_NULL_POINTER, "null", 0, 1);
  check(amalgam_weighted_sum(0, 0, &in, &dt, &c, 64, 0, 1, 0) == AMALGAM_ERR_BAD_INPUT_COUNT, "count", 0, 1);
  check(amalgam_quantize_q8_0(0, 64, 0, 64, 33) == AMALGAM_ERR_BAD_BLOCK_COUNT, "block count", 0, 33);
  check(amalgam_quantize_q8_0(0, 64, 0, 64, -32) == AMALGAM_ERR_NEGATIVE_COUNT, "negative n", 0, -32);
  check(amalgam_quantize_q8_0(0, 64, 9, 64, 32) == AMALGAM_ERR_BAD_DTYPE, "bad dtype", 0, 32);
  check(amalgam_quantize_q8_0(0, 0, 0, 64, 32) == AMALGAM_ERR_NULL_POINTER, "null", 0, 32);
  check(amalgam_dequantize(0, 64, 3, 64, 0, 32) == AMALGAM_ERR_BAD_DTYPE, "bad format", 0, 32);
  check(amalgam_dequantize(0, 64, AMALGAM_BLOCK_Q8_0, 64, 0, 31) == AMALGAM_ERR_BAD_BLOCK_COUNT, "block count", 0, 31);
  check(amalgam_dequantize(amalgam_isa_best() + 1, 64, AMALGAM_BLOCK_Q8_0, 64, 0, 32) == AMALGAM_ERR_UNSUPPORTED_ISA,
        "isa", 0, 32);
}

// ---------------------------------------------------------------------------------------- block formats

// Ties: blocks whose amax is 127 * 2^e, so that d = 2^e, id = 2^-e exactly and x * id = k + 0.5 exactly.
void fill_ties(Buffer &b, int dtype, int64_t n, std::mt19937_64 &rng) {
  std::vector<float> f(static_cast<size_t>(n));
  for (int64_t first = 0; first < n; first += 32) {
    int e = static_cast<int>(rng() % 9) - 4;
    float scale = std::ldexp(1.0f, e);
    for (int j = 0; j < 32; ++j) {
      int k = static_cast<int>(rng() % 254) - 127;  // -127 .. 126
      float v = (static_cast<float>(k) + 0.5f) * scale;
      f[static_cast<size_t>(first + j)] = j == 0 ? (rng() % 2 ? 127.0f : -127.0f) * scale : v;
    }
  }
  expect_ok(amalgam_convert(AMALGAM_ISA_SCALAR, address(f.data()), AMALGAM_DTYPE_F32, address(b.data()), dtype, n, 0),
            "convert (fill)");
}

// Blocks of one kind each: zeros, subnormals only, an infinity, a NaN at a random place, huge values.
void fill_edge_blocks(Buffer &b, int dtype, int64_t n, std::mt19937_64 &rng) {
  std::vector<float> f(static_cast<size_t>(n));
  for (int64_t first = 0; first < n; first += 32) {
    int kind = static_cast<int>((first / 32) % 6);
    for (int j = 0; j < 32; ++j) {
      uint32_t r = static_cast<uint32_t>(rng());
      float v = std::ldexp(static_cast<float>(static_cast<int32_t>(r % 2001) - 1000), -10);
      if (kind == 0) v = (r & 1) ? -0.0f : 0.0f;
      if (kind == 1) v = f32_from_bits((r & 0x8000000fu) | (r & 0x007ffff0u) * ((r >> 3) & 1));
      if (kind == 4) v *= 3e34f;
      f[static_cast<size_t>(first + j)] = v;
    }
    if (kind == 2)
      f[static_cast<size_t>(first + static_cast<int64_t>(rng() % 32))] = (rng() & 1) ? INFINITY : -INFINITY;
    if (kind == 3) {
      f[static_cast<size_t>(first + static_cast<int64_t>(rng() % 32))] =
          f32_from_bits(0x7f800001u | static_cast<uint32_t>(rng() & 0x807fffffu));
    }
  }
  expect_ok(amalgam_convert(AMALGAM_ISA_SCALAR, address(f.data()), AMALGAM_DTYPE_F32, address(b.data()), dtype, n, 0),
            "convert (fill)");
}

// The scalar reference on hand-checked blocks (ggml's quantize_row_q8_0_ref gives the same).
void test_q8_0_reference() {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j) - 16.0f;  // amax 16: d = 16/127, q = round(x * 127/16)
  x[31] = 63.5f;                                                      // amax 63.5: d = 0.5, id = 2, q = 2x
  uint8_t out[34];
  expect_ok(amalgam_quantize_q8_0(AMALGAM_ISA_SCALAR, address(x), AMALGAM_DTYPE_F32, address(out), 32), "quantize");
  uint16_t d;
  std::memcpy(&d, out, 2);
  check(d == 0x3800, "q8_0 reference d = 0.5", 0, 32);
  for (int j = 0; j < 32; ++j) {
    check(static_cast<int8_t>(out[2 + j]) == (j == 31 ? 127 : 2 * j - 32), "q8_0 reference qs", 0, j);
  }
  // Ties go away from zero: amax 127 (d = 1), x = +-2.5 -> +-3, x = 0.5 -> 1.
  for (int j = 0; j < 32; ++j) x[j] = 0.0f;
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.5f;
  x[4] = -0.49999997f;
  amalgam_quantize_q8_0(AMALGAM_ISA_SCALAR, address(x), AMALGAM_DTYPE_F32, address(out), 32);
  check(out[0] == 0x00 && out[1] == 0x3c && out[3] == 3 && out[4] == 0xfd && out[5] == 1 && out[6] == 0,
        "q8_0 reference ties", 0, 32);
  // NaN block: d = quieted f16 of the first NaN's magnitude, qs = 0; infinite block: d = inf, qs = 0.
  x[7] = f32_from_bits(0xff812345u);
  x[9] = f32_from_bits(0x7fc00000u);
  amalgam_quantize_q8_0(AMALGAM_ISA_SCALAR, address(x), AMALGAM_DTYPE_F32, address(out), 32);
  std::memcpy(&d, out, 2);
  bool zeros = true;
  for (int j = 0; j < 32; ++j) zeros = zeros && out[2 + j] == 0;
  check(d == (0x7e00 | (0x7f812345u >> 13 & 0x3ff)) && zeros, "q8_0 reference NaN block", 0, 32);
  x[7] = -INFINITY;
  x[9] = 1.0f;
  amalgam_quantize_q8_0(AMALGAM_ISA_SCALAR, address(x), AMALGAM_DTYPE_F32, address(out), 32);
  std::memcpy(&d, out, 2);
  zeros = true;
  for (int j = 0; j < 32; ++j) zeros = zeros && out[2 + j] == 0;
  check(d == 0x7c00 && zeros, "q8_0 reference infinite block", 0, 32);
}

void test_quantize_q8_0(int best, std::mt19937_64 &rng) {
  const int64_t sizes[] = {0, 32, 64, 96, 4096 + 32, 64 * 1024 + 32};
  for (int64_t n : sizes) {
    for (int sd : kDtypes) {
      for (int data = 0; data < 5; ++data) {
        Buffer src(n * dtype_size(sd), static_cast<int64_t>(rng() % 16) * dtype_size(sd));
        if (data == 0) fill_normal(src, sd, n, rng);
        if (data == 1) fill_wide(src, sd, n, rng);
        if (data == 2) fill_special(src, sd, n, rng);
        if (data == 3) fill_ties(src, sd, n, rng);
        if (data == 4) fill_edge_blocks(src, sd, n, rng);
        int64_t out_offset = static_cast<int64_t>(rng() % 64);
        Buffer want(n / 32 * 34, out_offset), got(n / 32 * 34, out_offset);
        expect_ok(amalgam_quantize_q8_0(AMALGAM_ISA_SCALAR, address(src.data()), sd, address(want.data()), n),
                  "quantize_q8_0");
        for (int isa = 1; isa <= best; ++isa) {
          got.fill(0xab);
          expect_ok(amalgam_quantize_q8_0(isa, address(src.data()), sd, address(got.data()), n), "quantize_q8_0");
          char detail[64];
          std::snprintf(detail, sizeof detail, "%s data=%d", dtype_name(sd), data);
          check(same_bytes(want, got), "quantize_q8_0", isa, n, detail);
        }
      }
    }
  }
}

void test_dequantize(int best, std::mt19937_64 &rng) {
  const int64_t sizes[] = {0, 32, 64, 96, 4096 + 32, 64 * 1024 + 32};
  for (int format : {AMALGAM_BLOCK_Q8_0, AMALGAM_BLOCK_Q4_0}) {
    const int64_t block = format == AMALGAM_BLOCK_Q8_0 ? 34 : 18;
    for (int64_t n : sizes) {
      // Random bytes: every scale bit pattern (NaN, infinity, subnormal) and every quant value appear.
      Buffer src(n / 32 * block, static_cast<int64_t>(rng() % 32));
      for (int64_t i = 0; i < src.bytes; ++i) src.data()[i] = static_cast<uint8_t>(rng());
      for (int dd : kDtypes) {
        int64_t out_offset = static_cast<int64_t>(rng() % 16) * dtype_size(dd);
        Buffer want(n * dtype_size(dd), out_offset), got(n * dtype_size(dd), out_offset);
        expect_ok(amalgam_dequantize(AMALGAM_ISA_SCALAR, address(src.data()), format, address(want.data()), dd, n),
                  "dequantize");
        for (int isa = 1; isa <= best; ++isa) {
          got.fill(0xab);
          expect_ok(amalgam_dequantize(isa, address(src.data()), format, address(got.data()), dd, n), "dequantize");
          char detail[64];
          std::snprintf(detail, sizeof detail, "%s -> %s", format == AMALGAM_BLOCK_Q8_0 ? "q8_0" : "q4_0",
                        dtype_name(dd));
          check(same_bytes(want, got), "dequantize", isa, n, detail);
        }
      }
    }
  }
  // Q8_0 then back: every |q| <= 127 block round-trips through the f32 values it decodes to.
  const int64_t n = 4096;
  std::vector<float> x(n), back(n);
  std::vector<uint8_t> q(n / 32 * 34), again(n / 32 * 34);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (auto &v : x) v = normal(rng);
  amalgam_quantize_q8_0(AMALGAM_ISA_SCALAR, address(x.data()), AMALGAM_DTYPE_F32, address(q.data()), n);
  for (int isa = 0; isa <= best; ++isa) {
    amalgam_dequantize(isa, address(q.data()), AMALGAM_BLOCK_Q8_0, address(back.data()), AMALGAM_DTYPE_F32, n);
    bool close = true;
    for (int64_t i = 0; i < n; ++i) close = close && std::fabs(back[i] - x[i]) <= 0.02f * 6 / 127;
    check(close, "q8_0 round trip error", isa, n);
  }
}

// ---------------------------------------------------------------------------------------------- timing

double seconds_of(void (*fn)(void *), void *arg, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn(arg);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < best) best = s;
  }
  return best;
}

struct BenchArgs {
  int isa;
  int64_t n;
  uint16_t *a, *b, *out;
};

void lerp(BenchArgs *g, int flags) {
  int64_t in[2] = {address(g->a), address(g->b)};
  int32_t dt[2] = {AMALGAM_DTYPE_BF16, AMALGAM_DTYPE_BF16};
  float c[2] = {0.6f, 0.4f};
  amalgam_weighted_sum(g->isa, 2, in, dt, c, address(g->out), AMALGAM_DTYPE_BF16, g->n, flags);
}

void run_lerp(void *p) { lerp(static_cast<BenchArgs *>(p), AMALGAM_FLAG_STREAM_STORES); }
void run_lerp_plain(void *p) { lerp(static_cast<BenchArgs *>(p), 0); }

// Read-bandwidth reference independent of the kernels: 64-bit integer sum with four accumulators.
volatile uint64_t read_sink;
void run_sum(void *p) {
  auto *g = static_cast<BenchArgs *>(p);
  const uint64_t *w = reinterpret_cast<const uint64_t *>(g->a);
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int64_t i = 0; i + 4 <= g->n / 4; i += 4) {
    s0 += w[i];
    s1 += w[i + 1];
    s2 += w[i + 2];
    s3 += w[i + 3];
  }
  read_sink = s0 + s1 + s2 + s3;
}

void run_slerp(void *p) {
  auto *g = static_cast<BenchArgs *>(p);
  double r[3];
  amalgam_dot3(g->isa, address(g->a), AMALGAM_DTYPE_BF16, address(g->b), AMALGAM_DTYPE_BF16, g->n, r);
  run_lerp(p);
}

void run_copy(void *p) {
  auto *g = static_cast<BenchArgs *>(p);
  std::memcpy(g->out, g->a, static_cast<size_t>(g->n) * 2);
}

void run_read(void *p) {
  auto *g = static_cast<BenchArgs *>(p);
  double r[3];
  amalgam_dot3(g->isa, address(g->a), AMALGAM_DTYPE_BF16, address(g->a), AMALGAM_DTYPE_BF16, g->n, r);
}

void run_quantize(void *p) {
  auto *g = static_cast<BenchArgs *>(p);
  amalgam_quantize_q8_0(g->isa, address(g->a), AMALGAM_DTYPE_BF16, address(g->out), g->n / 32 * 32);
}

void run_dequantize(void *p) {
  auto *g = static_cast<BenchArgs *>(p);
  amalgam_dequantize(g->isa, address(g->out), AMALGAM_BLOCK_Q8_0, address(g->b), AMALGAM_DTYPE_BF16, g->n / 32 * 32);
}

void bench(int64_t n) {
  std::vector<uint16_t> a(n), b(n), out(n);
  std::mt19937_64 rng(7);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = static_cast<uint16_t>(0x3c00 + rng() % 0x400);
    b[i] = static_cast<uint16_t>(0xbc00 + rng() % 0x400);
  }
  std::memset(out.data(), 0, n * 2);
  std::printf("bench n = %" PRId64 " bf16, 1 thread, best of 5; GB/s = bytes moved / time\n", n);
  double nb = static_cast<double>(n) * 2;
  for (int isa = 0; isa <= amalgam_isa_best(); ++isa) {
    BenchArgs g{isa, n, a.data(), b.data(), out.data()};
    double lerp = seconds_of(run_lerp, &g, 5), slerp = seconds_of(run_slerp, &g, 5);
    double plain = seconds_of(run_lerp_plain, &g, 5), read = seconds_of(run_read, &g, 5);
    std::printf("  %-12s lerp %5.1f (plain stores %5.1f)  slerp %5.1f  read = dot3(x, x) %5.1f GB/s\n",
                amalgam_isa_name(isa), 3 * nb / lerp / 1e9, 3 * nb / plain / 1e9, 5 * nb / slerp / 1e9,
                nb / read / 1e9);
    double quantize = seconds_of(run_quantize, &g, 5), dequantize = seconds_of(run_dequantize, &g, 5);
    std::printf("  %-12s quantize bf16 -> q8_0 %6.0f M elements/s, dequantize q8_0 -> bf16 %6.0f M elements/s\n",
                amalgam_isa_name(isa), static_cast<double>(n) / quantize / 1e6,
                static_cast<double>(n) / dequantize / 1e6);
  }
  {
    BenchArgs g{0, n, a.data(), b.data(), out.data()};
    double copy = seconds_of(run_copy, &g, 5), sum = seconds_of(run_sum, &g, 5);
    std::printf("  references   memcpy %5.1f GB/s  integer read-sum %5.1f GB/s\n", 2 * nb / copy / 1e9, nb / sum / 1e9);
  }
}

// ------------------------------------------------------------------------------ task-arithmetic kernels

// Random f32 bit patterns biased towards repeated magnitudes, signed zeros, NaN and infinities.
std::vector<float> ta_values(int64_t n, std::mt19937_64 &rng) {
  std::vector<float> v(static_cast<size_t>(n));
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (int64_t i = 0; i < n; ++i) {
    uint32_t r = static_cast<uint32_t>(rng());
    float x;
    switch (r % 16) {
      case 0:
        x = 0.0f;
        break;
      case 1:
        x = -0.0f;
        break;
      case 2: {
        uint32_t b = static_cast<uint32_t>(rng());
        std::memcpy(&x, &b, 4);
        break;
      }
      case 3:
        x = (r & 16) ? INFINITY : -INFINITY;
        break;
      case 4:
        x = 0.015625f * ((r & 32) ? 1.0f : -1.0f);
        break;
      default:
        x = normal(rng);
    }
    v[static_cast<size_t>(i)] = x;
  }
  return v;
}

bool same_floats(const std::vector<float> &a, const std::vector<float> &b) {
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t x, y;
    std::memcpy(&x, &a[i], 4);
    std::memcpy(&y, &b[i], 4);
    if (x != y && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
  }
  return true;
}

void test_task_arithmetic(int best, std::mt19937_64 &rng) {
  // Random123's known answer: philox4x32_10(counter 0, key 0).
  float u[4];
  expect_ok(amalgam_philox_uniforms(AMALGAM_ISA_SCALAR, 0, 0, 0, 4, u), "philox kat");
  const uint32_t kat[4] = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
  for (int j = 0; j < 4; ++j) check(u[j] == static_cast<float>(kat[j] >> 8) * 0x1p-24f, "philox kat", 0, 4);

  const int64_t sizes[] = {0, 1, 3, 17, 63, 64, 65, 1000, 4099};
  for (int64_t n : sizes) {
    std::vector<float> v = ta_values(n, rng);
    std::vector<int64_t> ref_high(AMALGAM_MAGNITUDE_BUCKETS), ref_low(AMALGAM_MAGNITUDE_BUCKETS);
    expect_ok(amalgam_magnitude_histogram_high(AMALGAM_ISA_SCALAR, v.data(), n, ref_high.data()), "hist high");
    const int32_t high =
        n > 0 ? static_cast<int32_t>((*reinterpret_cast<uint32_t *>(&v[n / 2]) & 0x7fffffffu) >> 16) : 0x3c80;
    expect_ok(amalgam_magnitude_histogram_low(AMALGAM_ISA_SCALAR, v.data(), n, high, ref_low.data()), "hist low");
    int64_t total = 0;
    for (int64_t c : ref_high) total += c;
    check(total == n, "histogram total", 0, n);
    const uint64_t seed = rng(), hash = rng();
    const int64_t first = static_cast<int64_t>(rng() % 1000) + (n % 2 ? (int64_t{1} << 34) - 5 : 0);
    std::vector<float> ref_u(static_cast<size_t>(n)), ref_keep(v);
    expect_ok(amalgam_philox_uniforms(AMALGAM_ISA_SCALAR, seed, hash, first, n, ref_u.data()), "uniforms");
    const double p = 0.3;
    expect_ok(amalgam_philox_keep(AMALGAM_ISA_SCALAR, seed, hash, first, n, p, ref_keep.data()), "keep");
    for (int64_t i = 0; i < n; ++i) {
      const float want = static_cast<double>(ref_u[i]) < p ? v[i] : 0.0f;
      check(std::memcmp(&want, &ref_keep[i], 4) == 0 || (std::isnan(want) && std::isnan(ref_keep[i])),
            "keep vs uniforms", 0, n);
    }
    const int models = 1 + static_cast<int>(rng() % 4);
    const int64_t stride = n + 3;
    std::vector<float> w = ta_values(models * stride, rng), base = ta_values(n, rng);
    std::vector<float> weights(static_cast<size_t>(models));
    for (int k = 0; k < models; ++k) weights[k] = k == 1 ? -0.5f : 0.25f * (k + 1);
    std::vector<float> ref_dis(static_cast<size_t>(n)), ref_plain(static_cast<size_t>(n));
    expect_ok(amalgam_disjoint_merge(AMALGAM_ISA_SCALAR, models, w.data(), stride, weights.data(), n, 1, base.data(),
                                     0.7f, ref_dis.data()),
              "disjoint");
    expect_ok(
        amalgam_plain_merge(AMALGAM_ISA_SCALAR, models, w.data(), stride, n, 1.5f, base.data(), 1.0f, ref_plain.data()),
        "plain");
    for (int isa = AMALGAM_ISA_AVX2; isa <= best; ++isa) {
      std::vector<int64_t> hh(AMALGAM_MAGNITUDE_BUCKETS), hl(AMALGAM_MAGNITUDE_BUCKETS);
      expect_ok(amalgam_magnitude_histogram_high(isa, v.data(), n, hh.data()), "hist high");
      expect_ok(amalgam_magnitude_histogram_low(isa, v.data(), n, high, hl.data()), "hist low");
      check(hh == ref_high, "histogram high", isa, n);
      check(hl == ref_low, "histogram low", isa, n);
      std::vector<float> uu(static_cast<size_t>(n)), keep(v), dis(static_cast<size_t>(n)),
          plain(static_cast<size_t>(n));
      expect_ok(amalgam_philox_uniforms(isa, seed, hash, first, n, uu.data()), "uniforms");
      expect_ok(amalgam_philox_keep(isa, seed, hash, first, n, p, keep.data()), "keep");
      check(same_floats(uu, ref_u), "philox uniforms", isa, n);
      check(same_floats(keep, ref_keep), "philox keep", isa, n);
      expect_ok(
          amalgam_disjoint_merge(isa, models, w.data(), stride, weights.data(), n, 1, base.data(), 0.7f, dis.data()),
          "disjoint");
      expect_ok(amalgam_plain_merge(isa, models, w.data(), stride, n, 1.5f, base.data(), 1.0f, plain.data()), "plain");
      check(same_floats(dis, ref_dis), "disjoint merge", isa, n);
      check(same_floats(plain, ref_plain), "plain merge", isa, n);
    }
  }
  float one = 1.0f;
  int64_t h[1];
  check(amalgam_magnitude_histogram_low(0, &one, 1, 65536, h) == AMALGAM_ERR_BAD_ARGUMENT, "high range", 0, 1);
  check(amalgam_philox_uniforms(0, 0, 0, -1, 1, &one) == AMALGAM_ERR_NEGATIVE_COUNT, "negative first", 0, 1);
  check(amalgam_philox_keep(0, 0, 0, INT64_MAX, 2, 0.5, &one) == AMALGAM_ERR_BAD_ARGUMENT, "range overflow", 0, 2);
  check(amalgam_disjoint_merge(0, 0, &one, 1, &one, 1, 0, &one, 1.0f, &one) == AMALGAM_ERR_BAD_INPUT_COUNT, "models", 0,
        1);
  check(amalgam_plain_merge(0, 1, &one, 0, 1, 1.0f, &one, 1.0f, &one) == AMALGAM_ERR_BAD_ARGUMENT, "stride", 0, 1);
}

// ----------------------------------------------------------------------- exact-size buffers (sanitizers)

// `bytes` bytes of heap that end exactly where the allocation ends and start `misalign` bytes into it, so that
// under AddressSanitizer any read or write past the end (and any before the allocation) is reported.
class Exact {
 public:
  Exact(int64_t bytes, int64_t misalign)
      : block_(new uint8_t[static_cast<size_t>(bytes + misalign)]), data_(block_ + misalign), bytes_(bytes) {
    std::memset(block_, 0xcd, static_cast<size_t>(bytes + misalign));
  }
  Exact(const Exact &) = delete;
  Exact &operator=(const Exact &) = delete;
  ~Exact() { delete[] block_; }
  uint8_t *data() { return data_; }
  float *floats() { return reinterpret_cast<float *>(data_); }
  int64_t bytes() const { return bytes_; }

 private:
  uint8_t *block_;
  uint8_t *data_;
  int64_t bytes_;
};

void fill_bytes(Exact &b, std::mt19937_64 &rng) {
  for (int64_t i = 0; i < b.bytes(); ++i) b.data()[i] = static_cast<uint8_t>(rng());
}

// Random f32 values of every kind at a possibly unaligned address (the float* kernels need 4-byte alignment).
void fill_ta(Exact &b, int64_t n, std::mt19937_64 &rng) {
  std::vector<float> v = ta_values(n, rng);
  if (n > 0) std::memcpy(b.data(), v.data(), static_cast<size_t>(n) * 4);
}

bool same_exact(Exact &a, Exact &b) {
  return a.bytes() == b.bytes() && std::memcmp(a.data(), b.data(), static_cast<size_t>(a.bytes())) == 0;
}

const int64_t kExactSizes[] = {0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 1000, 2049, 4095, 4097};

// Every element-wise kernel on every ISA against the scalar path, with buffers allocated to the byte.
void test_exact_elementwise(int best, std::mt19937_64 &rng) {
  for (int64_t n : kExactSizes) {
    for (int sd : kDtypes) {
      Exact src(n * dtype_size(sd), static_cast<int64_t>(rng() % 4) * dtype_size(sd) + 1);
      fill_bytes(src, rng);
      for (int dd : kDtypes) {
        Exact want(n * dtype_size(dd), 1), got(n * dtype_size(dd), 3);
        expect_ok(amalgam_convert(0, address(src.data()), sd, address(want.data()), dd, n, 0), "exact convert");
        for (int isa = 1; isa <= best; ++isa) {
          for (int flags : {0, static_cast<int>(AMALGAM_FLAG_STREAM_STORES)}) {
            expect_ok(amalgam_convert(isa, address(src.data()), sd, address(got.data()), dd, n, flags),
                      "exact convert");
            check(same_exact(want, got), "exact convert", isa, n, dtype_name(dd));
          }
        }
      }
      Exact other(n * dtype_size(AMALGAM_DTYPE_BF16), 5);
      fill_bytes(other, rng);
      double want3[3], got3[3];
      expect_ok(amalgam_dot3(0, address(src.data()), sd, address(other.data()), AMALGAM_DTYPE_BF16, n, want3),
                "exact dot3");
      for (int isa = 1; isa <= best; ++isa) {
        // vdpbf16ps flushes the random subnormals of bf16 x bf16 (contract point 4).
        if (isa == AMALGAM_ISA_AVX512_BF16 && sd == AMALGAM_DTYPE_BF16) continue;
        expect_ok(amalgam_dot3(isa, address(src.data()), sd, address(other.data()), AMALGAM_DTYPE_BF16, n, got3),
                  "exact dot3");
        check(same_dot3(want3, got3), "exact dot3", isa, n, dtype_name(sd));
      }
      // task vector: d = r(x) - b against amalgam_convert plus one subtraction, for every rounding type.
      Exact b(n * 4, 4), d(n * 4, 4);
      fill_ta(b, n, rng);
      for (int rd : kDtypes) {
        std::vector<float> wide(static_cast<size_t>(n) + 1), want(static_cast<size_t>(n) + 1);
        std::vector<uint16_t> narrow(static_cast<size_t>(n) + 1);
        amalgam_convert(0, address(src.data()), sd, address(wide.data()), AMALGAM_DTYPE_F32, n, 0);
        if (rd != sd && rd != AMALGAM_DTYPE_F32) {
          amalgam_convert(0, address(wide.data()), AMALGAM_DTYPE_F32, address(narrow.data()), rd, n, 0);
          amalgam_convert(0, address(narrow.data()), rd, address(wide.data()), AMALGAM_DTYPE_F32, n, 0);
        }
        for (int64_t i = 0; i < n; ++i) want[i] = wide[i] - b.floats()[i];
        want.resize(static_cast<size_t>(n));
        for (int isa = 0; isa <= best; ++isa) {
          expect_ok(amalgam_task_vector(isa, address(src.data()), sd, rd, b.floats(), n, d.floats()),
                    "exact task_vector");
          std::vector<float> got(d.floats(), d.floats() + n);
          check(same_floats(got, want), "exact task_vector", isa, n, dtype_name(rd));
        }
      }
    }
  }
}

// Weighted sums of 1, 64 (the last one on the stack table), 65 and 70 inputs (a heap table), to the byte.
void test_exact_weighted_sums(int best, std::mt19937_64 &rng) {
  for (int count : {1, 2, 64, 65, 70}) {
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{33}, int64_t{4097}}) {
      std::vector<std::unique_ptr<Exact>> inputs;
      std::vector<int64_t> addresses;
      std::vector<int32_t> dtypes;
      std::vector<float> coefficients;
      for (int k = 0; k < count; ++k) {
        const int dt = kDtypes[rng() % 3];
        inputs.emplace_back(new Exact(n * dtype_size(dt), static_cast<int64_t>(rng() % 8)));
        fill_bytes(*inputs.back(), rng);
        addresses.push_back(address(inputs.back()->data()));
        dtypes.push_back(dt);
        coefficients.push_back(1.0f / static_cast<float>(k + 1));
      }
      for (int od : kDtypes) {
        Exact want(n * dtype_size(od), 1), got(n * dtype_size(od), 1);
        expect_ok(amalgam_weighted_sum(0, count, addresses.data(), dtypes.data(), coefficients.data(),
                                       address(want.data()), od, n, 0),
                  "exact weighted_sum");
        for (int isa = 1; isa <= best; ++isa) {
          for (int flags : {0, static_cast<int>(AMALGAM_FLAG_STREAM_STORES)}) {
            expect_ok(amalgam_weighted_sum(isa, count, addresses.data(), dtypes.data(), coefficients.data(),
                                           address(got.data()), od, n, flags),
                      "exact weighted_sum");
            char detail[48];
            std::snprintf(detail, sizeof detail, "count=%d out=%s flags=%d", count, dtype_name(od), flags);
            check(same_exact(want, got), "exact weighted_sum", isa, n, detail);
          }
        }
      }
    }
  }
}

// Q8_0 and Q4_0 at block counts 0, 1, 2, 3, 129, with sources and destinations allocated to the byte.
void test_exact_blocks(int best, std::mt19937_64 &rng) {
  for (int64_t blocks : {0, 1, 2, 3, 129}) {
    const int64_t n = blocks * AMALGAM_QUANT_BLOCK;
    for (int dt : kDtypes) {
      Exact src(n * dtype_size(dt), 1), want(blocks * 34, 3), got(blocks * 34, 5);
      fill_bytes(src, rng);
      expect_ok(amalgam_quantize_q8_0(0, address(src.data()), dt, address(want.data()), n), "exact quantize");
      for (int isa = 1; isa <= best; ++isa) {
        expect_ok(amalgam_quantize_q8_0(isa, address(src.data()), dt, address(got.data()), n), "exact quantize");
        check(same_exact(want, got), "exact quantize_q8_0", isa, n, dtype_name(dt));
      }
      for (int format : {AMALGAM_BLOCK_Q8_0, AMALGAM_BLOCK_Q4_0}) {
        Exact packed(blocks * (format == AMALGAM_BLOCK_Q8_0 ? 34 : 18), 7);
        fill_bytes(packed, rng);
        Exact out_want(n * dtype_size(dt), 2), out_got(n * dtype_size(dt), 6);
        expect_ok(amalgam_dequantize(0, address(packed.data()), format, address(out_want.data()), dt, n),
                  "exact dequantize");
        for (int isa = 1; isa <= best; ++isa) {
          expect_ok(amalgam_dequantize(isa, address(packed.data()), format, address(out_got.data()), dt, n),
                    "exact dequantize");
          check(same_exact(out_want, out_got), "exact dequantize", isa, n, dtype_name(dt));
        }
      }
    }
  }
}

// The plain reading of the magnitude-mask contract (amalgam.h): one element at a time, signed comparisons.
void plain_magnitude_mask(float *v, int64_t n, int32_t keep_bits, int64_t keep_equal, int32_t drop_bits,
                          int64_t drop_equal, int64_t *seen) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t a = static_cast<int32_t>(f32_bits(v[i]) & 0x7fffffffu);
    bool in[2];
    const int32_t t[2] = {keep_bits, drop_bits};
    const int64_t e[2] = {keep_equal, drop_equal};
    for (int j = 0; j < 2; ++j) {
      in[j] = a > t[j] || (a == t[j] && seen[j] < e[j]);
      if (a == t[j] && seen[j] < e[j]) ++seen[j];
    }
    if (!in[0] || in[1]) v[i] = 0.0f;
  }
}

// Histograms, Philox, merges and masks on every ISA (scalar included) against plain references, to the byte.
void test_exact_task_arithmetic(int best, std::mt19937_64 &rng) {
  for (int64_t n : kExactSizes) {
    Exact values(n * 4, 4);
    fill_ta(values, n, rng);
    std::vector<int64_t> plain_high(AMALGAM_MAGNITUDE_BUCKETS), plain_low(AMALGAM_MAGNITUDE_BUCKETS);
    const int32_t high = n > 0 ? static_cast<int32_t>((f32_bits(values.floats()[n / 2]) & 0x7fffffffu) >> 16) : 7;
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t a = f32_bits(values.floats()[i]) & 0x7fffffffu;
      ++plain_high[a >> 16];
      if (static_cast<int32_t>(a >> 16) == high) ++plain_low[a & 0xffff];
    }
    const uint64_t seed = rng(), hash = rng();
    const int64_t first = static_cast<int64_t>(rng() % 5);
    float u0[4];
    expect_ok(amalgam_philox_uniforms(0, seed, hash, first, 1, u0), "exact uniforms");
    const int models = 1 + static_cast<int>(rng() % 3);
    Exact w(models * n * 4, 4), weights(models * 4, 4), base(n * 4, 4);
    fill_ta(w, models * n, rng);
    fill_ta(base, n, rng);
    for (int k = 0; k < models; ++k) weights.floats()[k] = 0.5f + static_cast<float>(k);
    std::vector<float> ref_disjoint(static_cast<size_t>(n)), ref_plain(static_cast<size_t>(n)),
        ref_uniforms(static_cast<size_t>(n));
    std::vector<float> ref_keep(values.floats(), values.floats() + n);
    amalgam_disjoint_merge(0, models, w.floats(), n, weights.floats(), n, 1, base.floats(), 0.5f, ref_disjoint.data());
    amalgam_plain_merge(0, models, w.floats(), n, n, 3.0f, base.floats(), 0.5f, ref_plain.data());
    amalgam_philox_uniforms(0, seed, hash, first, n, ref_uniforms.data());
    for (int64_t i = 0; i < n; ++i) {
      if (!(static_cast<double>(ref_uniforms[i]) < 0.25)) ref_keep[i] = 0.0f;
    }
    // A mask threshold that some element meets exactly, with room for a few equal ones, and one that is negative.
    const int32_t keep_bits = n > 0 ? static_cast<int32_t>(f32_bits(values.floats()[n / 3]) & 0x7fffffffu) : 0;
    for (int32_t drop_bits : {int32_t{0x7f800000}, int32_t{-1}, keep_bits + 0x100000}) {
      std::vector<float> ref_mask(values.floats(), values.floats() + n);
      int64_t ref_seen[2] = {1, 0};
      plain_magnitude_mask(ref_mask.data(), n, keep_bits, 3, drop_bits, 2, ref_seen);
      for (int isa = 0; isa <= best; ++isa) {
        Exact masked(n * 4, 4);
        if (n > 0) std::memcpy(masked.data(), values.data(), static_cast<size_t>(n) * 4);
        int64_t seen[2] = {1, 0};
        expect_ok(amalgam_magnitude_mask(isa, masked.floats(), n, keep_bits, 3, drop_bits, 2, seen), "exact mask");
        std::vector<float> got(masked.floats(), masked.floats() + n);
        check(same_floats(got, ref_mask) && seen[0] == ref_seen[0] && seen[1] == ref_seen[1], "exact magnitude_mask",
              isa, n);
      }
    }
    for (int isa = 0; isa <= best; ++isa) {
      Exact hist_high(AMALGAM_MAGNITUDE_BUCKETS * 8, 0), hist_low(AMALGAM_MAGNITUDE_BUCKETS * 8, 0);
      std::memset(hist_high.data(), 0, AMALGAM_MAGNITUDE_BUCKETS * 8);
      std::memset(hist_low.data(), 0, AMALGAM_MAGNITUDE_BUCKETS * 8);
      auto *hh = reinterpret_cast<int64_t *>(hist_high.data());
      auto *hl = reinterpret_cast<int64_t *>(hist_low.data());
      expect_ok(amalgam_magnitude_histogram_high(isa, values.floats(), n, hh), "exact histogram high");
      expect_ok(amalgam_magnitude_histogram_low(isa, values.floats(), n, high, hl), "exact histogram low");
      check(std::equal(plain_high.begin(), plain_high.end(), hh), "exact histogram high", isa, n);
      check(std::equal(plain_low.begin(), plain_low.end(), hl), "exact histogram low", isa, n);
      Exact uniforms(n * 4, 4), kept(n * 4, 4), disjoint(n * 4, 4), plain(n * 4, 4);
      if (n > 0) std::memcpy(kept.data(), values.data(), static_cast<size_t>(n) * 4);
      expect_ok(amalgam_philox_uniforms(isa, seed, hash, first, n, uniforms.floats()), "exact uniforms");
      expect_ok(amalgam_philox_keep(isa, seed, hash, first, n, 0.25, kept.floats()), "exact keep");
      expect_ok(amalgam_disjoint_merge(isa, models, w.floats(), n, weights.floats(), n, 1, base.floats(), 0.5f,
                                       disjoint.floats()),
                "exact disjoint");
      expect_ok(amalgam_plain_merge(isa, models, w.floats(), n, n, 3.0f, base.floats(), 0.5f, plain.floats()),
                "exact plain");
      check(std::vector<float>(uniforms.floats(), uniforms.floats() + n) == ref_uniforms &&
                (n == 0 || f32_bits(uniforms.floats()[0]) == f32_bits(u0[0])),
            "exact philox uniforms", isa, n);
      check(same_floats(std::vector<float>(kept.floats(), kept.floats() + n), ref_keep), "exact philox keep", isa, n);
      check(same_floats(std::vector<float>(disjoint.floats(), disjoint.floats() + n), ref_disjoint),
            "exact disjoint merge", isa, n);
      check(same_floats(std::vector<float>(plain.floats(), plain.floats() + n), ref_plain), "exact plain merge", isa,
            n);
    }
    // NaN and out-of-range probabilities keep nothing or everything, never read or write past the end.
    for (double p : {std::nan(""), -1.0, 0.0, 1.0, 2.0}) {
      Exact kept(n * 4, 4);
      if (n > 0) std::memcpy(kept.data(), values.data(), static_cast<size_t>(n) * 4);
      expect_ok(amalgam_philox_keep(best, seed, hash, first, n, p, kept.floats()), "exact keep p");
      bool ok = true;
      for (int64_t i = 0; i < n; ++i) {
        const uint32_t got = f32_bits(kept.floats()[i]);
        ok = ok && (p >= 1.0 ? got == f32_bits(values.floats()[i]) : got == 0u);
      }
      check(ok, "philox keep edge probability", best, n);
    }
  }
}

// The plain reading of the SCE contract (amalgam.h point 9), one element at a time.
struct PlainSce {
  int models;
  const float *x;
  int64_t stride;
  const float *b;
  double delta(int k, int64_t i) const { return static_cast<double>(x[k * stride + i]) - static_cast<double>(b[i]); }
  int32_t key(int64_t i) const {
    double total = 0.0;
    for (int k = 0; k < models; ++k) total = total + delta(k, i);
    const double mean = total / models;
    double variance = 0.0;
    for (int k = 0; k < models; ++k) variance = variance + (delta(k, i) - mean) * (delta(k, i) - mean);
    const float f = static_cast<float>(variance / models);
    return std::isnan(f) ? 0x7fc00000 : static_cast<int32_t>(f32_bits(f));
  }
  bool keep(int64_t i, int32_t t, int64_t e, int64_t *s) const {
    if (t < 0) return true;
    if (t > 0x7fc00000) return false;
    const int32_t k = key(i);
    if (k > t) return true;
    if (k == t && *s < e) {
      ++*s;
      return true;
    }
    return false;
  }
  float merge(int64_t i, bool kept, const double *w) const {
    double merged = 0.0;
    if (kept) {
      double total = 0.0;
      for (int k = 0; k < models; ++k) total = total + delta(k, i);
      double num = 0.0, div = 0.0;
      for (int k = 0; k < models; ++k) {
        const double d = delta(k, i);
        if (total >= 0 ? d > 0 : d < 0) {
          num = num + w[k] * d;
          div = div + w[k];
        }
      }
      merged = num / (std::isnan(div) ? div : std::max(div, 1e-6));
    }
    return static_cast<float>(static_cast<double>(b[i]) + merged);
  }
};

// Task-vector rows whose deltas take few values (many tied variances) mixed with every kind of f32.
void fill_sce(Exact &x, Exact &b, int models, int64_t n, std::mt19937_64 &rng) {
  std::vector<float> any = ta_values((models + 1) * n, rng);
  for (int64_t i = 0; i < n; ++i) {
    const bool tied = rng() % 4 != 0;
    b.floats()[i] = tied ? static_cast<float>(static_cast<int>(rng() % 9) - 4) * 0.25f : any[i];
    for (int k = 0; k < models; ++k) {
      x.floats()[k * n + i] =
          tied ? b.floats()[i] + static_cast<float>(static_cast<int>(rng() % 5) - 2) * 0.5f : any[(k + 1) * n + i];
    }
  }
}

// The SCE kernels on every ISA (scalar included) against the plain reading of their contract, to the byte.
void test_exact_sce(int best, std::mt19937_64 &rng) {
  for (int64_t n : kExactSizes) {
    for (int models : {1, 2, 3, 5}) {
      Exact x(models * n * 4, 4), b(n * 4, 4);
      fill_sce(x, b, models, n, rng);
      const PlainSce plain{models, x.floats(), n, b.floats()};
      std::vector<int32_t> want_keys(static_cast<size_t>(n));
      std::vector<int64_t> want_high(AMALGAM_MAGNITUDE_BUCKETS), want_low(AMALGAM_MAGNITUDE_BUCKETS);
      int64_t want_nonzero = 0;
      const int32_t middle = n > 0 ? plain.key(n / 2) : 0x3f800000;
      for (int64_t i = 0; i < n; ++i) {
        want_keys[i] = plain.key(i);
        ++want_high[static_cast<uint32_t>(want_keys[i]) >> 16];
        want_nonzero += want_keys[i] != 0;
        if ((want_keys[i] >> 16) == (middle >> 16)) ++want_low[want_keys[i] & 0xffff];
      }
      const double weights[5] = {0.25, 0.5, std::ldexp(1.0, -30), 0.125, 2.0};
      for (int isa = 0; isa <= best; ++isa) {
        Exact keys(n * 4, 4), kept_keys(n * 4, 4), high(AMALGAM_MAGNITUDE_BUCKETS * 8, 0),
            low(AMALGAM_MAGNITUDE_BUCKETS * 8, 0);
        std::memset(high.data(), 0, AMALGAM_MAGNITUDE_BUCKETS * 8);
        std::memset(low.data(), 0, AMALGAM_MAGNITUDE_BUCKETS * 8);
        auto *hh = reinterpret_cast<int64_t *>(high.data());
        auto *hl = reinterpret_cast<int64_t *>(low.data());
        int64_t nonzero = 3;
        expect_ok(amalgam_sce_variance_keys(isa, models, x.floats(), n, b.floats(), n,
                                            reinterpret_cast<int32_t *>(keys.data())),
                  "sce keys");
        int32_t *given = reinterpret_cast<int32_t *>(kept_keys.data());
        expect_ok(amalgam_sce_histogram_high(isa, models, x.floats(), n, b.floats(), n, hh, &nonzero, given),
                  "sce high");
        expect_ok(amalgam_sce_histogram_low(isa, models, x.floats(), n, b.floats(), n, middle >> 16, hl), "sce low");
        check(n == 0 || (std::memcmp(keys.data(), want_keys.data(), static_cast<size_t>(n) * 4) == 0 &&
                         std::memcmp(given, want_keys.data(), static_cast<size_t>(n) * 4) == 0),
              "sce keys", isa, n);
        check(std::equal(want_high.begin(), want_high.end(), hh) && nonzero == want_nonzero + 3, "sce histogram high",
              isa, n);
        check(std::equal(want_low.begin(), want_low.end(), hl), "sce histogram low", isa, n);
        for (int32_t t : {int32_t{-1}, middle, int32_t{0x7fc00000}, int32_t{0x7fffffff}, int32_t{0}})
          for (const int32_t *keys_in : {static_cast<const int32_t *>(nullptr), static_cast<const int32_t *>(given)}) {
            int64_t want_seen = 1, seen = 1, merge_seen = 1;
            double want_sums[5] = {-0.0, 1.0, 0.0, 2.0, 0.5}, sums[5] = {-0.0, 1.0, 0.0, 2.0, 0.5};
            std::vector<float> want_out(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) {
              const bool kept = plain.keep(i, t, 4, &want_seen);
              for (int k = 0; k < models; ++k)
                want_sums[k] = want_sums[k] + (kept ? plain.delta(k, i) * plain.delta(k, i) : -0.0);
            }
            int64_t s = 1;
            for (int64_t i = 0; i < n; ++i) want_out[i] = plain.merge(i, plain.keep(i, t, 4, &s), weights);
            Exact out(n * 4, 4);
            expect_ok(amalgam_sce_square_sums(isa, models, x.floats(), n, b.floats(), keys_in, n, t, 4, &seen, sums),
                      "sce square sums");
            expect_ok(amalgam_sce_merge(isa, models, x.floats(), n, b.floats(), keys_in, n, t, 4, &merge_seen, weights,
                                        out.floats()),
                      "sce merge");
            bool same_sums = seen == want_seen && merge_seen == want_seen;
            for (int k = 0; k < models; ++k) {
              same_sums = same_sums && (std::memcmp(&sums[k], &want_sums[k], 8) == 0 ||
                                        (std::isnan(sums[k]) && std::isnan(want_sums[k])));
            }
            check(same_sums, "sce square sums", isa, n);
            check(same_floats(std::vector<float>(out.floats(), out.floats() + n), want_out), "sce merge", isa, n);
          }
      }
    }
  }
  float one = 1.0f;
  double sum = 0.0;
  int64_t counter = 0, h[1];
  int32_t key;
  check(amalgam_sce_variance_keys(0, 0, &one, 1, &one, 1, &key) == AMALGAM_ERR_BAD_INPUT_COUNT, "sce models", 0, 1);
  check(amalgam_sce_variance_keys(0, 2, &one, 0, &one, 1, &key) == AMALGAM_ERR_BAD_ARGUMENT, "sce stride", 0, 1);
  check(amalgam_sce_histogram_high(0, 1, &one, 1, nullptr, 1, h, &counter, nullptr) == AMALGAM_ERR_NULL_POINTER,
        "sce null b", 0, 1);
  check(amalgam_sce_histogram_low(0, 1, &one, 1, &one, 1, 65536, h) == AMALGAM_ERR_BAD_ARGUMENT, "sce high range", 0,
        1);
  check(amalgam_sce_square_sums(0, 1, &one, 1, &one, nullptr, 1, 0, -1, &counter, &sum) == AMALGAM_ERR_BAD_ARGUMENT,
        "sce equal_kept", 0, 1);
  check(amalgam_sce_merge(0, 1, &one, -1, &one, nullptr, 1, 0, 0, &counter, &sum, &one) == AMALGAM_ERR_NEGATIVE_COUNT,
        "sce negative stride", 0, 1);
}

// amalgam_advise and amalgam_start_writeback: arguments, and DONTNEED drops only the whole pages inside the range.
void test_advise_and_writeback() {
  check(amalgam_advise(64, 1, 0) == AMALGAM_ERR_BAD_ADVICE, "advise code", 0, 1);
  check(amalgam_advise(64, -1, AMALGAM_ADVICE_SEQUENTIAL) == AMALGAM_ERR_NEGATIVE_COUNT, "advise length", 0, -1);
  check(amalgam_advise(0, 1, AMALGAM_ADVICE_WILLNEED) == AMALGAM_ERR_NULL_POINTER, "advise null", 0, 1);
  std::vector<uint8_t> heap(3 * 4096 + 5, 0x5a);
  expect_ok(amalgam_advise(address(heap.data() + 1), 3 * 4096, AMALGAM_ADVICE_SEQUENTIAL), "advise sequential");
  expect_ok(amalgam_advise(address(heap.data() + 1), 3 * 4096, AMALGAM_ADVICE_WILLNEED), "advise willneed");
  // DONTNEED on a heap range shorter than a page touches no page at all, so the data stays.
  expect_ok(amalgam_advise(address(heap.data() + 1), 100, AMALGAM_ADVICE_DONTNEED), "advise dontneed");
  check(heap[1] == 0x5a && heap[100] == 0x5a, "advise dontneed shrinks inward", 0, 100);

  check(amalgam_start_writeback(nullptr, 0, 1) == AMALGAM_ERR_NULL_POINTER, "writeback null", 0, 1);
  check(amalgam_start_writeback("/", -1, 1) == AMALGAM_ERR_NEGATIVE_COUNT, "writeback offset", 0, -1);
  check(amalgam_start_writeback("/", 0, -1) == AMALGAM_ERR_NEGATIVE_COUNT, "writeback length", 0, -1);
  check(amalgam_start_writeback("/nonexistent/amalgam/selftest", 0, 1) != AMALGAM_OK, "writeback missing file", 0, 1);
  char path[] = "/tmp/amalgam_selftest_XXXXXX";
  FILE *f = nullptr;
  int fd = mkstemp(path);
  if (fd >= 0) f = fdopen(fd, "wb");
  if (f != nullptr) {
    std::vector<char> bytes(10000, 'x');
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fflush(f);
    expect_ok(amalgam_start_writeback(path, 0, 10000), "writeback");
    expect_ok(amalgam_start_writeback(path, 4096, 0), "writeback to the end");
    std::fclose(f);
    std::remove(path);
  }
  check(std::strcmp(amalgam_isa_name(99), "unknown") == 0 &&
            std::strcmp(amalgam_status_message(99), "unknown status") == 0,
        "names of unknown codes", 0, 0);
  check(amalgam_abi_version() == AMALGAM_ABI_VERSION, "abi version", 0, 0);
}

// amalgam_count_nonfinite: every path against a count from the definition, on heap buffers sized exactly (so ASan
// sees any overread) at odd sizes and unaligned starts, with NaNs and infinities of both signs frequent.
void test_count_nonfinite(int best, std::mt19937_64 &rng) {
  const int64_t sizes[] = {0, 1, 7, 15, 16, 17, 31, 33, 63, 65, 4095, 4096, 4097, 10007};
  const int32_t dtypes[] = {AMALGAM_DTYPE_F32, AMALGAM_DTYPE_F16, AMALGAM_DTYPE_BF16};
  for (int32_t dtype : dtypes) {
    const int64_t size = dtype == AMALGAM_DTYPE_F32 ? 4 : 2;
    const uint32_t exponent = dtype == AMALGAM_DTYPE_F32 ? 0x7f800000u : dtype == AMALGAM_DTYPE_F16 ? 0x7c00u : 0x7f80u;
    const uint32_t mantissa = dtype == AMALGAM_DTYPE_F32 ? 0x007fffffu : dtype == AMALGAM_DTYPE_F16 ? 0x03ffu : 0x007fu;
    for (int64_t n : sizes) {
      std::vector<unsigned char> storage(static_cast<size_t>(n * size) + 1);
      unsigned char *data = storage.data() + 1;  // unaligned
      int64_t want[2] = {0, 0};
      for (int64_t i = 0; i < n; ++i) {
        uint32_t bits = static_cast<uint32_t>(rng());
        if (size == 2) bits &= 0xffffu;
        if (rng() % 6 == 0) bits |= exponent;
        if (rng() % 12 == 0) bits &= ~mantissa;
        if ((bits & exponent) == exponent) ++want[(bits & mantissa) == 0 ? 1 : 0];
        std::memcpy(data + i * size, &bits, static_cast<size_t>(size));
      }
      for (int isa = 0; isa <= best; ++isa) {
        int64_t got[2] = {3, 4};
        expect_ok(amalgam_count_nonfinite(isa, address(data), dtype, n, got), "count_nonfinite");
        check(got[0] == 3 + want[0] && got[1] == 4 + want[1], "count_nonfinite counts", isa, n);
      }
    }
  }
  int64_t counts[2] = {0, 0};
  check(amalgam_count_nonfinite(best, 0, AMALGAM_DTYPE_F32, 1, counts) == AMALGAM_ERR_NULL_POINTER, "count null src",
        best, 1);
  check(amalgam_count_nonfinite(best, 64, AMALGAM_DTYPE_F32, 1, nullptr) == AMALGAM_ERR_NULL_POINTER,
        "count null counts", best, 1);
  check(amalgam_count_nonfinite(best, 64, 7, 1, counts) == AMALGAM_ERR_BAD_DTYPE, "count dtype", best, 1);
  check(amalgam_count_nonfinite(best, 64, AMALGAM_DTYPE_F32, -1, counts) == AMALGAM_ERR_NEGATIVE_COUNT, "count n", best,
        -1);
  check(amalgam_count_nonfinite(best + 1, 64, AMALGAM_DTYPE_F32, 1, counts) == AMALGAM_ERR_UNSUPPORTED_ISA, "count isa",
        best + 1, 1);
  check(amalgam_advise_file(nullptr, 0, 1, AMALGAM_ADVICE_WILLNEED) == AMALGAM_ERR_NULL_POINTER, "advise_file null", 0,
        1);
  check(amalgam_advise_file("/", -1, 1, AMALGAM_ADVICE_WILLNEED) == AMALGAM_ERR_NEGATIVE_COUNT, "advise_file offset", 0,
        -1);
  check(amalgam_advise_file("/", 0, 1, 0) == AMALGAM_ERR_BAD_ADVICE, "advise_file advice", 0, 1);
  check(amalgam_advise_file("/nonexistent/amalgam/selftest", 0, 1, AMALGAM_ADVICE_WILLNEED) != AMALGAM_OK,
        "advise_file missing file", 0, 1);
}

// ------------------------------------------------------------------------------------------- method kernels

// Values of every kind (ta_values) stored as dtype at an odd offset, to the byte; some of b equals a.
void fill_method_input(Exact &x, int dtype, const std::vector<float> &values) {
  const int64_t n = static_cast<int64_t>(values.size());
  std::vector<uint8_t> bytes(static_cast<size_t>(n * dtype_size(dtype)) + 4);
  amalgam_convert(0, address(values.data()), AMALGAM_DTYPE_F32, address(bytes.data()), dtype, n, 0);
  if (n > 0) std::memcpy(x.data(), bytes.data(), static_cast<size_t>(n * dtype_size(dtype)));
}

std::vector<float> widened(Exact &x, int dtype, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n) + 1);
  amalgam_convert(0, address(x.data()), dtype, address(v.data()), AMALGAM_DTYPE_F32, n, 0);
  v.resize(static_cast<size_t>(n));
  return v;
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Contract point 9, written out with a division per element (the kernels walk rows instead).
float fusion_importance(float a, float b, float kl) {
  const float m = f32_from_bits(bits_of(b - a) & 0x7fffffffu);
  return std::isnan(m) ? m : m * kl;
}

uint32_t fusion_key(float f) {
  const int32_t bits = static_cast<int32_t>(bits_of(f));
  return static_cast<uint32_t>(bits ^ ((bits >> 31) & 0x7fffffff));
}

float nearswap_reference(float b, float x, float t) {
  const float distance = f32_from_bits(bits_of(b - x) & 0x7fffffffu);
  const float m = std::isnan(distance) || distance >= 1e-6f ? distance : 1e-6f;
  float w = t / m;
  if (!std::isnan(w) && !(w < 1.0f)) w = 1.0f;
  if (!std::isnan(w) && !(w > 0.0f)) w = 0.0f;
  return std::isnan(w) ? w : std::fmaf(w, x, (1.0f - w) * b);
}

void test_method_kernels(int best, std::mt19937_64 &rng) {
  const int64_t row_lengths[] = {1, 3, 16, 37, 1000};
  for (int64_t n : kExactSizes) {
    for (int ad : kDtypes) {
      for (int bd : kDtypes) {
        std::vector<float> av = ta_values(n, rng), bv = ta_values(n, rng);
        for (int64_t i = 0; i < n; i += 5) bv[static_cast<size_t>(i)] = av[static_cast<size_t>(i)];
        // NaNs of both signs and several payloads, in a and in b
        for (int64_t i = 4; i < n; i += 11) {
          const uint32_t nan = 0x7fc00000u | (static_cast<uint32_t>(rng()) & 0x803f0000u);
          (i % 2 == 0 ? av : bv)[static_cast<size_t>(i)] = f32_from_bits(nan);
        }
        Exact a(n * dtype_size(ad), 1), b(n * dtype_size(bd), 3);
        fill_method_input(a, ad, av);
        fill_method_input(b, bd, bv);
        const std::vector<float> x = widened(a, ad, n), y = widened(b, bd, n);
        for (int64_t row_length : row_lengths) {
          const int64_t first = static_cast<int64_t>(rng() % 50);
          const int64_t rows = n == 0 ? 0 : (first + n - 1) / row_length + 1;
          std::vector<float> kl = ta_values(rows + 1, rng);
          for (float &k : kl) k = std::fabs(k);  // as KL divergences, except for the NaNs and infinities
          kl[0] = -kl[0];                        // and one negative
          for (size_t r = 3; r < kl.size(); r += 7) kl[r] = f32_from_bits(0xffc00000u | static_cast<uint32_t>(r));
          std::vector<float> importance(static_cast<size_t>(n));
          std::vector<int64_t> want_high(65536, 0);
          for (int64_t i = 0; i < n; ++i) {
            importance[i] = fusion_importance(x[i], y[i], kl[(first + i) / row_length]);
            ++want_high[fusion_key(importance[i]) >> 16];
          }
          // Buckets of a few elements' keys, one repeated, and one nobody has.
          int32_t buckets[3] = {0x7fff, 0x7fff, 0x7fff};
          for (int j = 0; j < 2 && n > 0; ++j)
            buckets[j] = static_cast<int32_t>(fusion_key(importance[rng() % n]) >> 16);
          std::vector<int64_t> want_low(3 * 65536, 0);
          for (int64_t i = 0; i < n; ++i) {
            const uint32_t key = fusion_key(importance[i]);
            for (int j = 0; j < 3; ++j) {
              if (static_cast<int32_t>(key >> 16) == buckets[j]) ++want_low[j * 65536 + (key & 0xffff)];
            }
          }
          const float threshold = n > 0 ? importance[rng() % n] : 0.0f;
          for (int isa = 0; isa <= best; ++isa) {
            std::vector<int64_t> high(65536, 0), low(3 * 65536, 0);
            expect_ok(amalgam_fusion_histogram_high(isa, address(a.data()), ad, address(b.data()), bd, n, first,
                                                    row_length, kl.data(), rows, high.data()),
                      "fusion_histogram_high");
            check(high == want_high, "fusion_histogram_high", isa, n, dtype_name(bd));
            expect_ok(amalgam_fusion_histogram_low(isa, address(a.data()), ad, address(b.data()), bd, n, first,
                                                   row_length, kl.data(), rows, 3, buckets, low.data()),
                      "fusion_histogram_low");
            check(low == want_low, "fusion_histogram_low", isa, n, dtype_name(bd));
            for (int od : kDtypes) {
              Exact out(n * dtype_size(od), 2);
              std::vector<float> wide(static_cast<size_t>(n) + 1);
              for (int64_t i = 0; i < n; ++i) wide[i] = importance[i] >= threshold ? x[i] + (y[i] - x[i]) : x[i];
              std::vector<uint8_t> want(static_cast<size_t>(n * dtype_size(od)) + 4);
              amalgam_convert(0, address(wide.data()), AMALGAM_DTYPE_F32, address(want.data()), od, n, 0);
              expect_ok(amalgam_fusion_select(isa, address(a.data()), ad, address(b.data()), bd, n, first, row_length,
                                              kl.data(), rows, threshold, address(out.data()), od),
                        "fusion_select");
              check(n == 0 || std::memcmp(out.data(), want.data(), static_cast<size_t>(out.bytes())) == 0,
                    "fusion_select", isa, n, dtype_name(od));
            }
          }
        }
        for (float t : {0.0f, -0.0f, 1e-3f, 0.5f, 1e30f, INFINITY, NAN}) {
          for (int od : kDtypes) {
            std::vector<float> wide(static_cast<size_t>(n) + 1);
            for (int64_t i = 0; i < n; ++i) wide[i] = nearswap_reference(x[i], y[i], t);
            std::vector<uint8_t> want(static_cast<size_t>(n * dtype_size(od)) + 4);
            amalgam_convert(0, address(wide.data()), AMALGAM_DTYPE_F32, address(want.data()), od, n, 0);
            for (int isa = 0; isa <= best; ++isa) {
              for (int flags : {0, static_cast<int>(AMALGAM_FLAG_STREAM_STORES)}) {
                Exact out(n * dtype_size(od), flags != 0 ? 0 : 2);
                expect_ok(amalgam_nearswap(isa, address(a.data()), ad, address(b.data()), bd, t, address(out.data()),
                                           od, n, flags),
                          "nearswap");
                check(n == 0 || std::memcmp(out.data(), want.data(), static_cast<size_t>(out.bytes())) == 0, "nearswap",
                      isa, n, dtype_name(od));
              }
            }
          }
        }
      }
    }
  }
  // Argument checks.
  float kl[2] = {1.0f, 1.0f};
  int64_t h[65536];
  int32_t bucket = 70000;
  const int64_t p = address(kl);
  const int f32 = AMALGAM_DTYPE_F32;
  check(amalgam_fusion_histogram_high(0, p, f32, p, f32, 3, 0, 1, kl, 2, h) == AMALGAM_ERR_BAD_ARGUMENT,
        "fusion rows beyond kl", 0, 3);
  check(amalgam_fusion_histogram_high(0, p, f32, p, f32, 1, 0, 0, kl, 2, h) == AMALGAM_ERR_BAD_ARGUMENT,
        "fusion row length", 0, 1);
  check(amalgam_fusion_histogram_high(0, p, f32, p, f32, 1, -1, 1, kl, 2, h) == AMALGAM_ERR_NEGATIVE_COUNT,
        "fusion first", 0, 1);
  check(amalgam_fusion_histogram_high(0, p, f32, p, f32, 2, INT64_MAX, 1, kl, 2, h) == AMALGAM_ERR_BAD_ARGUMENT,
        "fusion overflow", 0, 2);
  check(amalgam_fusion_histogram_high(0, p, 9, p, f32, 1, 0, 1, kl, 2, h) == AMALGAM_ERR_BAD_DTYPE, "fusion dtype", 0,
        1);
  check(amalgam_fusion_histogram_high(0, 0, f32, p, f32, 1, 0, 1, kl, 2, h) == AMALGAM_ERR_NULL_POINTER, "fusion null",
        0, 1);
  check(amalgam_fusion_histogram_low(0, p, f32, p, f32, 1, 0, 1, kl, 2, 1, &bucket, h) == AMALGAM_ERR_BAD_ARGUMENT,
        "fusion bucket", 0, 1);
  check(amalgam_fusion_histogram_low(0, p, f32, p, f32, 1, 0, 1, kl, 2, 0, &bucket, h) == AMALGAM_ERR_BAD_INPUT_COUNT,
        "fusion bucket count", 0, 1);
  check(amalgam_fusion_select(0, p, f32, p, f32, 1, 0, 1, kl, 2, 0.0f, p, 7) == AMALGAM_ERR_BAD_DTYPE,
        "fusion out dtype", 0, 1);
  check(amalgam_fusion_select(best + 1, p, f32, p, f32, 1, 0, 1, kl, 2, 0.0f, p, f32) == AMALGAM_ERR_UNSUPPORTED_ISA,
        "fusion isa", 0, 1);
  check(amalgam_nearswap(0, p, f32, p, f32, 0.5f, p, f32, -1, 0) == AMALGAM_ERR_NEGATIVE_COUNT, "nearswap n", 0, 1);
  check(amalgam_nearswap(0, p, f32, 0, f32, 0.5f, p, f32, 1, 0) == AMALGAM_ERR_NULL_POINTER, "nearswap null", 0, 1);
  check(amalgam_nearswap(0, p, f32, p, 5, 0.5f, p, f32, 1, 0) == AMALGAM_ERR_BAD_DTYPE, "nearswap dtype", 0, 1);
}

}  // namespace

// DELLA's ranked drop: every path agrees with the scalar one on rows with ties, and a row of distinct magnitudes
// keeps exactly the elements whose uniform is below their rank's probability.
void test_della_mask(int best, std::mt19937_64 &rng) {
  const int64_t rows_and_lengths[][2] = {{1, 1}, {3, 2}, {2, 17}, {4, 64}, {2, 1000}, {1, 4099}};
  for (const auto &shape : rows_and_lengths) {
    const int64_t rows = shape[0], row = shape[1], n = rows * row;
    std::vector<float> v = ta_values(n, rng);
    for (int64_t i = 0; i < n; i += 5) v[i] = static_cast<float>(rng() % 3);  // ties
    const uint64_t seed = rng(), hash = rng();
    const int64_t first = static_cast<int64_t>(rng() % 1000);
    std::vector<int64_t> keys(3 * row);
    std::vector<float> u(row);
    std::vector<float> ref = v;
    expect_ok(
        amalgam_della_mask(AMALGAM_ISA_SCALAR, seed, hash, first, n, row, 0.5, 0.2, ref.data(), keys.data(), u.data()),
        "della scalar");
    for (int isa = AMALGAM_ISA_AVX2; isa <= best; ++isa) {
      std::vector<float> got = v;
      expect_ok(amalgam_della_mask(isa, seed, hash, first, n, row, 0.5, 0.2, got.data(), keys.data(), u.data()),
                "della");
      check(std::memcmp(got.data(), ref.data(), static_cast<size_t>(n) * sizeof(float)) == 0, "della paths", isa, n);
    }
  }
  std::vector<float> distinct = {4.0f, -1.0f, 3.0f, 2.0f, -5.0f};  // ranks 3, 0, 2, 1, 4
  const int rank[] = {3, 0, 2, 1, 4};
  std::vector<int64_t> keys(15);
  std::vector<float> u(5), want_u(5);
  expect_ok(amalgam_philox_uniforms(AMALGAM_ISA_SCALAR, 9, 8, 70, 5, want_u.data()), "della uniforms");
  std::vector<float> got = distinct;
  expect_ok(amalgam_della_mask(best, 9, 8, 70, 5, 5, 0.5, 0.25, got.data(), keys.data(), u.data()), "della rank");
  for (int j = 0; j < 5; ++j) {
    const double p = 0.25 + 2.0 * 0.25 * rank[j] / 4.0;
    const float want = static_cast<double>(want_u[j]) < p ? distinct[j] : 0.0f;
    check(got[j] == want, "della rank rule", best, j);
  }
  check(amalgam_della_mask(0, 0, 0, 0, 6, 4, 0.5, 0.1, got.data(), keys.data(), u.data()) == AMALGAM_ERR_BAD_ARGUMENT,
        "della partial row", 0, 6);
}

int main(int argc, char **argv) {
  int64_t n = 1000003;
  bool exhaustive = false, timing = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--exhaustive") == 0) {
      exhaustive = true;
    } else if (std::strcmp(argv[i], "--bench") == 0) {
      timing = true;
    } else {
      n = std::atoll(argv[i]);
    }
  }
  std::mt19937_64 rng(42);
  int best = amalgam_isa_best();
  std::printf("amalgam_selftest: best isa %s, n = %" PRId64 "\n", amalgam_isa_name(best), n);
  test_status_codes();
  test_all_16_bit_patterns(best);
  test_f32_narrowing(best, rng);
  test_weighted_sums(best, rng);
  test_dot3_edges(best, rng);
  test_aliasing(best, rng);
  test_q8_0_reference();
  test_quantize_q8_0(best, rng);
  test_dequantize(best, rng);
  test_random_normal(best, n, rng);
  test_task_arithmetic(best, rng);
  test_exact_elementwise(best, rng);
  test_exact_weighted_sums(best, rng);
  test_exact_blocks(best, rng);
  test_exact_task_arithmetic(best, rng);
  test_exact_sce(best, rng);
  test_advise_and_writeback();
  test_count_nonfinite(best, rng);
  test_della_mask(best, rng);
  test_method_kernels(best, rng);
  if (exhaustive) test_all_f32_patterns(best);
  std::printf("amalgam_selftest: %s\n", failures == 0 ? "all paths agree" : "FAILED");
  if (timing) bench(n);
  return failures == 0 ? 0 : 1;
}
