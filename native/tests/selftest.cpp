// Native self-test: every ISA path against the scalar path on random data, without the JVM.
// Usage: amalgam_selftest [N]   (exit status 0 = all paths agree bit for bit)
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "amalgam.h"

namespace {

int failures = 0;

void check(bool ok, const char *what, int isa, int64_t n) {
  if (!ok) {
    std::fprintf(stderr, "FAIL %s isa=%s n=%" PRId64 "\n", what, amalgam_isa_name(isa), n);
    ++failures;
  }
}

std::vector<uint8_t> random_bytes(int64_t n, int dtype, std::mt19937_64 &rng) {
  std::normal_distribution<float> normal(0.0f, 0.02f);
  int size = dtype == AMALGAM_DTYPE_F32 ? 4 : 2;
  std::vector<float> f(static_cast<size_t>(n));
  for (auto &v : f) v = normal(rng);
  std::vector<uint8_t> out(static_cast<size_t>(n) * size + 1);
  int st = amalgam_convert(AMALGAM_ISA_SCALAR, amalgam_address_of(f.data()), AMALGAM_DTYPE_F32,
                           amalgam_address_of(out.data()), dtype, n, 0);
  if (st != AMALGAM_OK) std::abort();
  return out;
}

}  // namespace

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000003;
  std::mt19937_64 rng(42);
  int best = amalgam_isa_best();
  std::printf("amalgam_selftest: best isa %s, n = %" PRId64 "\n", amalgam_isa_name(best), n);
  const int dtypes[] = {AMALGAM_DTYPE_F32, AMALGAM_DTYPE_F16, AMALGAM_DTYPE_BF16};
  for (int xd : dtypes) {
    for (int yd : dtypes) {
      auto x = random_bytes(n, xd, rng);
      auto y = random_bytes(n, yd, rng);
      double ref[3];
      check(amalgam_dot3(AMALGAM_ISA_SCALAR, amalgam_address_of(x.data()), xd, amalgam_address_of(y.data()), yd, n,
                         ref) == AMALGAM_OK,
            "dot3 status", 0, n);
      for (int od : dtypes) {
        int osize = od == AMALGAM_DTYPE_F32 ? 4 : 2;
        std::vector<uint8_t> want(static_cast<size_t>(n) * osize), got(want.size());
        int64_t in[2] = {amalgam_address_of(x.data()), amalgam_address_of(y.data())};
        int32_t ind[2] = {xd, yd};
        float c[2] = {0.3f, 0.7f};
        amalgam_weighted_sum(AMALGAM_ISA_SCALAR, 2, in, ind, c, amalgam_address_of(want.data()), od, n, 0);
        for (int isa = 1; isa <= best; ++isa) {
          std::memset(got.data(), 0xAB, got.size());
          int st = amalgam_weighted_sum(isa, 2, in, ind, c, amalgam_address_of(got.data()), od, n, 0);
          check(st == AMALGAM_OK && got == want, "weighted_sum", isa, n);
          std::memset(got.data(), 0xAB, got.size());
          st = amalgam_convert(isa, amalgam_address_of(x.data()), xd, amalgam_address_of(got.data()), od, n, 0);
          std::vector<uint8_t> conv(want.size());
          amalgam_convert(AMALGAM_ISA_SCALAR, amalgam_address_of(x.data()), xd, amalgam_address_of(conv.data()), od,
                          n, 0);
          check(st == AMALGAM_OK && got == conv, "convert", isa, n);
        }
      }
      for (int isa = 1; isa <= best; ++isa) {
        double r[3];
        int st = amalgam_dot3(isa, amalgam_address_of(x.data()), xd, amalgam_address_of(y.data()), yd, n, r);
        check(st == AMALGAM_OK && std::memcmp(r, ref, sizeof r) == 0, "dot3", isa, n);
      }
    }
  }
  std::printf("amalgam_selftest: %s\n", failures == 0 ? "all paths agree" : "FAILED");
  return failures == 0 ? 0 : 1;
}
