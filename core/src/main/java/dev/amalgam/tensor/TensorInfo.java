package dev.amalgam.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * Name, element type and shape of one tensor. Shapes are row-major (PyTorch order) and every
 * dimension, element count and byte size is a long.
 */
public final class TensorInfo {
  private final String name;
  private final DType dtype;
  private final long[] shape;
  private final long elementCount;
  private final long byteSize;

  /**
   * Creates the description.
   *
   * @throws IllegalArgumentException if a dimension is negative or the size overflows a long
   */
  public TensorInfo(String name, DType dtype, long[] shape) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    long count = 1;
    try {
      for (long d : this.shape) {
        if (d < 0)
          throw new IllegalArgumentException("tensor '" + name + "': negative dimension " + d);
        count = Math.multiplyExact(count, d);
      }
      this.elementCount = count;
      this.byteSize = dtype.byteCount(count);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "tensor '"
              + name
              + "': size of shape "
              + Arrays.toString(shape)
              + " x "
              + dtype
              + " overflows: "
              + e.getMessage(),
          e);
    }
  }

  /** The tensor's name, e.g. "model.layers.0.mlp.up_proj.weight". */
  public String name() {
    return name;
  }

  /** The element type. */
  public DType dtype() {
    return dtype;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  /** Number of dimensions (0 for a scalar). */
  public int rank() {
    return shape.length;
  }

  /** Dimension {@code i}. */
  public long dim(int i) {
    return shape[i];
  }

  /** Product of the dimensions (1 for a scalar). */
  public long elementCount() {
    return elementCount;
  }

  /** Bytes of data: element count times element size. */
  public long byteSize() {
    return byteSize;
  }

  /** The same name and shape with another element type. */
  public TensorInfo withDtype(DType other) {
    return new TensorInfo(name, other, shape);
  }

  /** The same dtype and shape under another name. */
  public TensorInfo withName(String other) {
    return new TensorInfo(other, dtype, shape);
  }

  /** True if both shapes are equal. */
  public boolean sameShape(TensorInfo other) {
    return Arrays.equals(shape, other.shape);
  }

  /** The shape as "[4096, 4096]". */
  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof TensorInfo)) return false;
    TensorInfo t = (TensorInfo) o;
    return name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return name + " " + dtype + " " + shapeString();
  }
}
