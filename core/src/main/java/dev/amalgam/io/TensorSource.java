package dev.amalgam.io;

import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One tensor's data, read in element ranges. Sources over plain stored data hand out zero-copy
 * views of mapped memory; sources that decode (quantized GGUF) or reorder rows (the Q/K permutation
 * between HF and GGUF layouts) fill a buffer of their own, so a returned buffer is valid only until
 * the next {@link #slice} call on the same source.
 */
public interface TensorSource {
  /** Name, element type and shape as the source presents them. */
  TensorInfo info();

  /** The largest element count one {@link #slice} may return. */
  long maxSliceElements();

  /**
   * A read-only little-endian buffer with elements {@code [firstElement, firstElement +
   * elementCount)} of the flattened row-major tensor in {@link #info()}'s dtype, position 0 and
   * limit at their byte count.
   */
  ByteBuffer slice(long firstElement, long elementCount) throws IOException;

  /**
   * Puts elements {@code [firstElement, firstElement + elementCount)} (as {@link #slice} holds
   * them) into {@code dst} at its position, advancing it. Sources over stored data read straight
   * into {@code dst}, without a buffer of their own; the default copies from {@link #slice} in
   * steps of {@link #maxSliceElements()}.
   *
   * @throws java.nio.BufferOverflowException if {@code dst} has too little room
   */
  default void read(long firstElement, long elementCount, ByteBuffer dst) throws IOException {
    long step = maxSliceElements();
    for (long done = 0; done < elementCount; ) {
      long n = Math.min(step, elementCount - done);
      dst.put(slice(firstElement + done, n));
      done += n;
    }
  }

  /** Drops cached mappings and their resident pages; later slices read again. */
  void release();

  /** Hints that the whole tensor will be read soon. */
  void adviseWillNeed() throws IOException;
}
