package dev.amalgam.io.gguf;

import java.util.Optional;

/**
 * GGUF metadata value types, with their on-disk ids (gguf.h {@code enum gguf_type}). Integer values
 * of every width are held in a Java {@code long} (UINT64 as its two's-complement bits); arrays of
 * them in a {@code long[]}.
 */
public enum GgufValueType {
  UINT8(0, 1),
  INT8(1, 1),
  UINT16(2, 2),
  INT16(3, 2),
  UINT32(4, 4),
  INT32(5, 4),
  FLOAT32(6, 4),
  BOOL(7, 1),
  STRING(8, -1),
  ARRAY(9, -1),
  UINT64(10, 8),
  INT64(11, 8),
  FLOAT64(12, 8);

  private static final GgufValueType[] BY_ID = new GgufValueType[13];

  static {
    for (GgufValueType t : values()) BY_ID[t.id] = t;
  }

  private final int id;
  private final int size;

  GgufValueType(int id, int size) {
    this.id = id;
    this.size = size;
  }

  /** The id stored in the file. */
  public int id() {
    return id;
  }

  /** Bytes of one value, or -1 for STRING and ARRAY (variable). */
  public int size() {
    return size;
  }

  /** Whether values of this type are integers (held as {@code long}). */
  public boolean isInteger() {
    return switch (this) {
      case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
      default -> false;
    };
  }

  /** The type with this id, if the id is valid. */
  public static Optional<GgufValueType> fromId(long id) {
    return id >= 0 && id < BY_ID.length ? Optional.of(BY_ID[(int) id]) : Optional.empty();
  }

  /**
   * Whether {@code value} fits this integer type's range (UINT64 accepts every long: its bit
   * pattern is the value).
   */
  public boolean fits(long value) {
    return switch (this) {
      case UINT8 -> value >= 0 && value <= 0xFF;
      case INT8 -> value >= Byte.MIN_VALUE && value <= Byte.MAX_VALUE;
      case UINT16 -> value >= 0 && value <= 0xFFFF;
      case INT16 -> value >= Short.MIN_VALUE && value <= Short.MAX_VALUE;
      case UINT32 -> value >= 0 && value <= 0xFFFF_FFFFL;
      case INT32 -> value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE;
      case UINT64, INT64 -> true;
      default -> throw new IllegalStateException(this + " is not an integer type");
    };
  }
}
