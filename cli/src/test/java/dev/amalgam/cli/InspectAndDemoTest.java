package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.TINY;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.Checksums;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectAndDemoTest {
  @TempDir Path tmp;

  @Test
  void inspectPrintsEveryTensorAsTableAndJson() throws Exception {
    Path m = model(tmp.resolve("m"), TINY, DType.BF16, 1, 0, 0);
    int count = SyntheticLlama.tensors(TINY, DType.BF16).size();
    CliHarness.Run table = run("inspect", m.toString());
    table.assertOk();
    assertTrue(
        table
            .out()
            .lines()
            .anyMatch(
                l ->
                    l.matches(
                        "model\\.layers\\.3\\.mlp\\.down_proj\\.weight +BF16 +\\[64, 96\\] +12288")),
        table.out());
    assertTrue(table.out().contains("format = pt"), table.out());
    assertTrue(
        table.out().strip().endsWith(count + " tensors, 139,840 parameters, 279.7 kB"),
        table.out());

    CliHarness.Run json = run("inspect", m.resolve("model.safetensors").toString(), "--json");
    json.assertOk();
    JsonNode doc = new ObjectMapper().readTree(json.out());
    assertEquals(count, doc.get("tensors").size());
    assertEquals(count, doc.get("tensor_count").asInt());
    JsonNode embed = doc.get("tensors").get(0);
    assertEquals("model.embed_tokens.weight", embed.get("name").asText());
    assertEquals("BF16", embed.get("dtype").asText());
    assertEquals(128, embed.get("shape").get(0).asInt());
    assertEquals(128 * 64 * 2, embed.get("bytes").asLong());
    assertEquals("pt", doc.get("metadata").get("model.safetensors").get("format").asText());
  }

  @Test
  void inspectRejectsMissingAndCorruptFiles() throws Exception {
    run("inspect", tmp.resolve("absent").toString()).assertInvalid("no such file or directory");
    Path f = tmp.resolve("bad.safetensors");
    Files.write(f, new byte[] {1, 0, 0, 0});
    run("inspect", f.toString()).assertInvalid(f.toString());
    Path m = model(tmp.resolve("m"), TINY, DType.BF16, 1, 0, 0);
    try (RandomAccessFile raf =
        new RandomAccessFile(m.resolve("model.safetensors").toFile(), "rw")) {
      raf.seek(8);
      raf.write('[');
    }
    run("inspect", m.toString()).assertInvalid(m.resolve("model.safetensors").toString());
  }

  /**
   * The whole demo on its packed model and data: every step runs and checks itself, then the
   * closing screen.
   */
  @Test
  void demoRunsEveryStepOnItsPackedModelAndData() throws Exception {
    Path demo = tmp.resolve("demo");
    CliHarness.Run r = run("demo", "--dir", demo.toString());
    r.assertOk();
    String out = r.out();
    assertTrue(
        out.contains(
            "[ok] model.layers.0.self_attn.q_proj.weight (t = 0) equals model-a bit for bit"),
        out);
    assertTrue(Files.isRegularFile(demo.resolve("merged/model.safetensors")));
    assertEquals(
        DemoAssets.STORIES_SHA256,
        Checksums.sha256(demo.resolve("stories260K.gguf")),
        "the packed model");
    assertTrue(
        out.contains("[ok] every model loaded in llama.cpp and scored a finite perplexity"), out);
    assertTrue(out.contains("[ok] the merge repaired the damage: perplexity "), out);
    assertTrue(out.contains("mts-dialog: 40 paired examples"), out);
    assertTrue(out.contains("[ok] both models evaluated"), out);
    assertFalse(out.contains("[FAIL]") || out.contains("[skipped]"), out);
    for (String model : new String[] {"stories-perturbed", "stories-merged"}) {
      Path run = demo.resolve("eval").resolve(model);
      assertTrue(
          Files.isRegularFile(run.resolve("predictions.jsonl"))
              && Files.isRegularFile(run.resolve("metrics.json"))
              && Files.isRegularFile(run.resolve("report.md")),
          run.toString());
    }
    assertTrue(
        Files.isRegularFile(demo.resolve("data/mts-dialog/LICENSE.txt")),
        "the slice travels with its licence");
    assertTrue(out.contains("Demo complete."), out);
    int next = out.indexOf("Next, on your own models");
    assertTrue(next > out.indexOf("Demo complete."), out);
    for (String command : new String[] {"amalgam check ", "amalgam merge ", "amalgam eval "}) {
      assertTrue(
          out.indexOf(command, next) > 0,
          command + " in the closing screen:\n" + out.substring(next));
    }
    assertTrue(out.contains("gatortronllama-llama31-slerp.yml"), "points at the models/ examples");
  }

  @Test
  void demoRejectsAMissingStoriesFile() {
    run(
            "demo",
            "--dir",
            tmp.resolve("demo").toString(),
            "--stories",
            tmp.resolve("none.gguf").toString())
        .assertInvalid("--stories: no such file", "none.gguf");
  }

  @Test
  void versionAndHelp() {
    CliHarness.Run v = run("--version");
    v.assertOk();
    assertTrue(v.out().startsWith("amalgam "), v.out());
    CliHarness.Run h = run("merge", "--help");
    h.assertOk();
    assertTrue(h.out().contains("--out-shard-size"), h.out());
  }
}
