package dev.amalgam.io.safetensors;

import dev.amalgam.io.MappedFile;
import dev.amalgam.io.MappedRegion;
import dev.amalgam.io.TensorSource;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Zero-copy access to the bytes of one tensor in a {@link SafetensorsFile}, through read-only memory mappings.
 *
 * <p>Java 17 maps at most {@code Integer.MAX_VALUE} bytes at a time, so a tensor is mapped in windows (1 GiB by
 * default, a whole number of elements each) that are created on first use and reused by later {@link #slice}
 * calls; a slice that crosses a window boundary gets a mapping of its own, which is kept with the windows. A
 * tensor larger than 2 GiB is read through several slices. The windows are a {@link MappedRegion}.
 *
 * <p>Mappings are never unmapped by force, since touching an unmapped buffer crashes the JVM: {@link #release()}
 * forgets them (the garbage collector unmaps them once no slice refers to them) and, where the native library is
 * loaded, tells the kernel to drop their resident pages, so resident memory stays bounded while a merge walks a
 * model. Buffers handed out earlier stay valid after a release; their pages are read again from the file cache.
 *
 * <p>Instances are thread-safe. If the file is truncated or rewritten by another process while mapped, reading a
 * slice can fail with an {@link InternalError}, as for any mapped file.
 */
public final class TensorData implements TensorSource {
  /** The most bytes one slice can hold: the capacity limit of a {@link ByteBuffer}. */
  public static final long MAX_SLICE_BYTES = MappedRegion.MAX_SLICE_BYTES;

  private final MappedFile file;
  private final TensorInfo info;
  private final long fileOffset;
  private final MappedRegion region;

  TensorData(MappedFile file, TensorInfo info, long fileOffset, long windowBytes) {
    this.file = file;
    this.info = info;
    this.fileOffset = fileOffset;
    // Whole groups of elements per window, so that no element (nor a byte shared by sub-byte elements) is split.
    long groupBytes = lcm(info.dtype().bits(), 8) / 8;
    this.region = new MappedRegion(file, fileOffset, info.byteSize(), windowBytes, groupBytes);
  }

  /** Name, element type and shape of the tensor. */
  public TensorInfo info() {
    return info;
  }

  /** Absolute offset of the tensor's first byte in the file. */
  public long fileOffset() {
    return fileOffset;
  }

  /**
   * The largest element count one {@link #slice} may return: as many whole elements as fit in
   * {@link #MAX_SLICE_BYTES} bytes, rounded down to a byte boundary for sub-byte element types.
   */
  public long maxSliceElements() {
    int bits = info.dtype().bits();
    long group = lcm(bits, 8) / bits; // elements per whole-byte group
    long elements = MAX_SLICE_BYTES * 8 / bits;
    return elements - elements % group;
  }

  /**
   * A read-only, little-endian, direct buffer over elements {@code [firstElement, firstElement + elementCount)}
   * in row-major order, with position 0 and limit equal to their byte count. No bytes are copied.
   *
   * @param firstElement index of the first element, counted over the flattened tensor
   * @param elementCount number of elements; their bytes must not exceed {@link #MAX_SLICE_BYTES}
   * @throws IndexOutOfBoundsException if the range is not inside the tensor
   * @throws IllegalArgumentException if the slice is larger than {@link #MAX_SLICE_BYTES}, or if, for a
   *     sub-byte element type, it does not start and end on a byte boundary
   * @throws IllegalStateException if the file has been closed
   * @throws IOException if the file cannot be mapped
   */
  public ByteBuffer slice(long firstElement, long elementCount) throws IOException {
    Objects.checkFromIndexSize(firstElement, elementCount, info.elementCount());
    long start = byteOffset(firstElement);
    long length = byteOffset(firstElement + elementCount) - start;
    if (length > MAX_SLICE_BYTES) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "': a slice of " + elementCount + " elements is " + length
              + " bytes, more than the " + MAX_SLICE_BYTES + " one buffer can hold; read it in several slices");
    }
    return region.slice(start, length);
  }

  /**
   * Forgets the cached mappings and, where the native library is loaded, advises the kernel that their pages
   * are not needed (MADV_DONTNEED, which for read-only file mappings only drops them from this process; they are
   * read again from the page cache or the file if touched). Later slices map afresh. Buffers returned earlier
   * stay valid.
   */
  public void release() {
    region.release();
  }

  /**
   * Asks the kernel to start reading the whole tensor into memory (MADV_WILLNEED), so that a merge can prefetch
   * the next tensor while it computes the current one. Does nothing where the native library is not loaded.
   *
   * @throws IllegalStateException if the file has been closed
   * @throws IOException if the file cannot be mapped
   */
  public void adviseWillNeed() throws IOException {
    region.adviseWillNeed();
  }

  /** Number of mappings currently cached, for tests. */
  int cachedMappings() {
    return region.cachedMappings();
  }

  @Override
  public String toString() {
    return info + " at file offset " + fileOffset + " of " + file.path();
  }

  private long byteOffset(long element) {
    long bits = element * info.dtype().bits(); // element <= numel, and numel * bits was checked when parsing
    if (bits % 8 != 0) {
      throw new IllegalArgumentException(
          "tensor '" + info.name() + "': element " + element + " of " + info.dtype()
              + " does not start on a byte boundary; slices of sub-byte types must start and end on one");
    }
    return bits / 8;
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
