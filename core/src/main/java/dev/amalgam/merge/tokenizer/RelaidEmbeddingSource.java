package dev.amalgam.merge.tokenizer;

import dev.amalgam.io.GatheringSource;
import dev.amalgam.io.ScratchBuffer;
import dev.amalgam.io.TensorSource;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One model's embedding matrix (or lm_head) seen as {@code [V_out, hidden]} in the output
 * vocabulary's order: each chunk is gathered from the model's own rows (runs of consecutive rows
 * are copied at once) and the rows the {@link EmbeddingLayout} synthesized, in the model's stored
 * dtype, so the merge method reads it like any tensor.
 */
public final class RelaidEmbeddingSource extends GatheringSource {
  private final EmbeddingLayout layout;
  private final int model;
  private final String layoutName;
  private final long hidden;

  /**
   * @param source the model's own tensor, {@code [rows, hidden]}
   * @param layout the shared layout
   * @param model the model's index in the plan
   * @param layoutName the tensor whose synthesized rows apply (the output tensor's name)
   * @param name the name this view presents
   */
  public RelaidEmbeddingSource(
      TensorSource source, EmbeddingLayout layout, int model, String layoutName, String name) {
    super(source, relaidInfo(source, layout, name), new ScratchBuffer());
    this.layout = layout;
    this.model = model;
    this.layoutName = layoutName;
    this.hidden = info.dim(1);
  }

  private static TensorInfo relaidInfo(TensorSource source, EmbeddingLayout layout, String name) {
    TensorInfo own = source.info();
    if (own.rank() != 2) throw new IllegalArgumentException(own + " is not a matrix");
    return new TensorInfo(name, own.dtype(), new long[] {layout.plan().paddedRows(), own.dim(1)});
  }

  @Override
  protected void gather(long firstElement, long elementCount, ByteBuffer out) throws IOException {
    EmbeddingLayout.Synthesized synth = layout.synthesized(layoutName);
    VocabularyPlan plan = layout.plan();
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
        while (lastRow < endRow
            && lastRow + 1 < plan.tokenCount()
            && plan.usesOwnRow(model, (int) lastRow + 1)
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
        float[] values =
            row < plan.tokenCount() ? synth.rows()[(int) row] : synth.paddingRows()[model];
        int n = (int) Math.min(hidden - col, end - e);
        EmbeddingLayout.encode(values, (int) col, n, info.dtype(), out);
        e += n;
      }
    }
  }
}
