package dev.amalgam.io.gguf;

import dev.amalgam.tensor.DType;
import java.util.Optional;

/**
 * ggml tensor types that a GGUF file may hold, with their ids and block layouts (ggml-common.h).
 * Ids that ggml removed or reserved (4, 5, 31-33, 36-38) are absent, so looking them up fails.
 */
public enum GgmlType {
  F32(0, 1, 4),
  F16(1, 1, 2),
  Q4_0(2, 32, 18),
  Q4_1(3, 32, 20),
  Q5_0(6, 32, 22),
  Q5_1(7, 32, 24),
  Q8_0(8, 32, 34),
  Q8_1(9, 32, 36),
  Q2_K(10, 256, 84),
  Q3_K(11, 256, 110),
  Q4_K(12, 256, 144),
  Q5_K(13, 256, 176),
  Q6_K(14, 256, 210),
  Q8_K(15, 256, 292),
  IQ2_XXS(16, 256, 66),
  IQ2_XS(17, 256, 74),
  IQ3_XXS(18, 256, 98),
  IQ1_S(19, 256, 50),
  IQ4_NL(20, 32, 18),
  IQ3_S(21, 256, 110),
  IQ2_S(22, 256, 82),
  IQ4_XS(23, 256, 136),
  I8(24, 1, 1),
  I16(25, 1, 2),
  I32(26, 1, 4),
  I64(27, 1, 8),
  F64(28, 1, 8),
  IQ1_M(29, 256, 56),
  BF16(30, 1, 2),
  TQ1_0(34, 256, 54),
  TQ2_0(35, 256, 66),
  MXFP4(39, 32, 17);

  private static final GgmlType[] BY_ID = new GgmlType[40];

  static {
    for (GgmlType t : values()) BY_ID[t.id] = t;
  }

  private final int id;
  private final int blockElements;
  private final int blockBytes;

  GgmlType(int id, int blockElements, int blockBytes) {
    this.id = id;
    this.blockElements = blockElements;
    this.blockBytes = blockBytes;
  }

  /** The id stored in tensor infos. */
  public int id() {
    return id;
  }

  /** Elements per block (1 for plain types). */
  public int blockElements() {
    return blockElements;
  }

  /** Bytes per block. */
  public int blockBytes() {
    return blockBytes;
  }

  /** Whether this is a block-quantized type. */
  public boolean isQuantized() {
    return blockElements > 1;
  }

  /** The type with this id, if it is a valid, non-removed id. */
  public static Optional<GgmlType> fromId(long id) {
    return id >= 0 && id < BY_ID.length ? Optional.ofNullable(BY_ID[(int) id]) : Optional.empty();
  }

  /**
   * Bytes of {@code elements} elements; {@code elements} must be a multiple of the block size.
   * Throws {@link ArithmeticException} on overflow.
   */
  public long byteCount(long elements) {
    if (elements % blockElements != 0) {
      throw new IllegalArgumentException(
          elements + " elements are not a whole number of " + this + " blocks");
    }
    return Math.multiplyExact(elements / blockElements, (long) blockBytes);
  }

  /**
   * The plain element type this ggml type stores directly, if it is F32, F16 or BF16 (or F64,
   * I8-I64).
   */
  public Optional<DType> plainDType() {
    return switch (this) {
      case F32 -> Optional.of(DType.F32);
      case F16 -> Optional.of(DType.F16);
      case BF16 -> Optional.of(DType.BF16);
      case F64 -> Optional.of(DType.F64);
      case I8 -> Optional.of(DType.I8);
      case I16 -> Optional.of(DType.I16);
      case I32 -> Optional.of(DType.I32);
      case I64 -> Optional.of(DType.I64);
      default -> Optional.empty();
    };
  }

  /** The ggml type that stores a plain dtype unchanged, if any. */
  public static Optional<GgmlType> of(DType dtype) {
    return switch (dtype) {
      case F32 -> Optional.of(F32);
      case F16 -> Optional.of(F16);
      case BF16 -> Optional.of(BF16);
      case F64 -> Optional.of(F64);
      case I8 -> Optional.of(I8);
      case I16 -> Optional.of(I16);
      case I32 -> Optional.of(I32);
      case I64 -> Optional.of(I64);
      default -> Optional.empty();
    };
  }
}
