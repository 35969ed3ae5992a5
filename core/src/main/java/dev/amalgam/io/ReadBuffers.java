package dev.amalgam.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A process-wide pool of direct buffers that tensor reads fill, so that reading a model allocates
 * (and zeroes, and first-touches) no fresh memory per tensor: a merge releases each tensor's
 * sources when it is done with them, and the next tensor's reads take the same buffers back.
 * Capacities are powers of two from 64 KiB, aligned to 4 KiB; the pool keeps at most {@link
 * #MAX_POOLED_BYTES} of free buffers and lets the garbage collector have the rest.
 *
 * <p>Thread-safe.
 */
final class ReadBuffers {
  /** Free bytes the pool keeps at most. */
  static final long MAX_POOLED_BYTES = 256L << 20;

  private static final int MIN_CAPACITY = 1 << 16;
  private static final int PAGE = 4096;

  // Guarded by ReadBuffers.class.
  private static final List<ByteBuffer> FREE = new ArrayList<>();
  private static long freeBytes;

  private ReadBuffers() {}

  /**
   * A little-endian direct buffer of at least {@code bytes} bytes, position 0, limit {@code bytes};
   * the smallest free one that fits, else a new one.
   */
  static ByteBuffer take(int bytes) {
    if (bytes < 0) throw new IllegalArgumentException("negative size " + bytes);
    synchronized (ReadBuffers.class) {
      int best = -1;
      for (int i = 0; i < FREE.size(); i++) {
        int c = FREE.get(i).capacity();
        if (c >= bytes && (best < 0 || c < FREE.get(best).capacity())) best = i;
      }
      if (best >= 0) {
        ByteBuffer b = FREE.remove(best);
        freeBytes -= b.capacity();
        return b.clear().limit(bytes);
      }
    }
    int capacity = capacityFor(bytes);
    if (capacity > Integer.MAX_VALUE - PAGE) {
      return ByteBuffer.allocateDirect(capacity).order(ByteOrder.LITTLE_ENDIAN).limit(bytes);
    }
    return ByteBuffer.allocateDirect(capacity + PAGE)
        .alignedSlice(PAGE)
        .limit(capacity)
        .slice()
        .order(ByteOrder.LITTLE_ENDIAN)
        .limit(bytes);
  }

  /** Hands a buffer from {@link #take} back; it must no longer be used. */
  static void give(ByteBuffer buffer) {
    synchronized (ReadBuffers.class) {
      if (freeBytes + buffer.capacity() > MAX_POOLED_BYTES) return;
      FREE.add(buffer);
      freeBytes += buffer.capacity();
    }
  }

  /** The power of two from 64 KiB that holds {@code bytes}, or {@code bytes} itself past 1 GiB. */
  static int capacityFor(int bytes) {
    if (bytes <= MIN_CAPACITY) return MIN_CAPACITY;
    if (bytes > 1 << 30) return bytes;
    return Integer.highestOneBit(bytes - 1) << 1;
  }
}
