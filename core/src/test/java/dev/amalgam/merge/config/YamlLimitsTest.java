package dev.amalgam.merge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile configurations end in one ConfigException at a YAML path, never a stack overflow. */
class YamlLimitsTest {
  private static ConfigException refused(String yaml) {
    return assertThrows(
        ConfigException.class, () -> ConfigReader.parse(yaml, "t.yml", Path.of(".")));
  }

  @Test
  void aModelPathWithANulIsRefusedAtItsYamlPath() {
    ConfigException e =
        refused(
            "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 1}\n"
                + "  - model: \"b\\0c\"\n    parameters: {weight: 1}\n");
    assertEquals("models[1].model", e.yamlPath());
    assertTrue(e.getMessage().contains("b\\u0000c"), e.getMessage());
    assertTrue(e.getMessage().contains("not a valid path"), e.getMessage());
  }

  @Test
  void deepNestingIsRefusedAtItsPath() {
    String sequences =
        "merge_method: linear\nmodels:\n  - model: a\n    parameters:\n      weight: "
            + "[".repeat(3000)
            + "1"
            + "]".repeat(3000)
            + "\n";
    ConfigException e = refused(sequences);
    assertTrue(e.getMessage().contains("nested more than 64 levels"), e.getMessage());
    assertTrue(e.yamlPath().startsWith("models[0].parameters.weight[0][0]"), e.yamlPath());

    String mappings =
        "merge_method: linear\nx: " + "{a: ".repeat(2500) + "1" + "}".repeat(2500) + "\n";
    ConfigException m = refused(mappings);
    assertTrue(m.yamlPath().startsWith("x.a.a.a"), m.yamlPath());
  }

  @Test
  void longScalarsAreRefusedAtTheirPath() {
    ConfigException e = refused("merge_method: " + "x".repeat(300_000) + "\n");
    assertEquals("merge_method", e.yamlPath());
    assertTrue(e.getMessage().contains("300000 characters"), e.getMessage());
    ConfigException k = refused("merge_method: linear\nmodels:\n  - model: " + "m".repeat(300_000));
    assertEquals("models[0].model", k.yamlPath());
  }

  @Test
  void anOversizedFileIsRefusedBeforeItIsRead(@TempDir Path dir) throws IOException {
    Path big = dir.resolve("big.yml");
    Files.writeString(big, "merge_method: linear\n# " + "x".repeat(5 << 20) + "\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigReader.read(big, dir));
    assertTrue(e.getMessage().contains(big.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("at most 4194304"), e.getMessage());
  }

  @Test
  void ordinaryConfigurationsAreUnaffected() {
    String yaml =
        "merge_method: slerp\nbase_model: a\nmodels:\n  - model: a\n  - model: b\n"
            + "parameters:\n  t:\n    - filter: self_attn\n      value: [0, 0.5, 0.3, 0.7, 1]\n    - value: 0.5\n"
            + "dtype: bfloat16\n";
    assertEquals("slerp", ConfigReader.parse(yaml, "t.yml", Path.of(".")).mergeMethod());
  }
}
