package dev.amalgam.merge.tokenizer;

import dev.amalgam.io.ScratchBuffer;
import dev.amalgam.io.TensorSource;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * One model's embedding matrix (or lm_head) seen as {@code [V_out, hidden]} in the output vocabulary's order: each
 * chunk is gathered from the model's own rows (runs of consecutive rows are copied at once) and the rows the
 * {@link EmbeddingLayout} synthesized, in the model's stored dtype, so the merge method reads it like any tensor.
 */
public final class RelaidEmbeddingSource implements TensorSource {
  private final TensorSource source;
  private final EmbeddingLayout layout;
  private final int model;
  private final String layoutName;
  private final TensorInfo info;
  private final long hidden;
  private final int elementBytes;
  private final ScratchBuffer buffer = new ScratchBuffer();

  /**
   * @param source the model's own tensor, {@code [rows, hidden]}
   * @param layout the shared layout
   * @param model the model's index in the plan
   * @param layoutName the tensor whose synthesized rows apply (the output tensor's name)
   * @param name the name this view presents
   */
  public RelaidEmbeddingSource(TensorSource source, EmbeddingLayout layout, int model, String layoutName,
      String name) {
    this.source = Objects.requireNonNull(source, "source");
    this.layout = layout;
    this.model = model;
    this.layoutName = layoutName;
    TensorInfo own = source.info();
    if (own.rank() != 2) throw new IllegalArgumentException(own + " is not a matrix");
    this.hidden = own.dim(1);
    this.info = new TensorInfo(name, own.dtype(), new long[] {layout.plan().paddedRows(), hidden});
    this.elementBytes = own.dtype().byteSize();
  }

  @Override
  public TensorInfo info() {
    return info;
  }

  @Override
  public long maxSliceElements() {
    return Math.min(source.maxSliceElements(), Integer.MAX_VALUE / elementBytes);
  }

  @Override
  public synchronized ByteBuffer slice(long firstElement, long elementCount) throws IOException {
    Objects.checkFromIndexSize(firstElement, elementCount, info.elementCount());
    if (elementCount > maxSliceElements()) {
      throw new IllegalArgumentException("slice of " + elementCount + " elements is larger than " + maxSliceElements());
    }
    EmbeddingLayout.Synthesized synth = layout.synthesized(layoutName);
    VocabularyPlan plan = layout.plan();
    ByteBuffer out = buffer.get(Math.toIntExact(elementCount * elementBytes));
    long e = firstElement;
    long end = firstElement + elementCount;
    while (e < end) {
      long row = e / hidden;
      long col = e % hidden;
      if (row < plan.tokenCount() && plan.usesOwnRow(model, (int) row)) {
        // extend over following rows whose own rows are consecutive too
        long old = plan.oldId(model, (int) row);
        long lastRow = row;
        long endRow = (end - 1) / hidden;
        while (lastRow < endRow && lastRow + 1 < plan.tokenCount() && plan.usesOwnRow(model, (int) lastRow + 1)
            && plan.oldId(model, (int) lastRow + 1) == old + (lastRow + 1 - row)) {
          lastRow++;
        }
        long n = Math.min((lastRow + 1) * hidden, end) - e;
        long from = old * hidden + col;
        while (n > 0) {
          long take = Math.min(n, source.maxSliceElements());
          out.put(source.slice(from, take));
          from += take;
          n -= take;
          e += take;
        }
      } else {
        float[] values = row < plan.tokenCount() ? synth.rows()[(int) row] : synth.paddingRows()[model];
        int n = (int) Math.min(hidden - col, end - e);
        EmbeddingLayout.encode(values, (int) col, n, info.dtype(), out);
        e += n;
      }
    }
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
