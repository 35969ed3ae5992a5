package dev.amalgam.kernels;

import java.util.Locale;
import java.util.Optional;

/** Instruction-set paths of the native kernels, in the order of amalgam.h's {@code amalgam_isa}. */
public enum Isa {
  /** Portable C++. */
  SCALAR,
  /** AVX2 + FMA + F16C. */
  AVX2,
  /** AVX-512 F/BW/VL. */
  AVX512,
  /** AVX-512 with AVX512_BF16 (vdpbf16ps reductions). */
  AVX512_BF16;

  /** The value of this path in the native ABI. */
  public int code() {
    return ordinal();
  }

  /** The lower-case name the native library and the CLI use ("avx512_bf16"). */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The path with the given ABI code. */
  public static Isa fromCode(int code) {
    Isa[] all = values();
    if (code < 0 || code >= all.length)
      throw new IllegalArgumentException("unknown ISA code " + code);
    return all[code];
  }

  /** Parses a label such as "avx2" (case-insensitive). */
  public static Optional<Isa> fromLabel(String label) {
    for (Isa isa : values()) {
      if (isa.label().equalsIgnoreCase(label.trim())) return Optional.of(isa);
    }
    return Optional.empty();
  }
}
