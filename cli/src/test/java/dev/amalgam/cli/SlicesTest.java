package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.TINY;
import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code slices:}: frankenmerges with overlapping layer ranges, per-slice merges, precedence and
 * errors.
 */
class SlicesTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a;
  static Path b;

  @BeforeAll
  static void generate() throws Exception {
    a = model(models.resolve("a"), TINY, DType.BF16, 1, 0, 0); // 4 layers
    b = model(models.resolve("b"), TINY, DType.BF16, 1, 0.4, 2);
  }

  private static ByteBuffer bytes(Path model, String tensor) throws Exception {
    try (SafetensorsModel m = SafetensorsModel.open(model)) {
      TensorInfo info = m.tensor(tensor).orElseThrow();
      ByteBuffer src = m.data(tensor).slice(0, info.elementCount());
      return ByteBuffer.allocate(src.remaining()).put(src).flip();
    }
  }

  private static List<String> layerSuffixes(Path model, int layer) throws Exception {
    String prefix = "model.layers." + layer + ".";
    try (SafetensorsModel m = SafetensorsModel.open(model)) {
      return m.tensors().stream()
          .map(TensorInfo::name)
          .filter(n -> n.startsWith(prefix))
          .map(n -> n.substring(prefix.length()))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  @Test
  void overlappingRangesStackLayersAndRenumberThem() throws Exception {
    // linear with one source and weight 1 copies exactly: a frankenmerge of layers [0, 3) + [1, 4)
    // of a
    Path cfg =
        config(
            tmp,
            "franken.yml",
            String.join(
                "\n",
                "merge_method: linear",
                "slices:",
                "  - sources:",
                "      - model: " + a,
                "        layer_range: [0, 3]",
                "        parameters: {weight: 1}",
                "  - sources:",
                "      - model: " + a,
                "        layer_range: [1, 4]",
                "        parameters: {weight: 1}",
                ""));
    Path out = tmp.resolve("out");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();
    int[] sourceLayer = {0, 1, 2, 1, 2, 3};
    for (int k = 0; k < sourceLayer.length; k++) {
      assertEquals(
          layerSuffixes(a, sourceLayer[k]), layerSuffixes(out, k), "tensors of output layer " + k);
      for (String suffix : layerSuffixes(out, k)) {
        assertEquals(
            bytes(a, "model.layers." + sourceLayer[k] + "." + suffix),
            bytes(out, "model.layers." + k + "." + suffix),
            "layer " + k + " " + suffix);
      }
    }
    assertEquals(List.of(), layerSuffixes(out, 6));
    for (String t : List.of("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight")) {
      assertEquals(bytes(a, t), bytes(out, t), t);
    }
    JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    assertEquals(6, config.get("num_hidden_layers").asInt());
  }

  @Test
  void aSliceWithTwoSourcesMergesThemAndTheRestPassesThrough() throws Exception {
    Path sliced =
        config(
            tmp,
            "sliced.yml",
            String.join(
                "\n",
                "merge_method: slerp",
                "base_model: " + a,
                "parameters:",
                "  t: 0.3",
                "slices:",
                "  - sources:",
                "      - model: " + a,
                "        layer_range: [0, 2]",
                "      - model: " + b,
                "        layer_range: [0, 2]",
                "  - sources:",
                "      - model: " + a,
                "        layer_range: [2, 4]",
                "      - model: " + b,
                "        layer_range: [2, 4]",
                "    parameters:",
                "      t: 0",
                ""));
    Path whole =
        config(
            tmp,
            "whole.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n  - model: "
                + b
                + "\nparameters:\n  t: 0.3\n");
    Path out = tmp.resolve("sliced");
    Path ref = tmp.resolve("whole");
    run("merge", sliced.toString(), out.toString(), "--no-progress").assertOk();
    run("merge", whole.toString(), ref.toString(), "--no-progress").assertOk();
    for (String suffix : layerSuffixes(a, 0)) {
      for (int l = 0; l < 2; l++) {
        String name = "model.layers." + l + "." + suffix;
        assertEquals(bytes(ref, name), bytes(out, name), "slerp layer " + name);
      }
      for (int l = 2; l < 4; l++) {
        String name = "model.layers." + l + "." + suffix;
        assertEquals(
            bytes(a, name), bytes(out, name), "slice parameter t = 0 takes the base: " + name);
      }
    }
  }

  @Test
  void parametersResolveSourceThenSliceThenTopLevel() throws Exception {
    Path cfg =
        config(
            tmp,
            "prec.yml",
            String.join(
                "\n",
                "merge_method: linear",
                "parameters:",
                "  weight: 5",
                "  normalize: false",
                "slices:",
                "  - sources:",
                "      - model: " + a,
                "        layer_range: [0, 4]",
                "        parameters: {weight: 0.25}",
                "      - model: " + b,
                "        layer_range: [0, 4]",
                "    parameters:",
                "      weight: 0.5",
                ""));
    CliHarness.Run r = run("check", cfg.toString());
    r.assertOk();
    assertTrue(
        r.out()
            .lines()
            .anyMatch(
                l ->
                    l.startsWith("model.layers.0.mlp.up_proj.weight")
                        && l.contains(a + "=0.250000")
                        && l.contains(b + "=0.500000")),
        r.out());
  }

  @Test
  void invalidSlicesFailBeforeAnyTensorIsReadWithTheirYamlPath() throws Exception {
    Path beyond =
        config(
            tmp,
            "beyond.yml",
            "merge_method: linear\nslices:\n  - sources:\n      - model: "
                + a
                + "\n        layer_range: [2, 9]\n        parameters: {weight: 1}\n");
    run("merge", beyond.toString(), tmp.resolve("o1").toString())
        .assertInvalid("slices[0].sources[0].layer_range", "end 9 > the 4 layers");
    Path unequal =
        config(
            tmp,
            "unequal.yml",
            "merge_method: linear\nslices:\n  - sources:\n      - model: "
                + a
                + "\n        layer_range: [0, 2]\n      - model: "
                + b
                + "\n        layer_range: [0, 3]\n");
    run("merge", unequal.toString(), tmp.resolve("o2").toString())
        .assertInvalid("slices[0].sources[1].layer_range", "same number of layers");
    Path both =
        config(
            tmp,
            "both.yml",
            "merge_method: linear\nmodels:\n  - model: "
                + a
                + "\nslices:\n"
                + "  - sources:\n      - model: "
                + a
                + "\n        layer_range: [0, 2]\n");
    run("merge", both.toString(), tmp.resolve("o3").toString())
        .assertInvalid("exactly one of models, slices or modules");
    Path global =
        config(
            tmp,
            "global.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nslices:\n  - sources:\n"
                + "      - model: "
                + a
                + "\n        layer_range: [0, 2]\n        parameters: {t: 0.5}\n");
    run("merge", global.toString(), tmp.resolve("o4").toString())
        .assertInvalid("slices[0].sources[0].parameters.t", "global parameter");
    Path oneSource =
        config(
            tmp,
            "one.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nparameters: {t: 0.5}\n"
                + "slices:\n  - sources:\n      - model: "
                + a
                + "\n        layer_range: [0, 2]\n");
    run("merge", oneSource.toString(), tmp.resolve("o5").toString())
        .assertInvalid("slices[0]", "exactly two");
  }
}
