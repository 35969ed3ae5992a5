package dev.amalgam.merge.method;

import static dev.amalgam.merge.method.MiscMethodFixtures.assertMergeEquals;
import static dev.amalgam.merge.method.MiscMethodFixtures.floats;
import static dev.amalgam.merge.method.MiscMethodFixtures.merge;
import static dev.amalgam.merge.method.MiscMethodFixtures.model;
import static dev.amalgam.merge.method.MiscMethodFixtures.tensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PassthroughMergeTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a16;
  static Path a32;

  @BeforeAll
  static void generate() throws Exception {
    a16 = model(models.resolve("a16"), DType.BF16, 3, 0, 0);
    a32 = model(models.resolve("a32"), DType.F32, 3, 0, 0);
  }

  @Test
  void withoutScaleTheModelIsCopied() throws Exception {
    merge(tmp, "merge_method: passthrough\nmodels:\n  - model: " + a16 + "\n").assertOk();
    assertEquals(tensors(a16), tensors(tmp.resolve("out")));
    for (TensorInfo t : tensors(a16)) {
      assertArrayEquals(floats(a16, t.name()), floats(tmp.resolve("out"), t.name()), t.name());
    }
  }

  @Test
  void scaleMultipliesInF32RoundedOnce() throws Exception {
    for (Path in : List.of(a16, a32)) {
      Path dir = tmp.resolve(in.getFileName().toString());
      java.nio.file.Files.createDirectories(dir);
      merge(
              dir,
              "merge_method: passthrough\nmodels:\n  - model: "
                  + in
                  + "\n    parameters:\n      scale:\n"
                  + "        - filter: mlp\n          value: 0.3\n        - value: 1.7\n")
          .assertOk();
      assertMergeEquals(
          dir.resolve("out"),
          List.of(in),
          (t, x) -> {
            float scale = t.name().contains("mlp") ? 0.3f : 1.7f;
            float[] out = new float[x[0].length];
            for (int i = 0; i < out.length; i++) out[i] = scale * x[0][i];
            return out;
          });
    }
  }

  @Test
  void anythingButOneInputIsAConfigError() throws Exception {
    merge(
            tmp,
            "merge_method: passthrough\nmodels:\n  - model: " + a16 + "\n  - model: " + a32 + "\n")
        .assertInvalid("models", "exactly one model", "got 2");
    merge(
            tmp,
            "merge_method: passthrough\nbase_model: " + a32 + "\nmodels:\n  - model: " + a16 + "\n")
        .assertInvalid("models", "exactly one model");
    merge(
            tmp,
            "merge_method: passthrough\nmodels:\n  - model: "
                + a16
                + "\n    parameters:\n      scale: big\n")
        .assertInvalid("models[0].parameters.scale", "number");
  }
}
