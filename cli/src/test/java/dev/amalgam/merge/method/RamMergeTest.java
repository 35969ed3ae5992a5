package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.MiscMethodFixtures.assertMergeEquals;
import static dev.amalgam.merge.method.MiscMethodFixtures.merge;
import static dev.amalgam.merge.method.MiscMethodFixtures.model;
import static dev.amalgam.merge.method.MiscMethodFixtures.runInMemory;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RamMergeTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path base;
  static Path x1;
  static Path x2;
  static Path x3;

  @BeforeAll
  static void generate() throws Exception {
    // bf16 models that share most values with the base: a sparse noise makes shared and unique
    // changes
    base = model(models.resolve("base"), DType.BF16, 1, 0, 0);
    x1 = model(models.resolve("x1"), DType.BF16, 1, 0.02, 2);
    x2 = model(models.resolve("x2"), DType.BF16, 1, 0.02, 3);
    x3 = model(models.resolve("x3"), DType.F32, 1, 0.02, 4);
  }

  /** docs/merge-semantics.md §2.9 in double; inputs: base first, then the others. */
  static float[] reference(float[][] in, double eps, boolean plus, double r, double alpha) {
    int m = in.length - 1;
    int n = in[0].length;
    double[] lambda = new double[m];
    java.util.Arrays.fill(lambda, 1);
    if (plus) {
      long[] shared = new long[m];
      long[] unique = new long[m];
      for (int e = 0; e < n; e++) {
        int c = 0;
        for (int i = 1; i <= m; i++) if (Math.abs((double) in[i][e] - in[0][e]) > eps) c++;
        for (int i = 1; i <= m; i++) {
          if (Math.abs((double) in[i][e] - in[0][e]) > eps) {
            if (c == 1) unique[i - 1]++;
            else shared[i - 1]++;
          }
        }
      }
      for (int i = 0; i < m; i++) {
        double rho = shared[i] / Math.max(unique[i], eps);
        lambda[i] = 1 + r * Math.min(alpha, Math.max(0, rho));
      }
    }
    float[] out = new float[n];
    for (int e = 0; e < n; e++) {
      int c = 0;
      for (int i = 1; i <= m; i++) if (Math.abs((double) in[i][e] - in[0][e]) > eps) c++;
      double merged = 0;
      for (int i = 1; i <= m; i++) {
        double tau = (double) in[i][e] - in[0][e];
        if (Math.abs(tau) > eps) merged += c == 1 ? lambda[i - 1] * tau : tau / c;
      }
      out[e] = (float) (in[0][e] + merged);
    }
    return out;
  }

  @Test
  void ramAndRamPlusMatchTheReference() throws Exception {
    for (String method : List.of("ram", "ramplus_tl")) {
      Path dir = Files.createDirectories(tmp.resolve(method));
      String params =
          method.equals("ram") ? "  epsilon: 0.001\n" : "  epsilon: 0.001\n  r: 0.5\n  alpha: 3\n";
      merge(
              dir,
              "merge_method: "
                  + method
                  + "\nbase_model: "
                  + base
                  + "\nmodels:\n  - model: "
                  + x1
                  + "\n  - model: "
                  + x2
                  + "\n  - model: "
                  + x3
                  + "\nparameters:\n"
                  + params)
          .assertOk();
      assertEquals(
          DType.F32,
          MiscMethodFixtures.dtype(dir.resolve("out"), "model.norm.weight"),
          "mixed inputs");
      boolean plus = method.equals("ramplus_tl");
      assertMergeEquals(
          dir.resolve("out"),
          List.of(x1, x2, x3, base),
          (t, in) -> reference(new float[][] {in[3], in[0], in[1], in[2]}, 0.001, plus, 0.5, 3));
    }
  }

  private static float[] run(MergeMethod method, float[][] in, Map<String, Object> params)
      throws Exception {
    TensorInfo info = new TensorInfo("w", DType.F32, new long[] {in[0].length});
    return runInMemory(method.plan(MiscMethodFixtures.context(info, 0, in.length, params)), in, 2);
  }

  @Test
  void epsilonDecidesWhatCountsAsAChange() throws Exception {
    float[] b = {0f, 0f, 0f, 0f, 1f};
    float[] x1 = {0.5f, 0.5f, 0.25f, 0f, 1f};
    float[] x2 = {0.25f, -0.5f, 0f, 0f, 1f};
    float[][] in = {b, x1, x2};
    // epsilon 0.3: x2's 0.25 is no change, so element 0 takes x1 alone; element 2 is unique to x1
    // as well
    assertArrayEquals(
        new float[] {0.5f, 0f, 0f, 0f, 1f}, run(RamMerge.RAM, in, Map.of("epsilon", 0.3)));
    assertArrayEquals(
        new float[] {0.375f, 0f, 0.25f, 0f, 1f}, run(RamMerge.RAM, in, Map.of("epsilon", 0.0)));
    // ramplus_tl at epsilon 0: x1 has 2 shared, 1 unique -> rho 2, clamped to alpha 0.5 -> lambda 1
    // + 0.1 * 0.5
    float[] plus = run(RamMerge.RAMPLUS_TL, in, Map.of("epsilon", 0.0, "r", 0.1, "alpha", 0.5));
    assertArrayEquals(new float[] {0.375f, 0f, (float) (0.25 * 1.05), 0f, 1f}, plus);
    // x2 has no unique element and epsilon 0: no NaN (mergekit's 0/0), unchanged elements stay
    float[][] noUnique = {b, b.clone(), b.clone()};
    assertArrayEquals(
        b, run(RamMerge.RAMPLUS_TL, noUnique, Map.of("epsilon", 0.0, "r", 0.1, "alpha", 0.2)));
    assertEquals(1.0, RamMerge.boost(0, 0, 0, 0.1, 0.2));
  }

  @Test
  void configErrorsNameTheYamlPath() throws Exception {
    String models = "base_model: " + base + "\nmodels:\n  - model: " + x1 + "\n";
    merge(tmp, "merge_method: ram\n" + models + "parameters:\n  epsilon: -1\n")
        .assertInvalid("parameters.epsilon", ">= 0");
    merge(tmp, "merge_method: ramplus_tl\n" + models + "parameters:\n  alpha: -0.5\n")
        .assertInvalid("parameters.alpha", ">= 0");
    merge(tmp, "merge_method: ram\n" + models + "parameters:\n  r: 0.5\n")
        .assertInvalid("parameters.r");
    merge(tmp, "merge_method: ram\nmodels:\n  - model: " + x1 + "\n  - model: " + x2 + "\n")
        .assertInvalid("base_model");
    merge(
            tmp,
            "merge_method: ramplus_tl\nbase_model: "
                + base
                + "\nmodels:\n  - model: "
                + base
                + "\n")
        .assertInvalid("models", "at least 1");
  }
}
