package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.TINY;
import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shapes of mergekit's example configurations (docs/merge-semantics.md §3: ties.yml with
 * density and weight gradients and a filtered weight, the 44-layer passthrough frankenmerge,
 * gradient SLERP, arcee_fusion, a DARE merge) run unchanged on tiny generated models.
 */
class MergekitExamplesTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path base;
  static Path x;
  static Path y;
  static Path z;

  @BeforeAll
  static void generate() throws Exception {
    base = model(models.resolve("base"), TINY, DType.F16, 1, 0, 0);
    x = model(models.resolve("x"), TINY, DType.F16, 1, 0.3, 2);
    y = model(models.resolve("y"), TINY, DType.F16, 1, 0.3, 3);
    z = model(models.resolve("z"), TINY, DType.F16, 1, 0.3, 4);
  }

  private int layersOf(Path out) throws Exception {
    return new ObjectMapper()
        .readTree(out.resolve("config.json").toFile())
        .get("num_hidden_layers")
        .asInt();
  }

  @Test
  void tiesWithGradientsAndFilters() throws Exception {
    Path cfg =
        config(
            tmp,
            "ties.yml",
            String.join(
                "\n",
                "models:",
                "  - model: " + x,
                "    parameters:",
                "      density: [1, 0.7, 0.1] # density gradient",
                "      weight: 1.0",
                "  - model: " + y,
                "    parameters:",
                "      density: 0.5",
                "      weight: [0, 0.3, 0.7, 1] # weight gradient",
                "  - model: " + z,
                "    parameters:",
                "      density: 0.33",
                "      weight:",
                "        - filter: mlp",
                "          value: 0.5",
                "        - value: 0",
                "merge_method: ties",
                "base_model: " + base,
                "parameters:",
                "  normalize: true",
                "  int8_mask: true",
                "dtype: float16",
                ""));
    Path out = tmp.resolve("ties");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();
    assertEquals(TINY.layers(), layersOf(out));
  }

  @Test
  void passthroughFrankenmergeWithOverlappingSlices() throws Exception {
    // orcamini-platy-44layer.yml's shape: [0, 24) of one model + [20, 40) of another -> 44 layers;
    // here 3 + 3
    Path cfg =
        config(
            tmp,
            "franken.yml",
            String.join(
                "\n",
                "slices:",
                "  - sources:",
                "      - model: " + x,
                "        layer_range: [0, 3]",
                "  - sources:",
                "      - model: " + y,
                "        layer_range: [1, 4]",
                "merge_method: passthrough",
                "dtype: float16",
                ""));
    Path out = tmp.resolve("franken");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();
    assertEquals(6, layersOf(out));
  }

  @Test
  void gradientSlerpDareAndArceeFusion() throws Exception {
    Path slerp =
        config(
            tmp,
            "slerp.yml",
            String.join(
                "\n",
                "slices:",
                "  - sources:",
                "      - model: " + base,
                "        layer_range: [0, 4]",
                "      - model: " + x,
                "        layer_range: [0, 4]",
                "merge_method: slerp",
                "base_model: " + base,
                "parameters:",
                "  t:",
                "    - filter: self_attn",
                "      value: [0, 0.5, 0.3, 0.7, 1]",
                "    - filter: mlp",
                "      value: [1, 0.5, 0.7, 0.3, 0]",
                "    - value: 0.5",
                "dtype: float16",
                ""));
    run("merge", slerp.toString(), tmp.resolve("slerp").toString(), "--no-progress").assertOk();
    Path dare =
        config(
            tmp,
            "dare.yml",
            String.join(
                "\n",
                "models:",
                "  - model: " + base,
                "  - model: " + x,
                "    parameters:",
                "      density: 0.53",
                "      weight: 0.4",
                "  - model: " + y,
                "    parameters:",
                "      density: 0.53",
                "      weight: 0.3",
                "merge_method: dare_ties",
                "base_model: " + base,
                "parameters:",
                "  int8_mask: true",
                "dtype: bfloat16",
                ""));
    run(
            "merge",
            dare.toString(),
            tmp.resolve("dare").toString(),
            "--no-progress",
            "--random-seed",
            "7")
        .assertOk();
    Path fusion =
        config(
            tmp,
            "fusion.yml",
            String.join(
                "\n",
                "models:",
                "  - model: " + base,
                "  - model: " + x,
                "merge_method: arcee_fusion",
                "base_model: " + base,
                "dtype: bfloat16",
                ""));
    run("merge", fusion.toString(), tmp.resolve("fusion").toString(), "--no-progress").assertOk();
  }

  @Test
  void modulesFormEqualsModelsAndSlicesAndRanksModuleParametersAboveTopLevel() throws Exception {
    // modules: {default: ...} is mergekit's single-module form of the same merge (plan.py
    // normalises models: and
    // slices: into it), so each output tensor must be byte-identical to the plain form's.
    Path plain =
        config(
            tmp,
            "plain.yml",
            String.join(
                "\n",
                "models:",
                "  - model: " + base,
                "  - model: " + x,
                "merge_method: slerp",
                "base_model: " + base,
                "parameters:",
                "  t:",
                "    - filter: self_attn",
                "      value: 0.2",
                "    - value: 0.7",
                "dtype: float16",
                ""));
    // The module's t applies to self_attn; for every other tensor its filter matches nothing, so
    // the lookup falls
    // through to the top-level t, as mergekit's precedence does (source, slice, module, top level).
    Path modules =
        config(
            tmp,
            "modules.yml",
            String.join(
                "\n",
                "modules:",
                "  default:",
                "    models:",
                "      - model: " + base,
                "      - model: " + x,
                "    parameters:",
                "      t:",
                "        - filter: self_attn",
                "          value: 0.2",
                "merge_method: slerp",
                "base_model: " + base,
                "parameters:",
                "  t: 0.7",
                "dtype: float16",
                ""));
    Path slices =
        config(
            tmp,
            "slices.yml",
            String.join(
                "\n",
                "modules:",
                "  default:",
                "    slices:",
                "      - sources:",
                "          - model: " + base,
                "            layer_range: [0, 4]",
                "          - model: " + x,
                "            layer_range: [0, 4]",
                "        parameters:",
                "          t:",
                "            - filter: self_attn",
                "              value: 0.2",
                "    parameters:",
                "      t: 0.7",
                "merge_method: slerp",
                "base_model: " + base,
                "parameters:",
                "  t: 0.1",
                "dtype: float16",
                ""));
    run("merge", plain.toString(), tmp.resolve("plain").toString(), "--no-progress").assertOk();
    run("merge", modules.toString(), tmp.resolve("modules").toString(), "--no-progress").assertOk();
    run("merge", slices.toString(), tmp.resolve("slices").toString(), "--no-progress").assertOk();
    for (String tensor :
        new String[] {
          "model.layers.1.self_attn.q_proj.weight",
          "model.layers.2.mlp.up_proj.weight",
          "model.embed_tokens.weight",
          "model.norm.weight"
        }) {
      byte[] expected = CliHarness.bytes(tmp.resolve("plain"), tensor);
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          expected, CliHarness.bytes(tmp.resolve("modules"), tensor), tensor);
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          expected, CliHarness.bytes(tmp.resolve("slices"), tensor), tensor);
    }
    // Each config would differ from the plain merge if the module level were skipped: modules.yml's
    // self_attn
    // would take the top-level 0.7 instead of 0.2, and slices.yml's mlp the top-level 0.1 instead
    // of 0.7.
  }

  @Test
  void modulesErrorsNameTheYamlPath() throws Exception {
    String models = "    models:\n      - model: " + base + "\n      - model: " + x + "\n";
    String[][] cases = {
      {
        "modules:\n  vision_tower:\n" + models,
        "modules.vision_tower",
        "Llama-family models have one module"
      },
      {
        "modules:\n  default:\n" + models + "models:\n  - model: " + x + "\n",
        "modules",
        "exactly one of models, slices or modules"
      },
      {
        "modules:\n  default:\n    parameters: {t: 0.5}\n",
        "modules.default",
        "exactly one of models or slices"
      },
      {
        "modules:\n  default:\n" + models + "    weights: 1\n",
        "modules.default.weights",
        "unknown key"
      },
      {
        "modules:\n  default:\n" + models + "    parameters: {density: 0.5}\n",
        "modules.default.parameters.density",
        "density"
      },
      {"modules: {}\n", "modules", "must define the module 'default'"}
    };
    for (String[] c : cases) {
      Path cfg =
          config(
              tmp,
              "bad.yml",
              c[0] + "merge_method: slerp\nbase_model: " + base + "\nparameters: {t: 0.5}\n");
      CliHarness.Run r = run("check", cfg.toString());
      assertEquals(2, r.exitCode(), c[0] + r.err());
      org.junit.jupiter.api.Assertions.assertTrue(
          r.err().contains(c[1]) && r.err().contains(c[2]), c[0] + "\n" + r.err());
    }
  }
}
