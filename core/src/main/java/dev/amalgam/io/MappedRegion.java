package dev.amalgam.io;

import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.kernels.jni.NativeLibrary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A byte range of a {@link MappedFile} (one tensor's data), mapped read-only in windows, handing
 * out zero-copy slices by byte offset. The safetensors and GGUF tensor views are built on it.
 *
 * <p>Java 17 maps at most {@code Integer.MAX_VALUE} bytes at a time, so the range is mapped in
 * windows (of {@link #DEFAULT_WINDOW_BYTES} unless the caller asks otherwise, a whole number of
 * units each, where a unit is the smallest run of bytes that must never be split: an element group
 * or a quantization block) that are created on first use and reused; a slice that crosses a window
 * boundary gets a mapping of its own, kept with the windows.
 *
 * <p>Mappings are never unmapped by force, since touching an unmapped buffer crashes the JVM:
 * {@link #release()} forgets them (the garbage collector unmaps them once no slice refers to them)
 * and, where the native library is loaded, tells the kernel to drop their resident pages. Buffers
 * handed out earlier stay valid.
 *
 * <p>Instances are thread-safe.
 */
public final class MappedRegion {
  /** The most bytes one slice can hold: the capacity limit of a {@link ByteBuffer}. */
  public static final long MAX_SLICE_BYTES = Integer.MAX_VALUE;

  /**
   * Default mapping window: large enough to keep the number of mappings small, well under the 2 GiB
   * cap.
   */
  public static final long DEFAULT_WINDOW_BYTES = 1L << 30;

  // madvise(2) advice values as amalgam_advise takes them.
  private static final int ADVICE_WILLNEED = 2;
  private static final int ADVICE_DONTNEED = 3;
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0).asReadOnlyBuffer();

  private final MappedFile file;
  private final long fileOffset;
  private final long byteSize;
  private final long windowBytes;

  // Guarded by this.
  private MappedByteBuffer[] windows;
  private final List<Mapping> crossings = new ArrayList<>();

  /** A mapping that starts at byte {@code start} of the region. */
  private record Mapping(long start, MappedByteBuffer buffer) {}

  /**
   * A region of {@code byteSize} bytes at {@code fileOffset}; nothing is mapped until the first
   * slice.
   *
   * @param file the open file
   * @param fileOffset absolute offset of the region's first byte
   * @param byteSize length of the region in bytes
   * @param windowBytes the wanted window size; capped at {@link #MAX_SLICE_BYTES} and rounded down
   *     to whole units (at least one unit)
   * @param unitBytes bytes that must stay in one window (positive): slices that start and end on
   *     unit boundaries and fit in a window never need a mapping of their own
   */
  public MappedRegion(
      MappedFile file, long fileOffset, long byteSize, long windowBytes, long unitBytes) {
    if (unitBytes <= 0) throw new IllegalArgumentException("unit of " + unitBytes + " bytes");
    this.file = Objects.requireNonNull(file, "file");
    this.fileOffset = fileOffset;
    this.byteSize = byteSize;
    long w = Math.min(windowBytes, MAX_SLICE_BYTES);
    this.windowBytes = Math.max(unitBytes, w - w % unitBytes);
  }

  /**
   * A read-only, little-endian, direct buffer over bytes {@code [start, start + length)} of the
   * region, position 0 and limit {@code length}. No bytes are copied.
   *
   * @throws IndexOutOfBoundsException if the range is not inside the region
   * @throws IllegalArgumentException if {@code length} exceeds {@link #MAX_SLICE_BYTES} (callers
   *     check this first, with a message that names their tensor)
   * @throws IllegalStateException if the file has been closed
   * @throws IOException if the file cannot be mapped
   */
  public ByteBuffer slice(long start, long length) throws IOException {
    Objects.checkFromIndexSize(start, length, byteSize);
    if (length > MAX_SLICE_BYTES) {
      throw new IllegalArgumentException(length + " bytes are more than one buffer can hold");
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
   * Forgets the cached mappings and, where the native library is loaded, advises the kernel that
   * their pages are not needed (MADV_DONTNEED, which for read-only file mappings only drops them
   * from this process; they are read again from the page cache or the file if touched). Later
   * slices map afresh; buffers returned earlier stay valid.
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
   * Asks the kernel to start reading the whole region into memory (MADV_WILLNEED), so that a merge
   * can prefetch the next tensor while it computes the current one. Does nothing where the native
   * library is not loaded.
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

  /**
   * Number of mappings currently cached (windows and crossings), so tests can see what a release
   * dropped.
   */
  public synchronized int cachedMappings() {
    int n = crossings.size();
    if (windows != null) for (MappedByteBuffer w : windows) if (w != null) n++;
    return n;
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
}
