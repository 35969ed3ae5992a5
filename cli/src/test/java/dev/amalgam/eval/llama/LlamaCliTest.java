package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.cli.Main;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code amalgam generate} and {@code amalgam perplexity}: output and exit codes. */
class LlamaCliTest {
  record Run(int code, String out, String err) {
    void assertInvalid(String fragment) {
      assertEquals(Main.EXIT_INVALID, code, () -> "exit code; stderr:\n" + err);
      assertTrue(err.startsWith("amalgam: error: "), err);
      assertEquals(1, err.strip().lines().count(), () -> "one line:\n" + err);
      assertTrue(err.contains(fragment), () -> "stderr should contain '" + fragment + "':\n" + err);
    }
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void perplexityPrintsTextAndJson(@TempDir Path dir) throws IOException {
    Path model = TestAssets.stories260K();
    Path text = dir.resolve("story.txt");
    Files.writeString(text, TestAssets.STORY);
    Run plain =
        run(
            "perplexity",
            model.toString(),
            "--text",
            text.toString(),
            "--ctx",
            "64",
            "--threads",
            "2");
    assertEquals(0, plain.code(), plain.err());
    assertTrue(plain.out().startsWith("PPL = "), plain.out());
    assertTrue(plain.out().contains("chunks of n_ctx 64"), plain.out());

    Run json =
        run(
            "perplexity",
            model.toString(),
            "--text",
            text.toString(),
            "--ctx",
            "64",
            "--json",
            "--gpu-layers",
            "99",
            "--threads",
            "2");
    assertEquals(0, json.code(), json.err());
    assertTrue(json.err().contains("--gpu-layers 99 is ignored"), json.err());
    JsonNode n = new ObjectMapper().readTree(json.out());
    try (LlamaScorer scorer =
        LlamaScorer.open(model, ScorerOptions.builder().contextSize(64).build())) {
      PerplexityResult expected = scorer.perplexity(TestAssets.STORY, 64);
      assertEquals(expected.perplexity(), n.get("ppl").asDouble(), 1e-9);
      assertEquals(expected.perplexityError(), n.get("ppl_stderr").asDouble(), 1e-9);
      assertEquals(expected.meanNll(), n.get("nll_mean").asDouble(), 1e-12);
      assertEquals(expected.tokens(), n.get("tokens").asInt());
      assertEquals(expected.chunks(), n.get("chunks").asInt());
    }
    assertEquals(64, n.get("n_ctx").asInt());
    assertEquals(model.toString(), n.get("model").asText());
  }

  @Test
  void perplexityBadInputExitsTwoWithOneLine(@TempDir Path dir) throws IOException {
    Path model = TestAssets.stories260K();
    Path shortText = dir.resolve("short.txt");
    Files.writeString(shortText, TestAssets.LILY);
    run("perplexity", model.toString(), "--text", shortText.toString(), "--ctx", "64")
        .assertInvalid("needs at least 128 tokens (2 x n_ctx), the text has 15");
    run("perplexity", dir.resolve("none.gguf").toString(), "--text", shortText.toString())
        .assertInvalid("no such model file");
    run("perplexity", model.toString(), "--text", dir.resolve("none.txt").toString())
        .assertInvalid("no such text file");
    Path garbage = dir.resolve("garbage.gguf");
    Files.write(garbage, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0});
    run("perplexity", garbage.toString(), "--text", shortText.toString())
        .assertInvalid("garbage.gguf");
    Path latin1 = dir.resolve("latin1.txt");
    Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xe9});
    run("perplexity", model.toString(), "--text", latin1.toString())
        .assertInvalid("not valid UTF-8");
    run("perplexity", model.toString(), "--text", shortText.toString(), "--ctx", "2")
        .assertInvalid("context size");
  }

  @Test
  void generatePrintsTheCompletionAndRejectsBadInput(@TempDir Path dir) {
    Path model = TestAssets.stories260K();
    Run r =
        run(
            "generate",
            model.toString(),
            "--prompt",
            "Once upon a time",
            "--max-tokens",
            "8",
            "--threads",
            "2",
            "--ctx",
            "256",
            "--seed",
            "1",
            "--temperature",
            "0");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith(", there was a little girl"), r.out());
    run("generate", dir.resolve("none.gguf").toString(), "--prompt", "x")
        .assertInvalid("no such model file");
    run("generate", model.toString(), "--prompt", "x", "--max-tokens", "0")
        .assertInvalid("max tokens must be >= 1");
  }

  @Test
  void parallelIsCheckedBeforeAnyModelRuns() {
    String model = TestAssets.stories260K().toString();
    for (String bad : new String[] {"-1", "65"}) {
      run("eval", model, "--task", "jsonl", "--parallel", bad)
          .assertInvalid("--parallel must be 0 (automatic) to 64");
    }
  }

  @Test
  void aLlamaLibThatIsNotASupportedLlamaCppFailsWithOneLine() throws Exception {
    Path zlib = Path.of("/lib/x86_64-linux-gnu/libz.so.1");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(zlib), "no " + zlib);
    // Its own JVM: a process opens one llama.cpp library.
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "generate",
                TestAssets.stories260K().toString(),
                "--prompt",
                "x",
                "--llama-lib",
                zlib.toString())
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    String err = new String(p.getErrorStream().readAllBytes());
    assertEquals(Main.EXIT_FAILURE, p.waitFor(), out + err);
    assertTrue(err.startsWith("amalgam: error: "), err);
    assertEquals(1, err.strip().lines().count(), err);
    assertTrue(err.contains("not a llama.cpp library"), err);
    assertTrue(err.contains("supported llama.cpp releases: b4916, 0.5.0"), err);
  }
}
