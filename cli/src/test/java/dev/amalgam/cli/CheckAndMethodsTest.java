package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.TINY;
import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code amalgam check} validates and prints the plan without writing anything; {@code methods}
 * lists methods.
 */
class CheckAndMethodsTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a;
  static Path b;

  @BeforeAll
  static void generate() throws Exception {
    a = model(models.resolve("a"), TINY, DType.BF16, 1, 0, 0);
    b = model(models.resolve("b"), TINY, DType.BF16, 1, 0.4, 2);
  }

  @Test
  void checkPrintsThePlanWithResolvedParametersAndWritesNothing() throws Exception {
    Path cfg =
        config(
            tmp,
            "slerp.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n  - model: "
                + b
                + "\nparameters:\n  t:\n    - filter: self_attn\n      value: [0, 1]\n"
                + "    - value: 0.25\n");
    CliHarness.Run r = run("check", cfg.toString());
    r.assertOk();
    int tensors = SyntheticLlama.tensors(TINY, DType.BF16).size();
    assertTrue(
        r.out()
            .contains(
                "ok. Method slerp (SLERP), 2 inputs, output HF with "
                    + TINY.layers()
                    + " layers, "
                    + tensors
                    + " tensors"),
        r.out());
    assertTrue(r.out().contains("input 0 (base): " + a), r.out());
    // gradient [0, 1] over 4 layers: layer 0 gets t = 0, the last layer t = 1; other tensors the
    // default 0.25
    assertTrue(
        r.out()
            .lines()
            .anyMatch(
                l ->
                    l.startsWith("model.layers.0.self_attn.q_proj.weight")
                        && l.endsWith("slerp t=0.00000")),
        r.out());
    assertTrue(
        r.out()
            .lines()
            .anyMatch(
                l ->
                    l.startsWith("model.layers." + (TINY.layers() - 1) + ".self_attn.q_proj.weight")
                        && l.endsWith("slerp t=1.00000")),
        r.out());
    assertTrue(
        r.out()
            .lines()
            .anyMatch(
                l ->
                    l.startsWith("model.layers.0.mlp.up_proj.weight")
                        && l.endsWith("slerp t=0.250000")),
        r.out());
    assertEquals(
        tensors + 4,
        r.out().lines().count(),
        "a summary, two inputs, a header and one line per tensor");
    try (var files = Files.list(tmp)) {
      assertEquals(1, files.count(), "check writes nothing");
    }
  }

  @Test
  void checkFailsLikeMergeWithTheYamlPath() throws Exception {
    Path cfg =
        config(
            tmp,
            "bad.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n  - model: "
                + b
                + "\nparameters:\n  t:\n    - filter: self_attn\n      value: [0, 1]\n");
    run("check", cfg.toString()).assertInvalid("parameters.t");
    Path missing =
        config(
            tmp,
            "missing.yml",
            "merge_method: linear\nmodels:\n  - model: "
                + tmp.resolve("nope")
                + "\n    parameters: {weight: 1}\n");
    run("check", missing.toString()).assertInvalid("models[0].model");
  }

  @Test
  void methodsListsEveryMethodWithItsParameters() throws Exception {
    CliHarness.Run r = run("methods");
    r.assertOk();
    assertTrue(r.out().contains("slerp  (SLERP;"), r.out());
    assertTrue(
        r.out()
            .lines()
            .anyMatch(
                l ->
                    l.trim().startsWith("weight")
                        && l.contains("per-model")
                        && l.contains("required")),
        r.out());
    assertTrue(
        r.out()
            .lines()
            .anyMatch(l -> l.trim().startsWith("normalize") && l.contains("default true")),
        r.out());
    JsonNode json = new ObjectMapper().readTree(run("methods", "--json").out());
    assertEquals(MergeMethods.all().size(), json.get("methods").size());
    JsonNode linear = json.get("methods").get(0);
    assertEquals("linear", linear.get("name").asText());
    assertEquals("per_model", linear.get("parameters").get(0).get("scope").asText());
    assertTrue(linear.get("parameters").get(1).get("default").asBoolean());
    assertEquals(20, json.get("methods").size(), "every mergekit method");
  }
}
