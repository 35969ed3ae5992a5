package dev.amalgam.io;

import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A view that presents a tensor by copying pieces of an underlying source (and possibly values of
 * its own) into a scratch buffer chunk by chunk: the Q/K row permutation between layouts, and
 * embeddings re-laid out to another vocabulary. Subclasses say how a range is gathered; range
 * checks, the buffer and the hints to the source are here.
 */
public abstract class GatheringSource implements TensorSource {
  /** The tensor the pieces are copied from. */
  protected final TensorSource source;

  /** What this view presents. */
  protected final TensorInfo info;

  /** Bytes per element of {@link #info}'s dtype. */
  protected final int elementBytes;

  private final ScratchBuffer buffer;

  /**
   * @param source the underlying tensor
   * @param info what this view presents (a whole-byte element type)
   * @param buffer where chunks are gathered; may be shared by the sources of one model view read
   *     one at a time
   */
  protected GatheringSource(TensorSource source, TensorInfo info, ScratchBuffer buffer) {
    this.source = Objects.requireNonNull(source, "source");
    this.info = Objects.requireNonNull(info, "info");
    this.buffer = Objects.requireNonNull(buffer, "buffer");
    if (info.dtype().bits() % 8 != 0)
      throw new IllegalArgumentException("sub-byte types cannot be gathered");
    this.elementBytes = info.dtype().byteSize();
  }

  /** Appends elements {@code [first, first + count)} of this view to {@code out}. */
  protected abstract void gather(long first, long count, ByteBuffer out) throws IOException;

  @Override
  public final TensorInfo info() {
    return info;
  }

  @Override
  public long maxSliceElements() {
    return Math.min(source.maxSliceElements(), Integer.MAX_VALUE / elementBytes);
  }

  @Override
  public final synchronized ByteBuffer slice(long firstElement, long elementCount)
      throws IOException {
    Objects.checkFromIndexSize(firstElement, elementCount, info.elementCount());
    if (elementCount > maxSliceElements()) {
      throw new IllegalArgumentException(
          "slice of " + elementCount + " elements is larger than " + maxSliceElements());
    }
    ByteBuffer out = buffer.get(Math.toIntExact(elementCount * elementBytes));
    gather(firstElement, elementCount, out);
    return out.flip().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public void release() {
    source.release();
  }

  @Override
  public void adviseWillNeed() throws IOException {
    source.adviseWillNeed();
  }
}
