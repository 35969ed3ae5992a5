package dev.amalgam.io.gguf;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor as a GGUF header describes it. {@code ne} is in GGUF order: {@code ne[0]} is the
 * contiguous dimension, so the PyTorch/Hugging Face shape is {@code ne} reversed ({@link
 * #torchShape()}); the bytes are the same in both views. {@code offset} is relative to the start of
 * the file's data section.
 *
 * <p>The constructor checks only what makes the sizes well defined (1 to 4 non-negative dimensions,
 * {@code ne[0]} a whole number of blocks, sizes that fit a long); the reader turns those failures
 * into {@code FormatException}s before it builds an instance.
 *
 * @param name the tensor name
 * @param type the ggml storage type
 * @param ne the dimensions, contiguous first (copied)
 * @param offset byte offset of the tensor's data from the start of the data section
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset) {
  /** Most dimensions a ggml tensor has (GGML_MAX_DIMS). */
  public static final int MAX_DIMS = 4;

  /** Validates and copies the dimensions. */
  public GgufTensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    ne = ne.clone();
    if (ne.length < 1 || ne.length > MAX_DIMS) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': " + ne.length + " dimensions, expected 1 to 4");
    }
    for (long d : ne) {
      if (d < 0)
        throw new IllegalArgumentException(
            "tensor '" + name + "': negative dimension in " + Arrays.toString(ne));
    }
    if (ne[0] % type.blockElements() != 0) {
      throw new IllegalArgumentException(
          "tensor '"
              + name
              + "': ne[0] = "
              + ne[0]
              + " is not a multiple of the "
              + type
              + " block size "
              + type.blockElements());
    }
    if (offset < 0)
      throw new IllegalArgumentException("tensor '" + name + "': negative offset " + offset);
    type.byteCount(elementCount(ne)); // throws ArithmeticException on overflow
  }

  /** The dimensions in GGUF order, contiguous first (a copy). */
  @Override
  public long[] ne() {
    return ne.clone();
  }

  /** Dimension {@code i} in GGUF order. */
  public long ne(int i) {
    return ne[i];
  }

  /** Number of dimensions stored in the file (1 to 4). */
  public int rank() {
    return ne.length;
  }

  /** Number of elements: the product of the dimensions. */
  public long elementCount() {
    return elementCount(ne);
  }

  /** Bytes of the tensor's data, without padding. */
  public long byteSize() {
    return type.byteCount(elementCount());
  }

  /** The PyTorch/Hugging Face shape: {@code ne} reversed, outermost dimension first. */
  public long[] torchShape() {
    long[] shape = new long[ne.length];
    for (int i = 0; i < ne.length; i++) shape[i] = ne[ne.length - 1 - i];
    return shape;
  }

  /** Number of rows of {@code ne[0]} elements (0 when {@code ne[0]} is 0). */
  public long rows() {
    return ne[0] == 0 ? 0 : elementCount() / ne[0];
  }

  /** Bytes of one row of {@code ne[0]} elements. */
  public long rowBytes() {
    return type.byteCount(ne[0]);
  }

  /** This tensor with another data offset. */
  public GgufTensorInfo withOffset(long newOffset) {
    return new GgufTensorInfo(name, type, ne, newOffset);
  }

  static long elementCount(long[] ne) {
    long n = 1;
    for (long d : ne) n = Math.multiplyExact(n, d);
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GgufTensorInfo t
        && t.name.equals(name)
        && t.type == type
        && Arrays.equals(t.ne, ne)
        && t.offset == offset;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, type, Arrays.hashCode(ne), offset);
  }

  @Override
  public String toString() {
    return name + " " + type + " ne " + Arrays.toString(ne) + " at +" + offset;
  }
}
