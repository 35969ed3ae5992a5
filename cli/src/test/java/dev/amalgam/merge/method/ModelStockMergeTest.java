package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.MiscMethodFixtures.assertMergeEquals;
import static dev.amalgam.merge.method.MiscMethodFixtures.merge;
import static dev.amalgam.merge.method.MiscMethodFixtures.model;
import static dev.amalgam.merge.method.MiscMethodFixtures.runInMemory;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStockMergeTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path base;
  static Path x1;
  static Path x2;
  static Path x3;

  @BeforeAll
  static void generate() throws Exception {
    base = model(models.resolve("base"), DType.BF16, 1, 0, 0);
    x1 = model(models.resolve("x1"), DType.BF16, 1, 0.3, 2);
    x2 = model(models.resolve("x2"), DType.BF16, 1, 0.3, 3);
    x3 = model(models.resolve("x3"), DType.BF16, 1, 0.3, 4);
  }

  /**
   * docs/merge-semantics.md §2.10 in double over {@code [from, to)}; inputs: base first, then the
   * others.
   */
  static void reference(float[][] in, int from, int to, float[] out) {
    int n = in.length - 1;
    double cosines = 0;
    for (int i = 1; i <= n; i++) {
      for (int j = i + 1; j <= n; j++) {
        double dot = 0, ni = 0, nj = 0;
        for (int e = from; e < to; e++) {
          double oi = (double) in[i][e] - in[0][e];
          double oj = (double) in[j][e] - in[0][e];
          dot += oi * oj;
          ni += oi * oi;
          nj += oj * oj;
        }
        cosines += Math.max(-1, Math.min(1, dot / Math.max(Math.sqrt(ni * nj), 1e-6)));
      }
    }
    double c = cosines / (n * (n - 1) / 2);
    double t = 1 + (n - 1) * c == 0 ? 0 : n * c / (1 + (n - 1) * c);
    for (int e = from; e < to; e++) {
      double sum = 0;
      for (int i = 1; i <= n; i++) sum += in[i][e];
      out[e] = (float) (t * (sum / n) + (1 - t) * in[0][e]);
    }
  }

  static float[] reference(TensorInfo info, float[][] in, boolean filterWise) {
    float[] out = new float[in[0].length];
    int row = filterWise ? (int) info.dim(info.rank() - 1) : out.length;
    for (int from = 0; from < out.length; from += row) reference(in, from, from + row, out);
    return out;
  }

  @Test
  void matchesTheReferenceWithTwoAndThreeModelsPerTensorAndPerRow() throws Exception {
    for (boolean filterWise : new boolean[] {false, true}) {
      for (List<Path> others : List.of(List.of(x1, x2), List.of(x1, x2, x3))) {
        Path dir = Files.createDirectories(tmp.resolve(filterWise + "-" + others.size()));
        StringBuilder yaml =
            new StringBuilder("merge_method: model_stock\nbase_model: " + base + "\nmodels:\n");
        for (Path p : others) yaml.append("  - model: ").append(p).append('\n');
        yaml.append("parameters:\n  filter_wise: ").append(filterWise).append('\n');
        merge(dir, yaml.toString()).assertOk();
        // merge order: models: list order, then the unlisted base appended
        List<Path> order = new java.util.ArrayList<>(others);
        order.add(base);
        assertMergeEquals(
            dir.resolve("out"),
            order,
            (t, in) -> {
              float[][] baseFirst = new float[in.length][];
              baseFirst[0] = in[in.length - 1];
              System.arraycopy(in, 0, baseFirst, 1, in.length - 1);
              return reference(t, baseFirst, filterWise);
            });
      }
    }
  }

  private static float[] run(float[][] in, boolean filterWise, long[] shape, long chunk)
      throws Exception {
    TensorInfo info = new TensorInfo("w", DType.F32, shape);
    TensorOperation op =
        ModelStockMerge.METHOD.plan(
            MiscMethodFixtures.context(info, 0, in.length, Map.of("filter_wise", filterWise)));
    return runInMemory(op, in, chunk);
  }

  @Test
  void colinearAntiParallelAndZeroDeltas() throws Exception {
    Random r = new Random(5);
    int n = 40;
    float[] b = new float[n];
    float[] d = new float[n];
    for (int i = 0; i < n; i++) {
      b[i] = r.nextInt(64) / 8f;
      d[i] = r.nextInt(16) / 16f - 0.5f;
    }
    float[] x1 = new float[n];
    float[] x2 = new float[n];
    float[] minus = new float[n];
    float[] mean = new float[n];
    for (int i = 0; i < n; i++) {
      x1[i] = b[i] + d[i];
      x2[i] = b[i] + 2 * d[i];
      minus[i] = b[i] - d[i];
      mean[i] = (float) (((double) x1[i] + x2[i]) / 2);
    }
    long[] shape = {n};
    // colinear: cos 1, t = 1, the average of the models
    assertArrayEquals(mean, run(new float[][] {b, x1, x2}, false, shape, 7));
    // anti-parallel with two models: 1 + (N - 1) c = 0, where mergekit writes inf/NaN; here the
    // base
    assertArrayEquals(b, run(new float[][] {b, x1, minus}, false, shape, 7));
    // zero task vectors: the base
    assertArrayEquals(b, run(new float[][] {b, b.clone(), b.clone()}, true, new long[] {4, 10}, 3));
  }

  @Test
  void resultDoesNotDependOnTheChunkSize() throws Exception {
    Random r = new Random(9);
    float[][] in = new float[4][6 * 35];
    for (float[] a : in) for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
    for (boolean filterWise : new boolean[] {false, true}) {
      float[] whole = run(in, filterWise, new long[] {6, 35}, in[0].length);
      TensorInfo info = new TensorInfo("w", DType.F32, new long[] {6, 35});
      assertArrayEquals(reference(info, in, filterWise), whole);
      for (long chunk : new long[] {1, 8, 34, 64})
        assertArrayEquals(whole, run(in, filterWise, new long[] {6, 35}, chunk));
    }
  }

  @Test
  void configErrorsNameTheYamlPath() throws Exception {
    merge(
            tmp,
            "merge_method: model_stock\nbase_model: " + base + "\nmodels:\n  - model: " + x1 + "\n")
        .assertInvalid("models", "at least 2", "got 1");
    merge(
            tmp,
            "merge_method: model_stock\nmodels:\n  - model: "
                + x1
                + "\n  - model: "
                + x2
                + "\n  - model: "
                + x3
                + "\n")
        .assertInvalid("base_model");
    merge(
            tmp,
            "merge_method: model_stock\nbase_model: "
                + base
                + "\nmodels:\n  - model: "
                + x1
                + "\n  - model: "
                + x2
                + "\nparameters:\n  filter_wise: sometimes\n")
        .assertInvalid("parameters.filter_wise", "true or false");
  }
}
