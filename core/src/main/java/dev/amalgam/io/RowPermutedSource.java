package dev.amalgam.io;

import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.LongUnaryOperator;

/**
 * A tensor seen with its rows reordered: row {@code r} of this view is row {@code sourceRow(r)} of
 * the underlying source. This is how the HF and GGUF layouts of the attention Q and K matrices meet
 * (a fixed row permutation per head): the rows are gathered chunk by chunk into a buffer of this
 * view's own, so no tensor is ever held whole.
 */
public final class RowPermutedSource extends GatheringSource {
  private final long rowLength;
  private final long rows;
  private final LongUnaryOperator sourceRow;

  /**
   * Wraps {@code source}.
   *
   * @param info what this view presents (name, dtype and shape; same dtype and element count as the
   *     source)
   * @param rowLength elements per row (the innermost dimension)
   * @param sourceRow maps a row of this view to the source row holding its data; must be a
   *     permutation
   */
  public RowPermutedSource(
      TensorSource source, TensorInfo info, long rowLength, LongUnaryOperator sourceRow) {
    this(source, info, rowLength, sourceRow, new ScratchBuffer());
  }

  /**
   * As above, gathering into {@code buffer} (shared by the sources of one model, used one at a
   * time).
   */
  public RowPermutedSource(
      TensorSource source,
      TensorInfo info,
      long rowLength,
      LongUnaryOperator sourceRow,
      ScratchBuffer buffer) {
    super(source, info, buffer);
    this.sourceRow = Objects.requireNonNull(sourceRow, "sourceRow");
    if (info.dtype() != source.info().dtype()
        || info.elementCount() != source.info().elementCount()) {
      throw new IllegalArgumentException(
          "view " + info + " does not match its source " + source.info());
    }
    if (rowLength <= 0 || info.elementCount() % rowLength != 0) {
      throw new IllegalArgumentException("row length " + rowLength + " does not divide " + info);
    }
    this.rowLength = rowLength;
    this.rows = info.elementCount() / rowLength;
  }

  @Override
  protected void gather(long firstElement, long elementCount, ByteBuffer out) throws IOException {
    long firstRow = firstElement / rowLength;
    long lastRow = elementCount == 0 ? firstRow : (firstElement + elementCount - 1) / rowLength;
    // The Q/K permutation only moves rows within a head, so the source rows of a chunk usually lie
    // in a window
    // little larger than the chunk: map that window once instead of slicing the source row by row.
    long lo = Long.MAX_VALUE;
    long hi = Long.MIN_VALUE;
    for (long r = firstRow; r <= lastRow && elementCount > 0; r++) {
      long from = sourceRow.applyAsLong(r);
      if (from < 0 || from >= rows)
        throw new IllegalStateException("row " + r + " maps to " + from);
      lo = Math.min(lo, from);
      hi = Math.max(hi, from);
    }
    long windowElements = elementCount == 0 ? 0 : (hi - lo + 1) * rowLength;
    ByteBuffer window = null;
    if (elementCount > 0
        && windowElements <= 2 * Math.max(elementCount, rowLength)
        && windowElements <= source.maxSliceElements()) {
      window = source.slice(lo * rowLength, windowElements);
    }
    long e = firstElement;
    long end = firstElement + elementCount;
    while (e < end) {
      long row = e / rowLength;
      long col = e % rowLength;
      long n = Math.min(rowLength - col, end - e);
      long from = sourceRow.applyAsLong(row);
      if (window != null) {
        int at = Math.toIntExact(((from - lo) * rowLength + col) * elementBytes);
        out.put(out.position(), window, at, Math.toIntExact(n * elementBytes));
        out.position(out.position() + Math.toIntExact(n * elementBytes));
      } else {
        out.put(source.slice(from * rowLength + col, n));
      }
      e += n;
    }
  }
}
