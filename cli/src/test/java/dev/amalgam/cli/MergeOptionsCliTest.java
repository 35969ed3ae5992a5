package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** chat_template, --copy-tokenizer, --write-model-card and --allow-crimes. */
class MergeOptionsCliTest {
  /** Tiny, with a vocabulary large enough for a synthetic Llama-3 tokenizer. */
  static final SyntheticLlama.Shape SHAPE = new SyntheticLlama.Shape(2, 64, 96, 512, 4, 2, false);

  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a;
  static Path b;

  @BeforeAll
  static void generate() throws Exception {
    a = model(models.resolve("a"), SHAPE, DType.BF16, 1, 0, 0);
    b = model(models.resolve("b"), SHAPE, DType.BF16, 1, 0.4, 2);
    SyntheticTokenizers.writeLlama3(a, SHAPE.vocab());
  }

  private Path linear(String extra) throws Exception {
    return config(
        tmp,
        "m.yml",
        "merge_method: linear\nmodels:\n  - model: "
            + a
            + "\n    parameters: {weight: 1}\n"
            + "  - model: "
            + b
            + "\n    parameters: {weight: 1}\n"
            + extra);
  }

  @Test
  void chatTemplateByNameGoesIntoTokenizerConfigAndGguf() throws Exception {
    Path out = tmp.resolve("out");
    run("merge", linear("chat_template: chatml\n").toString(), out.toString(), "--no-progress")
        .assertOk();
    JsonNode tc = new ObjectMapper().readTree(out.resolve("tokenizer_config.json").toFile());
    assertTrue(
        tc.get("chat_template")
            .asText()
            .startsWith("{% for message in messages %}{{ '<|im_start|>'"),
        tc.toString());
    Path gguf = tmp.resolve("out.gguf");
    run("merge", linear("chat_template: llama3\n").toString(), gguf.toString(), "--no-progress")
        .assertOk();
    try (GgufFile f = GgufFile.open(gguf)) {
      assertTrue(
          f.metadata()
              .getString("tokenizer.chat_template")
              .orElseThrow()
              .contains("<|start_header_id|>"));
    }
  }

  @Test
  void literalTemplatesAreKeptAndBadOnesRejected() throws Exception {
    String literal = "{% for m in messages %}{{ m['content'] }}{% endfor %}";
    Path out = tmp.resolve("out");
    run(
            "merge",
            linear("chat_template: \"" + literal + "\"\n").toString(),
            out.toString(),
            "--no-progress")
        .assertOk();
    assertEquals(
        literal,
        new ObjectMapper()
            .readTree(out.resolve("tokenizer_config.json").toFile())
            .get("chat_template")
            .asText());
    run("merge", linear("chat_template: chatm\n").toString(), tmp.resolve("o2").toString())
        .assertInvalid("chat_template", "did you mean 'chatml'");
  }

  @Test
  void tokenizerAndModelCardCanBeLeftOut() throws Exception {
    Path out = tmp.resolve("bare");
    run(
            "merge",
            linear("").toString(),
            out.toString(),
            "--no-progress",
            "--no-copy-tokenizer",
            "--no-write-model-card")
        .assertOk();
    assertFalse(Files.exists(out.resolve("tokenizer.json")));
    assertFalse(Files.exists(out.resolve("README.md")));
    assertFalse(Files.exists(out.resolve("amalgam_config.yml")));
    assertTrue(Files.exists(out.resolve("config.json")));
    Path full = tmp.resolve("full");
    run("merge", linear("").toString(), full.toString(), "--no-progress").assertOk();
    assertTrue(Files.exists(full.resolve("tokenizer.json")));
    assertTrue(Files.exists(full.resolve("README.md")));
  }

  @Test
  void differentArchitecturesNeedAllowCrimes() throws Exception {
    Path other = model(tmp.resolve("mistral"), SHAPE, DType.BF16, 1, 0.4, 3);
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = (ObjectNode) json.readTree(other.resolve("config.json").toFile());
    c.putArray("architectures").add("MistralForCausalLM");
    json.writeValue(other.resolve("config.json").toFile(), c);
    Path cfg =
        config(
            tmp,
            "crime.yml",
            "merge_method: linear\nmodels:\n  - model: "
                + a
                + "\n    parameters: {weight: 1}\n  - model: "
                + other
                + "\n    parameters: {weight: 1}\n");
    run("merge", cfg.toString(), tmp.resolve("o").toString())
        .assertInvalid("models[1].model", "MistralForCausalLM", "--allow-crimes");
    CliHarness.Run r =
        run(
            "merge",
            cfg.toString(),
            tmp.resolve("o").toString(),
            "--allow-crimes",
            "--no-progress");
    r.assertOk();
    assertTrue(r.err().contains("--allow-crimes"), r.err());
  }
}
