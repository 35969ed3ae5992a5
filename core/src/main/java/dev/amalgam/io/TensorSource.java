package dev.amalgam.io;

import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One tensor's data, read in element ranges into a buffer the source holds: stored data by
 * positional reads, decoded (quantized GGUF) or reordered (the Q/K permutation between HF and GGUF
 * layouts) data by the source's own work. A returned buffer is therefore valid only until the next
 * {@link #slice} call on the same source (by the same thread) or its {@link #release()}.
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

  /** Drops cached mappings and their resident pages; later slices read again. */
  void release();

  /** Hints that the whole tensor will be read soon. */
  void adviseWillNeed() throws IOException;
}
