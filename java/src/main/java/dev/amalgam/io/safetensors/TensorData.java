package dev.amalgam.io.safetensors;

import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.kernels.jni.NativeLibrary;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import dev.amalgam.io.TensorSource;
import java.util.Objects;

/**
 * Zero-copy access to the bytes of one tensor in a {@link SafetensorsFile}, through read-only memory mappings.
 *
 * <p>Java 17 maps at most {@code Integer.MAX_VALUE} bytes at a time, so a tensor is mapped in windows (1 GiB by
 * default, a whole number of elements each) that are created on first use and reused by later {@link #slice}
 * calls; a slice that crosses a window boundary gets a mapping of its own, which is kept with the windows. A
 * tensor larger than 2 GiB is read through several slices.
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
  public static final long MAX_SLICE_BYTES = Integer.MAX_VALUE;

  /** Default mapping window: large enough to keep the number of mappings small, well under the 2 GiB cap. */
  static final long DEFAULT_WINDOW_BYTES = 1L << 30;

  private static final int ADVICE_WILLNEED = 2;
  private static final int ADVICE_DONTNEED = 3;
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0).asReadOnlyBuffer();

  private final SafetensorsFile file;
  private final TensorInfo info;
  private final long fileOffset;
  private final long byteSize;
  private final long windowBytes;

  // Guarded by this.
  private MappedByteBuffer[] windows;
  private final List<Mapping> crossings = new ArrayList<>();

  /** A mapping that starts at byte {@code start} of the tensor. */
  private record Mapping(long start, MappedByteBuffer buffer) {}

  TensorData(SafetensorsFile file, TensorInfo info, long fileOffset, long windowBytes) {
    this.file = file;
    this.info = info;
    this.fileOffset = fileOffset;
    this.byteSize = info.byteSize();
    // Whole groups of elements per window, so that no element (nor a byte shared by sub-byte elements) is split.
    int bits = info.dtype().bits();
    long groupBytes = lcm(bits, 8) / 8;
    long w = Math.min(windowBytes, MAX_SLICE_BYTES);
    this.windowBytes = Math.max(groupBytes, w - w % groupBytes);
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
    if (length == 0) {
      file.ensureOpen();
      return EMPTY.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }
    long first = start / windowBytes;
    long last = (start + length - 1) / windowBytes;
    MappedByteBuffer base;
    long baseStart;
    synchronized (this) {
      file.ensureOpen();
      if (first == last) {
        base = window((int) first);
        baseStart = first * windowBytes;
      } else {
        Mapping m = crossing(start, length);
        base = m.buffer();
        baseStart = m.start();
      }
    }
    // slice() resets the byte order to big-endian; read-only carries over from the mapping.
    return base.slice((int) (start - baseStart), (int) length).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Forgets the cached mappings and, where the native library is loaded, advises the kernel that their pages
   * are not needed (MADV_DONTNEED, which for read-only file mappings only drops them from this process; they are
   * read again from the page cache or the file if touched). Later slices map afresh. Buffers returned earlier
   * stay valid.
   */
  public void release() {
    List<MappedByteBuffer> dropped = new ArrayList<>();
    synchronized (this) {
      if (windows != null) {
        for (MappedByteBuffer w : windows) if (w != null) dropped.add(w);
        windows = null;
      }
      for (Mapping m : crossings) dropped.add(m.buffer());
      crossings.clear();
    }
    if (NativeLibrary.isLoaded()) {
      for (MappedByteBuffer b : dropped) advise(b, ADVICE_DONTNEED);
    }
  }

  /**
   * Asks the kernel to start reading the whole tensor into memory (MADV_WILLNEED), so that a merge can prefetch
   * the next tensor while it computes the current one. Does nothing where the native library is not loaded.
   *
   * @throws IllegalStateException if the file has been closed
   * @throws IOException if the file cannot be mapped
   */
  public void adviseWillNeed() throws IOException {
    if (!NativeLibrary.isLoaded() || byteSize == 0) return;
    List<MappedByteBuffer> all = new ArrayList<>();
    synchronized (this) {
      file.ensureOpen();
      int count = windowCount();
      for (int i = 0; i < count; i++) all.add(window(i));
    }
    for (MappedByteBuffer b : all) advise(b, ADVICE_WILLNEED);
  }

  /** Number of mappings currently cached, for tests. */
  synchronized int cachedMappings() {
    int n = crossings.size();
    if (windows != null) for (MappedByteBuffer w : windows) if (w != null) n++;
    return n;
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

  private int windowCount() {
    return Math.toIntExact((byteSize + windowBytes - 1) / windowBytes);
  }

  private MappedByteBuffer window(int index) throws IOException {
    if (windows == null) windows = new MappedByteBuffer[windowCount()];
    MappedByteBuffer w = windows[index];
    if (w == null) {
      long start = index * windowBytes;
      w = map(start, Math.min(windowBytes, byteSize - start));
      windows[index] = w;
    }
    return w;
  }

  private Mapping crossing(long start, long length) throws IOException {
    for (Mapping m : crossings) {
      if (m.start() <= start && start + length <= m.start() + m.buffer().capacity()) return m;
    }
    Mapping m = new Mapping(start, map(start, length));
    crossings.add(m);
    return m;
  }

  private MappedByteBuffer map(long start, long length) throws IOException {
    return file.channel().map(FileChannel.MapMode.READ_ONLY, fileOffset + start, length);
  }

  private static void advise(MappedByteBuffer b, int advice) {
    // Advice is a hint; a failure changes nothing about correctness, so the status is not checked.
    AmalgamNative.amalgam_advise(AmalgamNative.amalgam_address_of(b), b.capacity(), advice);
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
