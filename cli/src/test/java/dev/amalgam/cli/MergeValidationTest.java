package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.TINY;
import static dev.amalgam.cli.CliHarness.assertNoOutput;
import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every validation error: exit code 2, one line naming the YAML path (or file), and no output
 * directory.
 */
class MergeValidationTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a;
  static Path b;

  @BeforeAll
  static void generate() throws IOException {
    a = model(models.resolve("a"), TINY, DType.BF16, 1, 0, 0);
    b = model(models.resolve("b"), TINY, DType.BF16, 1, 0.3, 2);
  }

  private void assertRejected(String yaml, String... fragments) throws IOException {
    Path cfg = config(tmp, "merge.yml", yaml);
    Path out = tmp.resolve("out");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertInvalid(fragments);
    assertNoOutput(out);
  }

  private static String slerp(String baseLine, String models, String params) {
    return "merge_method: slerp\n" + baseLine + "models:\n" + models + "parameters:\n" + params;
  }

  private static String item(Path p) {
    return "  - model: " + p + "\n";
  }

  @Test
  void unknownMethodSuggestsTheClosest() throws IOException {
    assertRejected(
        "merge_method: slepr\nmodels:\n" + item(a),
        "merge_method: unknown method 'slepr'",
        "did you mean 'slerp'");
    assertRejected(
        "merge_method: dare-ties\nmodels:\n" + item(a),
        "merge_method:",
        "did you mean 'dare_ties'");
  }

  @Test
  void missingRequiredPerModelParameter() throws IOException {
    assertRejected(
        "merge_method: linear\nmodels:\n" + item(a) + "    parameters: {weight: 1}\n" + item(b),
        "models[1].parameters.weight: required by linear");
  }

  @Test
  void missingRequiredGlobalParameter() throws IOException {
    assertRejected(
        "merge_method: slerp\nbase_model: " + a + "\nmodels:\n" + item(a) + item(b),
        "parameters.t: required by slerp");
  }

  @Test
  void globalParameterUnderAModelIsAnError() throws IOException {
    assertRejected(
        slerp(
            "base_model: " + a + "\n",
            item(a) + "    parameters: {t: 0.5}\n" + item(b),
            "  t: 0.5\n"),
        "models[0].parameters.t: 't' is a global parameter of slerp");
  }

  @Test
  void unknownParameters() throws IOException {
    assertRejected(
        slerp("base_model: " + a + "\n", item(a) + item(b), "  t: 0.5\n  weigth: 1\n"),
        "parameters.weigth: unknown parameter for slerp");
    assertRejected(
        "merge_method: linear\nmodels:\n" + item(a) + "    parameters: {wieght: 1}\n",
        "models[0].parameters.wieght: unknown parameter for linear",
        "did you mean 'weight'");
  }

  @Test
  void wrongParameterTypes() throws IOException {
    assertRejected(
        "merge_method: linear\nmodels:\n" + item(a) + "    parameters: {weight: heavy}\n",
        "models[0].parameters.weight: expected a number, got 'heavy'");
    assertRejected(
        "merge_method: linear\nmodels:\n"
            + item(a)
            + "    parameters: {weight: 1}\nparameters:\n"
            + "  normalize: 3\n",
        "parameters.normalize: expected true or false");
    assertRejected(
        slerp("base_model: " + a + "\n", item(a) + item(b), "  t: .nan\n"),
        "parameters.t: must be finite");
  }

  @Test
  void filterListWithoutFallback() throws IOException {
    assertRejected(
        slerp(
            "base_model: " + a + "\n",
            item(a) + item(b),
            "  t:\n    - filter: self_attn\n      value: 0.3\n"),
        "parameters.t: no filter matches tensor 'model.embed_tokens.weight'");
  }

  @Test
  void slerpNeedsABaseAndExactlyTwoModels() throws IOException {
    assertRejected(slerp("", item(a) + item(b), "  t: 0.5\n"), "base_model: slerp interpolates");
    Path c = model(tmp.resolve("c"), TINY, DType.BF16, 9, 0, 0);
    assertRejected(
        slerp("base_model: " + a + "\n", item(a) + item(b) + item(c), "  t: 0.5\n"),
        "models: slerp merges exactly two models");
  }

  @Test
  void linearWeightsSummingToZero() throws IOException {
    assertRejected(
        "merge_method: linear\nmodels:\n"
            + item(a)
            + "    parameters: {weight: 1}\n"
            + item(b)
            + "    parameters: {weight: -1}\n",
        "parameters.normalize:",
        "sum to zero");
  }

  @Test
  void linearBaseModelNotListed() throws IOException {
    assertRejected(
        "merge_method: linear\nbase_model: "
            + b
            + "\nmodels:\n"
            + item(a)
            + "    parameters: {weight: 1}\n",
        "base_model: linear needs a weight for every input");
  }

  @Test
  void modelDirectoryProblems() throws IOException {
    Path missing = tmp.resolve("nope");
    assertRejected(
        "merge_method: linear\nmodels:\n" + item(missing) + "    parameters: {weight: 1}\n",
        "models[0].model: no such file or directory");
    assertRejected(
        "merge_method: linear\nmodels:\n  - model: meta-llama/Llama-3.1-8B-Instruct\n"
            + "    parameters: {weight: 1}\n",
        "models[0].model:",
        "not a local directory",
        "huggingface-cli download");
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertRejected(
        "merge_method: linear\nmodels:\n"
            + item(a)
            + "    parameters: {weight: 1}\n"
            + item(empty)
            + "    parameters: {weight: 1}\n",
        "models[1].model:",
        "no safetensors weights");
    Path noConfig = tmp.resolve("noconfig");
    model(noConfig, TINY, DType.BF16, 1, 0, 0);
    Files.delete(noConfig.resolve("config.json"));
    assertRejected(
        "merge_method: linear\nmodels:\n" + item(noConfig) + "    parameters: {weight: 1}\n",
        "models[0].model: no config.json");
    assertRejected(
        "merge_method: linear\nmodels:\n"
            + item(a)
            + "    parameters: {weight: 1}\n"
            + item(a)
            + "    parameters: {weight: 1}\n",
        "models[1].model:",
        "listed twice");
  }

  @Test
  void tensorSetsAndShapesMustMatch() throws IOException {
    Path tied =
        model(
            tmp.resolve("tied"),
            new SyntheticLlama.Shape(4, 64, 96, 128, 4, 2, true),
            DType.BF16,
            1,
            0,
            0);
    // lm_head is optional (tied embeddings): a tied model merges with untied ones (see
    // VocabAndTiedTest)
    run(
            "merge",
            config(
                    tmp,
                    "tied.yml",
                    slerp("base_model: " + a + "\n", item(a) + item(tied), "  t: 0.5\n"))
                .toString(),
            tmp.resolve("tied-out").toString(),
            "--no-progress")
        .assertOk();
    Path wide =
        model(
            tmp.resolve("wide"),
            new SyntheticLlama.Shape(4, 64, 128, 128, 4, 2, false),
            DType.BF16,
            1,
            0,
            0);
    assertRejected(
        slerp("base_model: " + a + "\n", item(a) + item(wide), "  t: 0.5\n"),
        "models[1].model: tensor 'model.layers.0.mlp.up_proj.weight' has shape [128, 64]");
    Path deeper =
        model(
            tmp.resolve("deeper"),
            new SyntheticLlama.Shape(5, 64, 96, 128, 4, 2, false),
            DType.BF16,
            1,
            0,
            0);
    assertRejected(
        slerp("base_model: " + a + "\n", item(a) + item(deeper), "  t: 0.5\n"),
        "models[1].model: '" + deeper + "' has 5 layers but '" + a + "' has 4");
  }

  @Test
  void layerCountInConfigMustCoverTheWeights() throws IOException {
    Path liar = tmp.resolve("liar");
    model(liar, TINY, DType.BF16, 1, 0, 0);
    ObjectNode c = (ObjectNode) new ObjectMapper().readTree(liar.resolve("config.json").toFile());
    c.put("num_hidden_layers", 2);
    new ObjectMapper().writeValue(liar.resolve("config.json").toFile(), c);
    assertRejected(
        "merge_method: linear\nmodels:\n" + item(liar) + "    parameters: {weight: 1}\n",
        "models[0].model: config.json of",
        "says 2 layers but the weights have layer 3");
  }

  @Test
  void corruptInputNamesTheFile() throws IOException {
    Path bad = tmp.resolve("bad");
    model(bad, TINY, DType.BF16, 1, 0, 0);
    try (RandomAccessFile f =
        new RandomAccessFile(bad.resolve("model.safetensors").toFile(), "rw")) {
      f.setLength(f.length() - 1); // one byte of data missing
    }
    assertRejected(
        "merge_method: linear\nmodels:\n" + item(bad) + "    parameters: {weight: 1}\n",
        bad.resolve("model.safetensors").toString());
  }

  @Test
  void yamlAndUsageErrors() throws IOException {
    assertRejected("merge_method: linear\nmodels: [\n", "invalid YAML at line");
    run("merge", tmp.resolve("absent.yml").toString(), tmp.resolve("out").toString())
        .assertInvalid("configuration file", "does not exist");
    Path cfg =
        config(
            tmp,
            "ok.yml",
            "merge_method: linear\nmodels:\n" + item(a) + "    parameters: {weight: 1}\n");
    run("merge", cfg.toString(), tmp.resolve("out").toString(), "--out-shard-size", "5X")
        .assertInvalid("unknown size unit 'X'");
    run("merge", cfg.toString(), tmp.resolve("out").toString(), "--threads", "-1")
        .assertInvalid("--threads");
    run("merge", cfg.toString()).assertInvalid("OUT");
    run("merge", cfg.toString(), tmp.resolve("out").toString(), "--out-format", "onnx")
        .assertInvalid("--out-format");
    run("merge", cfg.toString(), tmp.resolve("out").toString(), "--out-type", "q8_0")
        .assertInvalid("--out-type");
    run("merge", cfg.toString(), tmp.resolve("out.gguf").toString(), "--out-type", "q4_k")
        .assertInvalid("q4_k");
    assertNoOutput(tmp.resolve("out"));
  }
}
