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
 * The shapes of mergekit's example configurations (merge-semantics.md 3: ties.yml with density and weight
 * gradients and a filtered weight, the 44-layer passthrough frankenmerge, gradient SLERP, arcee_fusion, a DARE
 * merge) run unchanged on tiny generated models.
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
    return new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("num_hidden_layers").asInt();
  }

  @Test
  void tiesWithGradientsAndFilters() throws Exception {
    Path cfg = config(tmp, "ties.yml", String.join("\n",
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
        "dtype: float16", ""));
    Path out = tmp.resolve("ties");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();
    assertEquals(TINY.layers(), layersOf(out));
  }

  @Test
  void passthroughFrankenmergeWithOverlappingSlices() throws Exception {
    // orcamini-platy-44layer.yml's shape: [0, 24) of one model + [20, 40) of another -> 44 layers; here 3 + 3
    Path cfg = config(tmp, "franken.yml", String.join("\n",
        "slices:",
        "  - sources:",
        "      - model: " + x,
        "        layer_range: [0, 3]",
        "  - sources:",
        "      - model: " + y,
        "        layer_range: [1, 4]",
        "merge_method: passthrough",
        "dtype: float16", ""));
    Path out = tmp.resolve("franken");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();
    assertEquals(6, layersOf(out));
  }

  @Test
  void gradientSlerpDareAndArceeFusion() throws Exception {
    Path slerp = config(tmp, "slerp.yml", String.join("\n",
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
        "dtype: float16", ""));
    run("merge", slerp.toString(), tmp.resolve("slerp").toString(), "--no-progress").assertOk();
    Path dare = config(tmp, "dare.yml", String.join("\n",
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
        "dtype: bfloat16", ""));
    run("merge", dare.toString(), tmp.resolve("dare").toString(), "--no-progress", "--random-seed", "7").assertOk();
    Path fusion = config(tmp, "fusion.yml", String.join("\n",
        "models:",
        "  - model: " + base,
        "  - model: " + x,
        "merge_method: arcee_fusion",
        "base_model: " + base,
        "dtype: bfloat16", ""));
    run("merge", fusion.toString(), tmp.resolve("fusion").toString(), "--no-progress").assertOk();
  }
}
