package dev.amalgam.io.safetensors;

import dev.amalgam.io.InputFile;
import dev.amalgam.io.StoredTensorData;
import dev.amalgam.io.TensorSource;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The bytes of one tensor in a {@link SafetensorsFile}, read by element range (see {@link
 * StoredTensorData} for the read buffers, releasing and thread-safety). Elements are counted over
 * the flattened row-major tensor; a unit is one element, or for sub-byte types the fewest elements
 * that fill whole bytes, so slices of those must start and end on a byte boundary.
 */
public final class TensorData extends StoredTensorData<TensorInfo> implements TensorSource {
  /** The most bytes one slice can hold: the capacity limit of a {@link ByteBuffer}. */
  public static final long MAX_SLICE_BYTES = StoredTensorData.MAX_BYTES;

  TensorData(InputFile file, TensorInfo info, long fileOffset) {
    super(file, info, fileOffset, layout(info));
  }

  /**
   * Whole groups of elements per unit, so that no element (nor a byte shared by sub-byte elements)
   * is split.
   */
  private static Layout layout(TensorInfo info) {
    int bits = info.dtype().bits();
    long groupBits = lcm(bits, 8);
    return new Layout(info.elementCount(), groupBits / bits, groupBits / 8);
  }

  /**
   * The largest element count one {@link #slice} may return: as many whole elements as fit in
   * {@link #MAX_SLICE_BYTES} bytes, rounded down to a byte boundary for sub-byte element types.
   */
  @Override
  public long maxSliceElements() {
    return maxElements();
  }

  /**
   * A read-only, little-endian, direct buffer holding elements {@code [firstElement, firstElement +
   * elementCount)} in row-major order, with position 0 and limit equal to their byte count; valid
   * until this thread slices this tensor again or it is released.
   *
   * @param firstElement index of the first element, counted over the flattened tensor
   * @param elementCount number of elements; their bytes must not exceed {@link #MAX_SLICE_BYTES}
   * @throws IndexOutOfBoundsException if the range is not inside the tensor
   * @throws IllegalArgumentException if the slice is larger than {@link #MAX_SLICE_BYTES}, or if,
   *     for a sub-byte element type, it does not start and end on a byte boundary
   * @throws IllegalStateException if the file has been closed
   * @throws dev.amalgam.io.InputChangedException if the file was truncated after it was opened
   * @throws IOException if the file cannot be read
   */
  @Override
  public ByteBuffer slice(long firstElement, long elementCount) throws IOException {
    return readElements(firstElement, elementCount);
  }

  @Override
  protected String describe() {
    return "tensor '" + info().name() + "'";
  }

  @Override
  protected IllegalArgumentException misaligned(long firstElement, long count) {
    TensorInfo info = info();
    long element =
        firstElement * info.dtype().bits() % 8 != 0 ? firstElement : firstElement + count;
    return new IllegalArgumentException(
        "tensor '"
            + info.name()
            + "': element "
            + element
            + " of "
            + info.dtype()
            + " does not start on a byte boundary; slices of sub-byte types must start and end on one");
  }

  @Override
  protected IllegalArgumentException tooLarge(long count, long bytes) {
    return new IllegalArgumentException(
        "tensor '"
            + info().name()
            + "': a slice of "
            + count
            + " elements is "
            + bytes
            + " bytes, more than the "
            + MAX_SLICE_BYTES
            + " one buffer can hold; read it in several slices");
  }

  private static long lcm(long a, long b) {
    long x = a;
    long y = b;
    while (y != 0) {
      long t = x % y;
      x = y;
      y = t;
    }
    return a / x * b;
  }
}
