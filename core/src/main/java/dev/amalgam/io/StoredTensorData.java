package dev.amalgam.io;

import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.kernels.jni.NativeLibrary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The stored bytes of one tensor in an {@link InputFile}, read by element range with positional
 * reads: the base of the safetensors and GGUF tensor views, which add what their format means by an
 * element.
 *
 * <p>A tensor's elements are stored in units: the smallest run of elements that fills whole bytes
 * and must never be split (one element of a byte-sized type, a byte-aligned group of sub-byte
 * elements, a quantization block). An element range must start and end on unit boundaries and its
 * bytes must fit one buffer ({@link #MAX_BYTES}).
 *
 * <p>A range is read into a buffer that this view holds for the calling thread, taken from a
 * process-wide pool: it is valid until the same thread reads another range of this view or releases
 * it ({@link #release()}). Callers therefore read in chunks (a few MiB) and release each tensor
 * when done; a range costs memory of its own size.
 *
 * <p>Instances are thread-safe: threads reading the same view concurrently each get their own
 * buffer. If the file is truncated while it is read, the read fails with an {@link
 * InputChangedException} naming it; nothing can crash.
 *
 * @param <I> what the format records about the tensor: name, type, shape
 */
public abstract class StoredTensorData<I> {
  /** The most bytes one range can hold: the capacity limit of a {@link ByteBuffer}. */
  public static final long MAX_BYTES = Integer.MAX_VALUE;

  // posix_fadvise advice as amalgam_advise_file takes it.
  private static final int ADVICE_WILLNEED = 2;
  private static final ByteBuffer EMPTY =
      ByteBuffer.allocateDirect(0).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);

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

  private final InputFile file;
  private final I info;
  private final long fileOffset;
  private final Layout layout;
  private final long byteSize;

  // The read buffer each thread holds; guarded by this.
  private final Map<Thread, ByteBuffer> held = new HashMap<>();

  /**
   * A view of the tensor whose first byte is at {@code fileOffset}; nothing is read until the first
   * range.
   *
   * @param file the open file
   * @param info what the format records about the tensor
   * @param fileOffset absolute offset of the tensor's first byte
   * @param layout how its elements lie in its bytes
   */
  protected StoredTensorData(InputFile file, I info, long fileOffset, Layout layout) {
    this.file = Objects.requireNonNull(file, "file");
    this.info = Objects.requireNonNull(info, "info");
    this.fileOffset = fileOffset;
    this.layout = layout;
    this.byteSize = layout.elementCount() / layout.unitElements() * layout.unitBytes();
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
   * Lets go of the read buffers: the calling thread's goes back to the pool, so buffers it returned
   * earlier must no longer be used; those of other threads are dropped, never reused, so a thread
   * still reading is not disturbed. Later ranges take buffers afresh.
   */
  public final void release() {
    ByteBuffer mine;
    synchronized (this) {
      mine = held.remove(Thread.currentThread());
      held.clear();
    }
    if (mine != null) ReadBuffers.give(mine);
  }

  /**
   * Asks the kernel to start reading the whole tensor into the page cache (POSIX_FADV_WILLNEED), so
   * that a merge can prefetch the next tensor while it computes the current one. Does nothing where
   * the native library is not loaded.
   *
   * @throws IllegalStateException if the file has been closed
   */
  public final void adviseWillNeed() {
    file.ensureOpen();
    if (!NativeLibrary.isLoaded() || byteSize == 0) return;
    // A hint: a failure changes nothing about correctness, so the status is not checked.
    AmalgamNative.amalgam_advise_file(
        file.path().toString(), fileOffset, byteSize, ADVICE_WILLNEED);
  }

  /** Number of read buffers held (one per thread that read a range since the last release). */
  public final synchronized int heldBuffers() {
    return held.size();
  }

  /**
   * The largest element count one range may hold: as many whole units as fit in {@link #MAX_BYTES}.
   */
  protected final long maxElements() {
    return MAX_BYTES / layout.unitBytes() * layout.unitElements();
  }

  /**
   * A read-only, little-endian, direct buffer holding the stored bytes of elements {@code
   * [firstElement, firstElement + count)} (flattened, in storage order), position 0, limit their
   * byte count; valid until this thread reads another range of this view or it is released.
   *
   * @throws IndexOutOfBoundsException if the range is not inside the tensor
   * @throws IllegalArgumentException as {@link #misaligned} and {@link #tooLarge} make it, if the
   *     range does not start and end on unit boundaries or holds more than {@link #maxElements()}
   * @throws IllegalStateException if the file has been closed
   * @throws InputChangedException if the file was truncated after it was opened
   * @throws IOException if the file cannot be read
   */
  protected final ByteBuffer readElements(long firstElement, long count) throws IOException {
    Objects.checkFromIndexSize(firstElement, count, layout.elementCount());
    long unit = layout.unitElements();
    if (firstElement % unit != 0 || (firstElement + count) % unit != 0)
      throw misaligned(firstElement, count);
    if (count > maxElements()) throw tooLarge(count, byteCount(count));
    file.ensureOpen();
    if (count == 0) return EMPTY.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int bytes = Math.toIntExact(byteCount(count));
    ByteBuffer buffer = bufferFor(bytes);
    ByteBuffer target = buffer.duplicate().clear().limit(bytes);
    file.read(target, fileOffset + byteCount(firstElement), describe());
    return buffer
        .duplicate()
        .clear()
        .limit(bytes)
        .slice()
        .asReadOnlyBuffer()
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  /** How messages name this tensor, for example {@code "tensor 'lm_head.weight'"}. */
  protected abstract String describe();

  /** The exception for a range inside the tensor that does not start or end on a unit boundary. */
  protected abstract IllegalArgumentException misaligned(long firstElement, long count);

  /**
   * The exception for a range on unit boundaries of more than {@link #maxElements()} elements
   * ({@code bytes}).
   */
  protected abstract IllegalArgumentException tooLarge(long count, long bytes);

  /** This thread's buffer, grown to {@code bytes} if needed. */
  private ByteBuffer bufferFor(int bytes) {
    Thread me = Thread.currentThread();
    ByteBuffer old;
    synchronized (this) {
      ByteBuffer b = held.get(me);
      if (b != null && b.capacity() >= bytes) return b;
      old = held.remove(me);
    }
    if (old != null) ReadBuffers.give(old);
    ByteBuffer fresh = ReadBuffers.take(bytes);
    synchronized (this) {
      held.put(me, fresh);
    }
    return fresh;
  }

  /** Bytes of {@code elements} elements, a whole number of units. */
  private long byteCount(long elements) {
    return elements / layout.unitElements() * layout.unitBytes();
  }

  @Override
  public String toString() {
    return info + " at file offset " + fileOffset + " of " + file.path();
  }
}
