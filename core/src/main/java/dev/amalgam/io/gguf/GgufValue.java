package dev.amalgam.io.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * One typed GGUF metadata value. The Java representation depends on the type:
 *
 * <ul>
 *   <li>integer types: {@link Long} (UINT64 as its bit pattern); FLOAT32: {@link Float}; FLOAT64:
 *       {@link Double}; BOOL: {@link Boolean}; STRING: {@link String};
 *   <li>ARRAY: a Java array chosen by {@link #elementType()}: {@code long[]} for integers, {@code
 *       float[]}, {@code double[]}, {@code boolean[]} or {@code String[]}. Nested arrays are not
 *       representable (ggml rejects them too).
 * </ul>
 *
 * Values are immutable by convention: array contents must not be changed after construction.
 *
 * @param type the value type
 * @param elementType for arrays the element type, otherwise null
 * @param value the value as described above
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {
  /** Checks that the Java value matches the declared types and that integers fit their range. */
  public GgufValue {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(value, "value");
    if (type == GgufValueType.ARRAY) {
      Objects.requireNonNull(elementType, "elementType");
      if (elementType == GgufValueType.ARRAY)
        throw new IllegalArgumentException("nested GGUF arrays");
      checkArray(elementType, value);
    } else {
      if (elementType != null)
        throw new IllegalArgumentException("elementType given for a scalar " + type);
      checkScalar(type, value);
    }
  }

  private static void checkScalar(GgufValueType type, Object value) {
    boolean ok =
        switch (type) {
          case FLOAT32 -> value instanceof Float;
          case FLOAT64 -> value instanceof Double;
          case BOOL -> value instanceof Boolean;
          case STRING -> value instanceof String;
          default -> value instanceof Long l && type.fits(l);
        };
    if (!ok)
      throw new IllegalArgumentException(
          type + " cannot hold " + value + " (" + value.getClass().getName() + ")");
  }

  private static void checkArray(GgufValueType element, Object value) {
    boolean ok =
        switch (element) {
          case FLOAT32 -> value instanceof float[];
          case FLOAT64 -> value instanceof double[];
          case BOOL -> value instanceof boolean[];
          case STRING -> value instanceof String[] s && Arrays.stream(s).allMatch(Objects::nonNull);
          default -> value instanceof long[] a && Arrays.stream(a).allMatch(element::fits);
        };
    if (!ok)
      throw new IllegalArgumentException(
          "ARRAY of " + element + " cannot hold " + value.getClass().getName());
  }

  /** An unsigned 32-bit value (llama.cpp's type for counts, lengths and token ids). */
  public static GgufValue uint32(long v) {
    return new GgufValue(GgufValueType.UINT32, null, v);
  }

  /** A signed 32-bit value. */
  public static GgufValue int32(long v) {
    return new GgufValue(GgufValueType.INT32, null, v);
  }

  /** A 64-bit unsigned value (bit pattern). */
  public static GgufValue uint64(long v) {
    return new GgufValue(GgufValueType.UINT64, null, v);
  }

  /** A 32-bit float (llama.cpp's type for eps and frequency bases). */
  public static GgufValue float32(float v) {
    return new GgufValue(GgufValueType.FLOAT32, null, v);
  }

  /** A boolean. */
  public static GgufValue bool(boolean v) {
    return new GgufValue(GgufValueType.BOOL, null, v);
  }

  /** A UTF-8 string. */
  public static GgufValue string(String v) {
    return new GgufValue(GgufValueType.STRING, null, v);
  }

  /** An array of strings. */
  public static GgufValue strings(String... v) {
    return new GgufValue(GgufValueType.ARRAY, GgufValueType.STRING, v);
  }

  /** An array of FLOAT32. */
  public static GgufValue float32s(float... v) {
    return new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT32, v);
  }

  /** An array of integers of the given element type. */
  public static GgufValue integers(GgufValueType element, long... v) {
    return new GgufValue(GgufValueType.ARRAY, element, v);
  }

  /** Whether this is an array. */
  public boolean isArray() {
    return type == GgufValueType.ARRAY;
  }

  /** Number of elements of an array, 1 for a scalar. */
  public long length() {
    if (!isArray()) return 1;
    return switch (elementType) {
      case FLOAT32 -> ((float[]) value).length;
      case FLOAT64 -> ((double[]) value).length;
      case BOOL -> ((boolean[]) value).length;
      case STRING -> ((String[]) value).length;
      default -> ((long[]) value).length;
    };
  }

  /** The integer value; throws if this is not an integer scalar. */
  public long asLong() {
    if (!type.isInteger()) throw new IllegalStateException(type + " is not an integer");
    return (Long) value;
  }

  /** The numeric value as a double (integers, floats); throws for other types. */
  public double asDouble() {
    if (type.isInteger()) return (Long) value;
    if (type == GgufValueType.FLOAT32) return (Float) value;
    if (type == GgufValueType.FLOAT64) return (Double) value;
    throw new IllegalStateException(type + " is not a number");
  }

  /** The string value; throws if this is not a STRING. */
  public String asString() {
    if (type != GgufValueType.STRING) throw new IllegalStateException(type + " is not a string");
    return (String) value;
  }

  /** The boolean value; throws if this is not a BOOL. */
  public boolean asBoolean() {
    if (type != GgufValueType.BOOL) throw new IllegalStateException(type + " is not a bool");
    return (Boolean) value;
  }

  /** Array contents of a STRING array. */
  public String[] asStrings() {
    requireArray(GgufValueType.STRING);
    return (String[]) value;
  }

  /** Array contents of a FLOAT32 array. */
  public float[] asFloats() {
    requireArray(GgufValueType.FLOAT32);
    return (float[]) value;
  }

  /** Array contents of an integer array. */
  public long[] asLongs() {
    if (!isArray() || !elementType.isInteger())
      throw new IllegalStateException(this.describeType() + " is not an integer array");
    return (long[]) value;
  }

  private void requireArray(GgufValueType element) {
    if (!isArray() || elementType != element) {
      throw new IllegalStateException(describeType() + " is not an ARRAY of " + element);
    }
  }

  /** The type as llama.cpp prints it, e.g. {@code UINT32} or {@code ARRAY[STRING]}. */
  public String describeType() {
    return isArray() ? "ARRAY[" + elementType + "]" : type.name();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof GgufValue v) || v.type != type || v.elementType != elementType) return false;
    if (!isArray()) return value.equals(v.value);
    return switch (elementType) {
      case FLOAT32 -> Arrays.equals((float[]) value, (float[]) v.value);
      case FLOAT64 -> Arrays.equals((double[]) value, (double[]) v.value);
      case BOOL -> Arrays.equals((boolean[]) value, (boolean[]) v.value);
      case STRING -> Arrays.equals((String[]) value, (String[]) v.value);
      default -> Arrays.equals((long[]) value, (long[]) v.value);
    };
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(type, elementType);
    if (!isArray()) return 31 * h + value.hashCode();
    return 31 * h
        + switch (elementType) {
          case FLOAT32 -> Arrays.hashCode((float[]) value);
          case FLOAT64 -> Arrays.hashCode((double[]) value);
          case BOOL -> Arrays.hashCode((boolean[]) value);
          case STRING -> Arrays.hashCode((String[]) value);
          default -> Arrays.hashCode((long[]) value);
        };
  }

  @Override
  public String toString() {
    return describeType()
        + " "
        + (isArray() ? "(" + length() + " elements)" : String.valueOf(value));
  }
}
