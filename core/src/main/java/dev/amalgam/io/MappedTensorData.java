package dev.amalgam.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Zero-copy access to the stored bytes of one tensor in a memory-mapped file, by element range: the
 * base of the safetensors and GGUF tensor views, which add what their format means by an element.
 *
 * <p>A tensor's elements are stored in units: the smallest run of elements that fills whole bytes
 * and must never be split (one element of a byte-sized type, a byte-aligned group of sub-byte
 * elements, a quantization block). An element range must start and end on unit boundaries and its
 * bytes must fit one buffer ({@link #MAX_BYTES}).
 *
 * <p>Java 17 maps at most {@code Integer.MAX_VALUE} bytes at a time, so the tensor is mapped in
 * windows (1 GiB by default, whole units each) that are created on first use and reused; a range
 * that crosses a window boundary gets a mapping of its own, kept with the windows (a {@link
 * MappedRegion}). A tensor larger than 2 GiB is read through several ranges.
 *
 * <p>Mappings are never unmapped by force, since touching an unmapped buffer crashes the JVM:
 * {@link #release()} forgets them (the garbage collector unmaps them once no buffer refers to them)
 * and, where the native library is loaded, tells the kernel to drop their resident pages, so
 * resident memory stays bounded while a merge walks a model. Buffers handed out earlier stay valid
 * after a release; their pages are read again from the file cache.
 *
 * <p>Instances are thread-safe. If the file is truncated or rewritten by another process while
 * mapped, reading a buffer can fail with an {@link InternalError}, as for any mapped file.
 *
 * @param <I> what the format records about the tensor: name, type, shape
 */
public abstract class MappedTensorData<I> {
  /** The most bytes one buffer can hold: the capacity limit of a {@link ByteBuffer}. */
  public static final long MAX_BYTES = MappedRegion.MAX_SLICE_BYTES;

  /**
   * How a tensor's elements lie in its bytes.
   *
   * @param elementCount elements of the tensor, a whole number of units
   * @param unitElements elements per unit (positive)
   * @param unitBytes bytes per unit (positive)
   */
  public record Layout(long elementCount, long unitElements, long unitBytes) {
    /** Checks that the units are positive and the elements fill whole units. */
    public Layout {
      if (unitElements <= 0 || unitBytes <= 0) {
        throw new IllegalArgumentException(
            "units of " + unitElements + " elements in " + unitBytes + " bytes");
      }
      if (elementCount < 0 || elementCount % unitElements != 0) {
        throw new IllegalArgumentException(
            elementCount + " elements are not whole units of " + unitElements);
      }
    }
  }

  private final MappedFile file;
  private final I info;
  private final long fileOffset;
  private final Layout layout;
  private final MappedRegion region;

  /**
   * A view of the tensor whose first byte is at {@code fileOffset}; nothing is mapped until the
   * first range.
   *
   * @param file the open file
   * @param info what the format records about the tensor
   * @param fileOffset absolute offset of the tensor's first byte
   * @param layout how its elements lie in its bytes
   * @param windowBytes the wanted mapping window (see {@link MappedRegion})
   */
  protected MappedTensorData(
      MappedFile file, I info, long fileOffset, Layout layout, long windowBytes) {
    this.file = Objects.requireNonNull(file, "file");
    this.info = Objects.requireNonNull(info, "info");
    this.fileOffset = fileOffset;
    this.layout = layout;
    long byteSize = layout.elementCount() / layout.unitElements() * layout.unitBytes();
    this.region = new MappedRegion(file, fileOffset, byteSize, windowBytes, layout.unitBytes());
  }

  /** What the format records about the tensor. */
  public final I info() {
    return info;
  }

  /** Absolute offset of the tensor's first byte in the file. */
  public final long fileOffset() {
    return fileOffset;
  }

  /**
   * Forgets the cached mappings and, where the native library is loaded, advises the kernel that
   * their pages are not needed (MADV_DONTNEED, which for read-only file mappings only drops them
   * from this process; they are read again from the page cache or the file if touched). Later
   * ranges map afresh. Buffers returned earlier stay valid.
   */
  public final void release() {
    region.release();
  }

  /**
   * Asks the kernel to start reading the whole tensor into memory (MADV_WILLNEED), so that a merge
   * can prefetch the next tensor while it computes the current one. Does nothing where the native
   * library is not loaded.
   *
   * @throws IllegalStateException if the file has been closed
   * @throws IOException if the file cannot be mapped
   */
  public final void adviseWillNeed() throws IOException {
    region.adviseWillNeed();
  }

  /**
   * Number of mappings currently cached (windows and crossings), so tests can see what a release
   * dropped.
   */
  public final int cachedMappings() {
    return region.cachedMappings();
  }

  /**
   * The largest element count one range may hold: as many whole units as fit in {@link #MAX_BYTES}.
   */
  protected final long maxElements() {
    return MAX_BYTES / layout.unitBytes() * layout.unitElements();
  }

  /**
   * A read-only, little-endian, direct buffer over the stored bytes of elements {@code
   * [firstElement, firstElement + count)} (flattened, in storage order), position 0, limit their
   * byte count. No bytes are copied.
   *
   * @throws IndexOutOfBoundsException if the range is not inside the tensor
   * @throws IllegalArgumentException as {@link #misaligned} and {@link #tooLarge} make it, if the
   *     range does not start and end on unit boundaries or holds more than {@link #maxElements()}
   * @throws IllegalStateException if the file has been closed
   * @throws IOException if the file cannot be mapped
   */
  protected final ByteBuffer mapElements(long firstElement, long count) throws IOException {
    Objects.checkFromIndexSize(firstElement, count, layout.elementCount());
    long unit = layout.unitElements();
    if (firstElement % unit != 0 || (firstElement + count) % unit != 0)
      throw misaligned(firstElement, count);
    if (count > maxElements()) throw tooLarge(count, byteCount(count));
    return region.slice(byteCount(firstElement), byteCount(count));
  }

  /** The exception for a range inside the tensor that does not start or end on a unit boundary. */
  protected abstract IllegalArgumentException misaligned(long firstElement, long count);

  /**
   * The exception for a range on unit boundaries of more than {@link #maxElements()} elements
   * ({@code bytes}).
   */
  protected abstract IllegalArgumentException tooLarge(long count, long bytes);

  /** Bytes of {@code elements} elements, a whole number of units. */
  private long byteCount(long elements) {
    return elements / layout.unitElements() * layout.unitBytes();
  }

  @Override
  public String toString() {
    return info + " at file offset " + fileOffset + " of " + file.path();
  }
}
