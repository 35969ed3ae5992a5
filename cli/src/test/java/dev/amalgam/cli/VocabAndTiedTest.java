package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.floats;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Optional lm_head (tied embeddings) and different vocabulary sizes, as mergekit handles them. */
class VocabAndTiedTest {
  @TempDir Path tmp;

  private Path model(String name, int vocab, boolean tied, long seed) throws Exception {
    SyntheticLlama.Shape shape = new SyntheticLlama.Shape(2, 64, 172, vocab, 8, 4, tied);
    Path dir = tmp.resolve(name);
    SyntheticLlama.write(dir, shape, DType.F32, seed, 0, 0, 5_000_000_000L);
    return dir;
  }

  private Path linear(Path x, Path y) throws Exception {
    return config(
        tmp,
        "linear.yml",
        "merge_method: linear\nmodels:\n  - model: "
            + x
            + "\n    parameters: {weight: 0.5}\n  - model: "
            + y
            + "\n    parameters: {weight: 0.5}\n");
  }

  @Test
  void aTiedModelContributesItsEmbeddingsToAnUntiedLmHead() throws Exception {
    Path tied = model("tied", 512, true, 1);
    Path untied = model("untied", 512, false, 2);
    Path out = tmp.resolve("out");
    CliHarness.Run r =
        run("merge", linear(tied, untied).toString(), out.toString(), "--no-progress");
    r.assertOk();
    assertTrue(r.err().contains("output gets an lm_head"), r.err());
    float[] embed = floats(tied, "model.embed_tokens.weight");
    float[] head = floats(untied, "lm_head.weight");
    float[] got = floats(out, "lm_head.weight");
    for (int i = 0; i < got.length; i++) {
      assertEquals(Math.fma(0.5f, head[i], 0.5f * embed[i]), got[i], 0f, "lm_head[" + i + "]");
    }
    JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    assertFalse(config.get("tie_word_embeddings").asBoolean());
  }

  @Test
  void tiedModelsStayTied() throws Exception {
    Path out = tmp.resolve("out");
    run(
            "merge",
            linear(model("t1", 512, true, 1), model("t2", 512, true, 2)).toString(),
            out.toString(),
            "--no-progress")
        .assertOk();
    try (SafetensorsModel m = SafetensorsModel.open(out)) {
      assertTrue(m.tensor("lm_head.weight").isEmpty());
    }
  }

  @Test
  void differentVocabularySizesMergeOverTheSharedRows() throws Exception {
    Path small = model("small", 512, false, 1);
    Path large = model("large", 520, false, 2);
    Path out = tmp.resolve("out");
    CliHarness.Run r =
        run("merge", linear(large, small).toString(), out.toString(), "--no-progress");
    r.assertOk();
    assertTrue(r.err().contains("first 512 rows"), r.err());
    for (String name : new String[] {"model.embed_tokens.weight", "lm_head.weight"}) {
      float[] x = floats(large, name);
      float[] y = floats(small, name);
      float[] got = floats(out, name);
      assertEquals(512 * 64, got.length, name);
      for (int i = 0; i < got.length; i++) {
        assertEquals(Math.fma(0.5f, y[i], 0.5f * x[i]), got[i], 0f, name + "[" + i + "]");
      }
    }
    JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    assertEquals(512, config.get("vocab_size").asInt());
  }

  @Test
  void differentHiddenSizesAreStillAnError() throws Exception {
    SyntheticLlama.Shape wide = new SyntheticLlama.Shape(2, 128, 172, 512, 8, 4, false);
    Path w = tmp.resolve("wide");
    SyntheticLlama.write(w, wide, DType.F32, 3, 0, 0, 5_000_000_000L);
    run("merge", linear(model("narrow", 512, false, 1), w).toString(), tmp.resolve("o").toString())
        .assertInvalid("models[1]", "has shape");
  }
}
