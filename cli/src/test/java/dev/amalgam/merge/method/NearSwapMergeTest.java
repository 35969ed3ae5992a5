package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.MiscMethodFixtures.assertMergeEquals;
import static dev.amalgam.merge.method.MiscMethodFixtures.floats;
import static dev.amalgam.merge.method.MiscMethodFixtures.merge;
import static dev.amalgam.merge.method.MiscMethodFixtures.model;
import static dev.amalgam.merge.method.MiscMethodFixtures.tensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NearSwapMergeTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a16;
  static Path b16;
  static Path a32;
  static Path b32;

  @BeforeAll
  static void generate() throws Exception {
    a16 = model(models.resolve("a16"), DType.BF16, 1, 0, 0);
    b16 = model(models.resolve("b16"), DType.BF16, 1, 0.3, 2);
    a32 = model(models.resolve("a32"), DType.F32, 1, 0, 0);
    b32 = model(models.resolve("b32"), DType.F32, 1, 0.3, 2);
  }

  /**
   * docs/merge-semantics.md §2.11 in f32: w = clamp(t / max(|B - X|, 1e-6), 0, 1), out = w X + (1 -
   * w) B.
   */
  static float[] reference(float[] base, float[] other, float t) {
    float[] out = new float[base.length];
    for (int i = 0; i < out.length; i++) {
      float distance = Math.max(Math.abs(base[i] - other[i]), 1e-6f);
      float w = Math.min(1f, Math.max(0f, t / distance));
      out[i] = Math.fma(w, other[i], (1f - w) * base[i]);
    }
    return out;
  }

  static String yaml(Path base, Path other, String t) {
    return "merge_method: nearswap\nbase_model: "
        + base
        + "\nmodels:\n  - model: "
        + other
        + "\nparameters:\n  t: "
        + t
        + "\n";
  }

  @Test
  void matchesTheReferenceInBf16AndF32() throws Exception {
    for (Path[] pair : new Path[][] {{a16, b16}, {a32, b32}}) {
      Path dir = tmp.resolve(pair[0].getFileName().toString());
      java.nio.file.Files.createDirectories(dir);
      merge(dir, yaml(pair[0], pair[1], "0.005")).assertOk();
      assertMergeEquals(
          dir.resolve("out"),
          List.of(pair[1], pair[0]),
          (t, in) -> reference(in[1], in[0], 0.005f));
      // the merge is a real mix: some elements differ from both inputs
      String name = "model.layers.0.mlp.up_proj.weight";
      float[] got = floats(dir.resolve("out"), name);
      float[] base = floats(pair[0], name);
      float[] other = floats(pair[1], name);
      int mixed = 0;
      for (int i = 0; i < got.length; i++) if (got[i] != base[i] && got[i] != other[i]) mixed++;
      assertTrue(mixed > got.length / 10, "mixed elements: " + mixed);
    }
  }

  @Test
  void tZeroGivesTheBaseAndEqualModelsGiveTheModel() throws Exception {
    merge(tmp, yaml(a16, b16, "0")).assertOk();
    for (TensorInfo t : tensors(a16)) {
      assertArrayEquals(floats(a16, t.name()), floats(tmp.resolve("out"), t.name()), t.name());
    }
    float[] base = {1f, -2f, 0f, 3.5f};
    TensorOperation op =
        NearSwapMerge.METHOD.plan(
            MiscMethodFixtures.context(
                new TensorInfo("w", DType.F32, new long[] {4}), 0, 2, java.util.Map.of("t", 0.5)));
    assertArrayEquals(
        base, MiscMethodFixtures.runInMemory(op, new float[][] {base, base.clone()}, 3));
  }

  @Test
  void configErrorsNameTheYamlPath() throws Exception {
    merge(tmp, yaml(a16, b16, "-0.1")).assertInvalid("parameters.t", ">= 0");
    merge(tmp, "merge_method: nearswap\nbase_model: " + a16 + "\nmodels:\n  - model: " + b16 + "\n")
        .assertInvalid("parameters.t", "required");
    merge(
            tmp,
            "merge_method: nearswap\nmodels:\n  - model: "
                + a16
                + "\n  - model: "
                + b16
                + "\nparameters:\n  t: 0.1\n")
        .assertInvalid("base_model");
    merge(
            tmp,
            "merge_method: nearswap\nbase_model: "
                + a16
                + "\nmodels:\n  - model: "
                + b16
                + "\n  - model: "
                + b32
                + "\nparameters:\n  t: 0.1\n")
        .assertInvalid("models", "exactly two models (the base and one other)");
  }
}
