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
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SceMergeTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path base;
  static Path x1;
  static Path x2;

  @BeforeAll
  static void generate() throws Exception {
    base = model(models.resolve("base"), DType.BF16, 1, 0, 0);
    x1 = model(models.resolve("x1"), DType.BF16, 1, 0.3, 2);
    x2 = model(models.resolve("x2"), DType.BF16, 1, 0.3, 3);
  }

  /**
   * docs/merge-semantics.md §2.8 over whole tensors, selecting by sorting (the method must not
   * sort): variance ranked as f32, ties by lower index. Inputs: base first, then the others.
   */
  static float[] reference(float[][] in, double topk) {
    int m = in.length - 1;
    int n = in[0].length;
    double[][] tau = new double[m][n];
    for (int i = 0; i < m; i++)
      for (int e = 0; e < n; e++) tau[i][e] = (double) in[i + 1][e] - in[0][e];
    boolean[] keep = new boolean[n];
    if (topk >= 1) {
      Arrays.fill(keep, true);
    } else if (topk > 0) {
      float[] var = new float[n];
      int nonzero = 0;
      for (int e = 0; e < n; e++) {
        double mean = 0;
        for (int i = 0; i < m; i++) mean += tau[i][e];
        mean /= m;
        double v = 0;
        for (int i = 0; i < m; i++) v += (tau[i][e] - mean) * (tau[i][e] - mean);
        var[e] = (float) (v / m);
        if (var[e] != 0) nonzero++;
      }
      long k = (long) (nonzero * topk);
      Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
      Arrays.sort(
          order, Comparator.<Integer>comparingDouble(e -> -var[e]).thenComparingInt(e -> e));
      for (int r = 0; r < k; r++) keep[order[r]] = true;
    }
    for (int i = 0; i < m; i++) for (int e = 0; e < n; e++) if (!keep[e]) tau[i][e] = 0;
    double[] s = new double[m];
    double sum = 0;
    for (int i = 0; i < m; i++) {
      for (int e = 0; e < n; e++) s[i] += tau[i][e] * tau[i][e];
      s[i] /= n;
      sum += s[i];
    }
    for (int i = 0; i < m; i++) s[i] = Math.abs(sum) < 1e-6 ? 1.0 / m : s[i] / sum;
    float[] out = new float[n];
    for (int e = 0; e < n; e++) {
      double total = 0;
      for (int i = 0; i < m; i++) total += tau[i][e];
      double sign = total >= 0 ? 1 : -1;
      double num = 0, den = 0;
      for (int i = 0; i < m; i++) {
        if (Math.signum(tau[i][e]) == sign) {
          num += s[i] * tau[i][e];
          den += s[i];
        }
      }
      out[e] = (float) (in[0][e] + num / Math.max(den, 1e-6));
    }
    return out;
  }

  @Test
  void matchesTheReferenceForSeveralSelectTopk() throws Exception {
    for (String topk : List.of("1", "0.5", "0.01", "0")) {
      Path dir = Files.createDirectories(tmp.resolve("k" + topk));
      merge(
              dir,
              "merge_method: sce\nbase_model: "
                  + base
                  + "\nmodels:\n  - model: "
                  + x1
                  + "\n  - model: "
                  + x2
                  + "\nparameters:\n  select_topk: "
                  + topk
                  + "\n")
          .assertOk();
      double k = Double.parseDouble(topk);
      assertMergeEquals(
          dir.resolve("out"),
          List.of(x1, x2, base),
          (t, in) -> reference(new float[][] {in[2], in[0], in[1]}, k));
    }
  }

  private static float[] run(float[][] in, double topk, long chunk) throws Exception {
    TensorInfo info = new TensorInfo("w", DType.F32, new long[] {in[0].length});
    TensorOperation op =
        SceMerge.METHOD.plan(
            MiscMethodFixtures.context(
                info, 0, in.length, Map.of("select_topk", topk, "int8_mask", false)));
    return runInMemory(op, in, chunk);
  }

  @Test
  void tiesAtTheThresholdAreKeptByIndexAtAnyChunkSize() throws Exception {
    // deltas from a few values: many elements share each variance, so the threshold falls inside a
    // tie
    Random r = new Random(3);
    float[][] in = new float[4][300];
    for (int e = 0; e < 300; e++) {
      in[0][e] = r.nextInt(8) - 4;
      for (int i = 1; i < 4; i++) in[i][e] = in[0][e] + (r.nextInt(5) - 2) * 0.5f;
    }
    for (double topk : new double[] {1, 0.37, 0.1, 1e-3, 0}) {
      float[] want = reference(in, topk);
      for (long chunk : new long[] {1, 7, 64, 300})
        assertArrayEquals(want, run(in, topk, chunk), "topk " + topk);
    }
  }

  @Test
  void zeroTaskVectorsGiveTheBase() throws Exception {
    float[] b = {1f, -2f, 3f, 0.5f};
    assertArrayEquals(b, run(new float[][] {b, b.clone(), b.clone()}, 0.5, 3));
    assertArrayEquals(b, run(new float[][] {b, b.clone(), b.clone()}, 1, 3));
  }

  @Test
  void configErrorsNameTheYamlPath() throws Exception {
    String models = "base_model: " + base + "\nmodels:\n  - model: " + x1 + "\n";
    merge(tmp, "merge_method: sce\n" + models + "parameters:\n  select_topk: 1.5\n")
        .assertInvalid("parameters.select_topk", "[0, 1]");
    merge(tmp, "merge_method: sce\n" + models + "parameters:\n  int8_mask: maybe\n")
        .assertInvalid("parameters.int8_mask");
    merge(tmp, "merge_method: sce\nmodels:\n  - model: " + x1 + "\n  - model: " + x2 + "\n")
        .assertInvalid("base_model");
    merge(
            tmp,
            "merge_method: sce\n"
                + models
                + "  - model: "
                + x2
                + "\n    parameters:\n      weight: 1\n")
        .assertInvalid("models[1].parameters.weight");
  }
}
