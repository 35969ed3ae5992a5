package dev.amalgam.tensor;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Element types of tensors, named as safetensors names them. Only {@link #F32}, {@link #F16} and
 * {@link #BF16} can be merged ({@link #isMergeable()}); the others can be read, inspected and
 * copied.
 */
public enum DType {
  BOOL(8, null),
  U8(8, "uint8"),
  I8(8, "int8"),
  I16(16, "int16"),
  U16(16, "uint16"),
  F16(16, "float16"),
  BF16(16, "bfloat16"),
  I32(32, "int32"),
  U32(32, "uint32"),
  F32(32, "float32"),
  F64(64, "float64"),
  I64(64, "int64"),
  U64(64, "uint64"),
  C64(64, "complex64"),
  F8_E5M2(8, "float8_e5m2"),
  F8_E4M3(8, "float8_e4m3fn"),
  F8_E8M0(8, "float8_e8m0fnu"),
  F8_E4M3FNUZ(8, "float8_e4m3fnuz"),
  F8_E5M2FNUZ(8, "float8_e5m2fnuz"),
  F6_E2M3(6, null),
  F6_E3M2(6, null),
  F4(4, null);

  private static final Map<String, DType> BY_NAME =
      Stream.of(values()).collect(Collectors.toUnmodifiableMap(Enum::name, Function.identity()));
  private static final Map<String, DType> BY_TORCH_NAME =
      Stream.of(values())
          .filter(d -> d.torchName != null)
          .collect(Collectors.toUnmodifiableMap(d -> d.torchName, Function.identity()));

  private final int bits;
  private final String torchName;

  DType(int bits, String torchName) {
    this.bits = bits;
    this.torchName = torchName;
  }

  /** Bits per element (4, 6, 8, 16, 32 or 64). */
  public int bits() {
    return bits;
  }

  /** The name safetensors headers use ("BF16"). */
  public String safetensorsName() {
    return name();
  }

  /** The torch dtype name config.json uses ("bfloat16"), if this type has one. */
  public Optional<String> torchName() {
    return Optional.ofNullable(torchName);
  }

  /** True for the types the merge kernels read and write: F32, F16 and BF16. */
  public boolean isMergeable() {
    return this == F32 || this == F16 || this == BF16;
  }

  /** Bytes per element of a mergeable type. */
  public int byteSize() {
    if (bits % 8 != 0) throw new IllegalStateException(this + " is a sub-byte type");
    return bits / 8;
  }

  /**
   * The code of this type in the native ABI (amalgam.h {@code amalgam_dtype}); only for mergeable
   * types.
   */
  public int kernelCode() {
    switch (this) {
      case F32:
        return 0;
      case F16:
        return 1;
      case BF16:
        return 2;
      default:
        throw new IllegalArgumentException(this + " is not a kernel type");
    }
  }

  /**
   * Bytes taken by {@code elements} elements.
   *
   * @throws ArithmeticException if the size overflows a long or does not end on a byte boundary
   */
  public long byteCount(long elements) {
    long bitCount = Math.multiplyExact(elements, (long) bits);
    if (bitCount % 8 != 0) {
      throw new ArithmeticException(elements + " elements of " + this + " do not fill whole bytes");
    }
    return bitCount / 8;
  }

  /** Looks up a safetensors dtype name, exactly as spelled in a header. */
  public static Optional<DType> fromSafetensorsName(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }

  /**
   * Looks up a torch or mergekit dtype name: "bfloat16", "torch.bfloat16", "float16", "float32",
   * and the short aliases "bf16", "fp16", "half", "fp32", "float".
   */
  public static Optional<DType> fromTorchName(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    if (n.startsWith("torch.")) n = n.substring("torch.".length());
    switch (n) {
      case "bf16":
        return Optional.of(BF16);
      case "fp16":
      case "half":
        return Optional.of(F16);
      case "fp32":
      case "float":
        return Optional.of(F32);
      default:
        return Optional.ofNullable(BY_TORCH_NAME.get(n));
    }
  }
}
