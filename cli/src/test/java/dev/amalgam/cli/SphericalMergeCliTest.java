package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.TINY;
import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nuslerp, multislerp, karcher and arcee_fusion through the CLI: end to end on bf16 models, and
 * config errors.
 */
class SphericalMergeCliTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a;
  static Path b;
  static Path c;

  @BeforeAll
  static void generate() throws Exception {
    a = model(models.resolve("a"), TINY, DType.BF16, 1, 0, 0);
    b = model(models.resolve("b"), TINY, DType.BF16, 1, 0.4, 2);
    c = model(models.resolve("c"), TINY, DType.BF16, 1, 0.4, 3);
  }

  private CliHarness.Run merge(String yaml, String out, String... extra) throws Exception {
    Path cfg = config(tmp, out + ".yml", yaml);
    String[] args = new String[3 + extra.length];
    args[0] = "merge";
    args[1] = cfg.toString();
    args[2] = tmp.resolve(out).toString();
    System.arraycopy(extra, 0, args, 3, extra.length);
    String[] all = java.util.Arrays.copyOf(args, args.length + 1);
    all[args.length] = "--no-progress";
    return run(all);
  }

  @Test
  void everyMethodMergesBf16ModelsIndependentlyOfTheThreadCount() throws Exception {
    String[] yamls = {
      "merge_method: nuslerp\nbase_model: "
          + a
          + "\nmodels:\n  - model: "
          + b
          + "\n    parameters: {weight: 1}\n"
          + "  - model: "
          + c
          + "\n    parameters: {weight: 2}\nparameters:\n  nuslerp_flatten: false\n",
      "merge_method: multislerp\nmodels:\n  - model: "
          + a
          + "\n  - model: "
          + b
          + "\n  - model: "
          + c
          + "\nparameters:\n  weight: 1\n",
      "merge_method: karcher\nbase_model: "
          + a
          + "\nmodels:\n  - model: "
          + b
          + "\n  - model: "
          + c
          + "\n",
      "merge_method: arcee_fusion\nbase_model: " + a + "\nmodels:\n  - model: " + b + "\n"
    };
    for (int k = 0; k < yamls.length; k++) {
      merge(yamls[k], "one" + k, "-j", "1").assertOk();
      merge(yamls[k], "two" + k, "-j", "2").assertOk();
      assertArrayEquals(
          Files.readAllBytes(tmp.resolve("one" + k + "/model.safetensors")),
          Files.readAllBytes(tmp.resolve("two" + k + "/model.safetensors")),
          yamls[k]);
      try (SafetensorsModel m = SafetensorsModel.open(tmp.resolve("one" + k))) {
        assertEquals(
            DType.BF16, m.tensor("model.norm.weight").orElseThrow().dtype(), "bf16 in, bf16 out");
      }
    }
    // nuslerp t = 0 (all weight on the first model) with a base gives the first model back
    merge(
            "merge_method: nuslerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + b
                + "\n    parameters: {weight: 1}\n"
                + "  - model: "
                + c
                + "\n    parameters: {weight: 0}\n",
            "t0")
        .assertOk();
    String q = "model.layers.1.self_attn.q_proj.weight";
    assertArrayEquals(CliHarness.bytes(b, q), CliHarness.bytes(tmp.resolve("t0"), q));
  }

  @Test
  void configErrorsNameTheYamlPathAndExitWithTwo() throws Exception {
    merge(
            "merge_method: nuslerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n    parameters: {weight: 1}\n"
                + "  - model: "
                + b
                + "\n    parameters: {weight: 1}\n",
            "e1")
        .assertInvalid("base_model", "third model");
    merge(
            "merge_method: nuslerp\nmodels:\n  - model: " + a + "\n    parameters: {weight: 1}\n",
            "e2")
        .assertInvalid("models", "exactly two");
    merge(
            "merge_method: nuslerp\nmodels:\n  - model: "
                + a
                + "\n    parameters: {weight: 1}\n  - model: "
                + b
                + "\n",
            "e3")
        .assertInvalid("models[1].parameters.weight");
    merge(
            "merge_method: multislerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + b
                + "\n    parameters: {weight: 1}\n",
            "e4")
        .assertInvalid("models", "two or more");
    merge(
            "merge_method: multislerp\nmodels:\n  - model: "
                + a
                + "\n    parameters: {weight: 1}\n  - model: "
                + b
                + "\n    parameters: {weight: -1}\n",
            "e5")
        .assertInvalid("parameters.normalize_weights", "sum to zero");
    merge(
            "merge_method: multislerp\nmodels:\n  - model: "
                + a
                + "\n  - model: "
                + b
                + "\nparameters:\n  weight: 1\n"
                + "  eps: 0\n",
            "e6")
        .assertInvalid("parameters.eps");
    merge("merge_method: karcher\nmodels:\n  - model: " + a + "\n", "e7")
        .assertInvalid("models", "two or more");
    merge(
            "merge_method: karcher\nmodels:\n  - model: "
                + a
                + "\n  - model: "
                + b
                + "\nparameters:\n  max_iter: 2.5\n",
            "e8")
        .assertInvalid("parameters.max_iter");
    merge("merge_method: arcee_fusion\nmodels:\n  - model: " + a + "\n  - model: " + b + "\n", "e9")
        .assertInvalid("base_model");
    merge(
            "merge_method: arcee_fusion\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + b
                + "\n  - model: "
                + c
                + "\n",
            "e10")
        .assertInvalid("models", "exactly two");
  }
}
