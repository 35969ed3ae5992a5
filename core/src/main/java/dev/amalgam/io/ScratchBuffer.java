package dev.amalgam.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A direct buffer that grows on demand and is reused, so that sources which decode or gather data
 * do not allocate (and zero) fresh direct memory for every tensor. Owned by one model view and used
 * by one tensor source at a time: what {@link #get} returned is overwritten by the next call.
 */
public final class ScratchBuffer {
  private ByteBuffer buffer;

  /** An empty scratch buffer; memory is allocated on first use. */
  public ScratchBuffer() {}

  /** A cleared little-endian view of at least {@code bytes} bytes, limited to {@code bytes}. */
  public synchronized ByteBuffer get(int bytes) {
    if (buffer == null || buffer.capacity() < bytes) {
      buffer = ByteBuffer.allocateDirect(Math.max(bytes, 1 << 16));
    }
    return buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear().limit(bytes);
  }
}
