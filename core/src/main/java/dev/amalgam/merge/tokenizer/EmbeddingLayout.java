package dev.amalgam.merge.tokenizer;

import dev.amalgam.io.ModelWeights;
import dev.amalgam.io.TensorSource;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The embedding rows a {@link VocabularyPlan} synthesizes, per embedding tensor: rows taken from
 * another model, means over the models that have a token, and each model's padding row. They are
 * computed in one reduction pass the first time a tensor is read (O(hidden) floats per synthesized
 * row; the matrices themselves are streamed and never held), then {@link RelaidEmbeddingSource}s
 * gather the output rows chunk by chunk.
 */
public final class EmbeddingLayout {
  /** The tensor a model with no lm_head (tied) reads instead. */
  static final String EMBED_TOKENS = "model.embed_tokens.weight";

  private final VocabularyPlan plan;
  private final List<ModelWeights> models;
  private final Map<String, Synthesized> cache = new HashMap<>();

  /**
   * @param plan the vocabulary plan
   * @param models every input's own weights (not re-laid out), in merge order
   */
  public EmbeddingLayout(VocabularyPlan plan, List<ModelWeights> models) {
    this.plan = plan;
    this.models = List.copyOf(models);
  }

  /** The plan the layout follows. */
  public VocabularyPlan plan() {
    return plan;
  }

  /**
   * Rows synthesized for one tensor name: by output row (null when none), and per model its padding
   * row.
   */
  record Synthesized(float[][] rows, float[][] paddingRows) {}

  /** The synthesized rows of {@code name}, computed on first use. */
  synchronized Synthesized synthesized(String name) throws IOException {
    Synthesized s = cache.get(name);
    if (s == null) {
      s = compute(name);
      cache.put(name, s);
    }
    return s;
  }

  private TensorSource source(int model, String name) {
    ModelWeights w = models.get(model);
    return w.data(w.tensor(name).isPresent() ? name : EMBED_TOKENS);
  }

  private Synthesized compute(String name) throws IOException {
    int n = plan.tokenCount();
    float[][] rows = new float[n][];
    int hidden = -1;
    for (int m = 0; m < plan.modelCount(); m++) {
      ModelWeights w = models.get(m);
      long width = w.tensor(name).or(() -> w.tensor(EMBED_TOKENS)).orElseThrow().dim(1);
      hidden = Math.toIntExact(width);
    }
    for (int r = 0; r < n; r++) {
      VocabularyPlan.Fallback f = plan.fallback(r);
      if (f == null) continue;
      switch (f.kind()) {
        case ZERO -> rows[r] = new float[hidden];
        case ROW -> rows[r] = readRow(source(f.model(), name), f.row(), hidden);
        case MEAN -> {
          float[] sum = new float[hidden];
          int count = 0;
          for (int m = 0; m < plan.modelCount(); m++) {
            int old = plan.oldId(m, r);
            if (old < 0) continue;
            float[] row = readRow(source(m, name), old, hidden);
            for (int i = 0; i < hidden; i++) sum[i] += row[i];
            count++;
          }
          for (int i = 0; i < hidden; i++) sum[i] /= count;
          rows[r] = sum;
        }
        default -> throw new IllegalStateException(f.kind().toString());
      }
    }
    float[][] padding = new float[plan.modelCount()][];
    if (plan.paddedRows() > n) {
      for (int m = 0; m < plan.modelCount(); m++) {
        double[] sum = new double[hidden];
        TensorSource src = source(m, name);
        for (int r = 0; r < n; r++) {
          float[] row = plan.usesOwnRow(m, r) ? readRow(src, plan.oldId(m, r), hidden) : rows[r];
          for (int i = 0; i < hidden; i++) sum[i] += row[i];
        }
        float[] mean = new float[hidden];
        for (int i = 0; i < hidden; i++) mean[i] = (float) (sum[i] / n);
        padding[m] = mean;
        src.release();
      }
    }
    for (int m = 0; m < plan.modelCount(); m++) source(m, name).release();
    return new Synthesized(rows, padding);
  }

  /** One row of a [rows, hidden] tensor as floats. */
  static float[] readRow(TensorSource source, long row, int hidden) throws IOException {
    DType type = source.info().dtype();
    ByteBuffer b = source.slice(Math.multiplyExact(row, (long) hidden), hidden);
    float[] out = new float[hidden];
    for (int i = 0; i < hidden; i++) {
      out[i] =
          switch (type) {
            case F32 -> b.getFloat(i * 4);
            case BF16 -> Bf16.toFloat(b.getShort(i * 2));
            case F16 -> F16.toFloat(b.getShort(i * 2));
            default ->
                throw new IllegalArgumentException(
                    source.info().name()
                        + " is "
                        + type
                        + "; only F32, F16 and BF16 embeddings can be re-laid out");
          };
    }
    return out;
  }

  /** Writes floats into {@code out} at its position in {@code type}, advancing it. */
  static void encode(float[] values, int from, int count, DType type, ByteBuffer out) {
    for (int i = from; i < from + count; i++) {
      switch (type) {
        case F32 -> out.putFloat(values[i]);
        case BF16 -> out.putShort(Bf16.fromFloat(values[i]));
        case F16 -> out.putShort(F16.fromFloat(values[i]));
        default -> throw new IllegalArgumentException(type.toString());
      }
    }
  }
}
