package dev.amalgam.merge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigReaderTest {
  private static final Path CWD = Path.of("/work/dir");

  private static MergeConfig parse(String yaml) {
    return ConfigReader.parse(yaml, "test.yml", CWD);
  }

  private static ConfigException error(String yaml) {
    return assertThrows(ConfigException.class, () -> parse(yaml));
  }

  @Test
  void readsMergekitGradientSlerpExample() {
    MergeConfig c =
        parse(
            String.join(
                "\n",
                "merge_method: slerp",
                "base_model: psmathur/orca_mini_v3_13b",
                "models:",
                "  - model: psmathur/orca_mini_v3_13b",
                "  - model: garage-bAInd/Platypus2-13B",
                "parameters:",
                "  t:",
                "    - filter: self_attn",
                "      value: [0, 0.5, 0.3, 0.7, 1]",
                "    - filter: mlp",
                "      value: [1, 0.5, 0.7, 0.3, 0]",
                "    - value: 0.5 # fallback for rest of tensors",
                "dtype: float16"));
    assertEquals("slerp", c.mergeMethod());
    assertEquals(CWD.resolve("psmathur/orca_mini_v3_13b"), c.baseModel().orElseThrow().path());
    assertEquals(2, c.models().size());
    assertEquals(DType.F16, c.dtype().orElseThrow());
    ParameterSetting t = c.parameters().get("t");
    assertInstanceOf(ParameterSetting.Conditional.class, t);
    assertEquals(0.0, value(t, "model.layers.0.self_attn.q_proj.weight", 0.0));
    assertEquals(1.0, value(t, "model.layers.0.mlp.up_proj.weight", 0.0));
    assertEquals(0.5, value(t, "model.norm.weight", 0.0));
    assertEquals("parameters.t[0].value", t.resolve("x.self_attn.y", 0).orElseThrow().yamlPath());
  }

  private static Object value(ParameterSetting s, String tensor, double x) {
    return s.resolve(tensor, x).orElseThrow().value();
  }

  @Test
  void gradientRuleMatchesTheWorkedExample() {
    // docs/merge-semantics.md §3.3: 40 layers, t = [0, 0.5, 0.3, 0.7, 1]
    ParameterSetting.Gradient g =
        new ParameterSetting.Gradient(List.of(0.0, 0.5, 0.3, 0.7, 1.0), "t");
    double[][] expected = {
      {0, 0.000},
      {1, 0.051},
      {5, 0.256},
      {9, 0.462},
      {10, 0.495},
      {19, 0.310},
      {20, 0.321},
      {29, 0.690},
      {30, 0.723},
      {38, 0.969},
      {39, 1.000}
    };
    for (double[] e : expected) {
      double v = (Double) g.valueAt(e[0] / 39.0);
      assertEquals(e[1], v, 0.0005, "layer " + (int) e[0]);
    }
    double[] thirtyTwo = {
      0, .065, .129, .194, .258, .323, .387, .452, .494, .468, .442, .416, .390, .365, .339, .313,
      .326, .377, .429, .481, .532, .584, .635, .687, .729, .768, .806, .845, .884, .923, .961, 1.0
    };
    for (int layer = 0; layer < 32; layer++) {
      assertEquals(
          thirtyTwo[layer], (Double) g.valueAt(layer / 31.0), 0.0005, "32 layers, layer " + layer);
    }
  }

  @Test
  void nonNumericGradientsPickWithoutInterpolating() {
    ParameterSetting.Gradient g = new ParameterSetting.Gradient(List.of(true, false, "x"), "p");
    assertEquals(true, g.valueAt(0.0));
    assertEquals(true, g.valueAt(0.49));
    assertEquals(false, g.valueAt(0.5));
    assertEquals("x", g.valueAt(1.0));
  }

  @Test
  void filtersArePlainSubstringsAndFirstMatchWins() {
    MergeConfig c =
        parse(
            String.join(
                "\n",
                "merge_method: linear",
                "models:",
                "  - model: a",
                "    parameters:",
                "      weight:",
                "        - filter: layers.1",
                "          value: 0.9",
                "        - filter: '*'",
                "          value: 0.1",
                "  - model: b",
                "    parameters:",
                "      weight: {filter: mlp, value: 2}"));
    ParameterSetting w = c.models().get(0).parameters().get("weight");
    assertEquals(
        0.9,
        value(w, "model.layers.10.mlp.up_proj.weight", 0)); // "layers.1" also matches layers.10
    assertEquals(0.1, value(w, "model.layers.2.mlp.up_proj.weight", 0));
    ParameterSetting w1 = c.models().get(1).parameters().get("weight");
    assertEquals(2.0, value(w1, "model.layers.2.mlp.up_proj.weight", 0));
    assertTrue(w1.resolve("model.norm.weight", 0).isEmpty(), "no match falls through");
  }

  @Test
  void scalarsFollowTheCoreSchema() {
    MergeConfig c =
        parse(
            "merge_method: linear\nmodels: [a, b]\nparameters:\n  weight: 1e-3\n  normalize: True\n");
    assertEquals(1e-3, value(c.parameters().get("weight"), "x", 0));
    assertEquals(true, value(c.parameters().get("normalize"), "x", 0));
    assertEquals(2, c.models().size());
  }

  @Test
  void modelReferenceMappingForm() {
    MergeConfig c = parse("merge_method: linear\nmodels:\n  - model: {model: {path: ./m}}\n");
    assertEquals(CWD.resolve("./m"), c.models().get(0).model().path());
  }

  @Test
  void errorsNameTheYamlPathAndLine() {
    ConfigException e =
        error("merge_method: linear\nmodels:\n  - model: a\n    parametres:\n      weight: 1\n");
    assertEquals("models[0].parametres", e.yamlPath());
    assertTrue(e.getMessage().contains("did you mean 'parameters'"), e.getMessage());
    assertTrue(e.getMessage().contains("(line 4)"), e.getMessage());

    assertEquals("merge_method", error("models: [a]\n").yamlPath());
    assertEquals("models", error("merge_method: linear\n").yamlPath());
    assertEquals("models", error("merge_method: linear\nmodels: []\n").yamlPath());
    assertEquals("models", error("merge_method: linear\nmodels: a\n").yamlPath());
    assertEquals(
        "models[0].model",
        error("merge_method: linear\nmodels:\n  - parameters: {weight: 1}\n").yamlPath());
    assertEquals("dtype", error("merge_method: linear\nmodels: [a]\ndtype: int64\n").yamlPath());
    assertEquals("mergemethod", error("mergemethod: linear\nmodels: [a]\n").yamlPath());
    assertEquals("slices", error("merge_method: passthrough\nslices: []\n").yamlPath());
    assertEquals(
        "parameters.t[1].value",
        error(
                "merge_method: slerp\nmodels: [a]\nparameters:\n  t:\n    - filter: x\n      value: 1\n    - filter: y\n")
            .yamlPath());
    assertEquals(
        "tokenizer",
        error(
                "merge_method: linear\nmodels: [a]\ntokenizer_source: union\n"
                    + "tokenizer: {source: base}\n")
            .yamlPath());
    assertEquals(
        "tokenizer.tokens.x.source.kind",
        error(
                "merge_method: linear\nmodels: [a]\n"
                    + "tokenizer: {tokens: {x: {source: {kind: one}}}}\n")
            .yamlPath());
  }

  @Test
  void syntaxAndStructureErrors() {
    ConfigException dup = error("merge_method: linear\nmerge_method: slerp\nmodels: [a]\n");
    assertTrue(dup.getMessage().contains("duplicate key"), dup.getMessage());
    ConfigException bad = error("merge_method: linear\nmodels: [a\n");
    assertTrue(bad.getMessage().startsWith("invalid YAML at line"), bad.getMessage());
    assertTrue(error("").getMessage().contains("empty"));
    assertTrue(error("- a\n- b\n").getMessage().contains("expected a mapping"));
  }
}
