package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.eval.llama.LlamaScorer;
import dev.amalgam.eval.llama.ScorerOptions;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code amalgam eval} end to end through the picocli entry on stories260K (5 examples per task, 16
 * tokens), scored by the real metric suite (ROUGE, BLEU, METEOR; BERTScore and the composite on one
 * task), the IFEval checks and the bootstrap. MTS-Dialog runs on the repository's slice; the other
 * built-in tasks need the external data sets.
 */
class EvalCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ROUGE_L = "rougeL";

  @TempDir Path dir;
  private final Path model = TestAssets.stories260K();

  /** The repository's data root: MTS-Dialog's validation slice. */
  private final Path slice = TestAssets.mtsDialogSlice();

  /** The data root for the task at hand. */
  private Path data = slice;

  /**
   * One run; the context fits the tasks' prompts in stories260K's 512-token vocabulary, and no
   * more.
   */
  private CliHarness.Run eval(String task, Path out, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "eval",
                model.toString(),
                "--task",
                task,
                "--data",
                data.toString(),
                "--limit",
                "5",
                "--max-tokens",
                "16",
                "--threads",
                "1",
                "--ctx",
                "2048",
                "--out",
                out.toString(),
                "--no-progress",
                "--metrics",
                "rouge,bleu,meteor"));
    args.addAll(List.of(extra));
    return CliHarness.run(args.toArray(String[]::new));
  }

  private static List<JsonNode> predictions(Path out) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (String line :
        Files.readAllLines(out.resolve("predictions.jsonl"), StandardCharsets.UTF_8)) {
      lines.add(JSON.readTree(line));
    }
    return lines;
  }

  private static JsonNode checkOutputs(Path out, String task, String split, String metric)
      throws IOException {
    return checkOutputs(out, task, split, metric, metric);
  }

  private static JsonNode checkOutputs(
      Path out, String task, String split, String metric, String exampleMetric) throws IOException {
    assertTrue(Files.isRegularFile(out.resolve("report.md")));
    JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
    assertEquals(task, metrics.get("task").asText());
    assertEquals(split, metrics.get("split").asText());
    assertEquals(5, metrics.get("count").asInt());
    assertEquals(64, metrics.at("/model/sha256").asText().length());
    assertTrue(metrics.at("/model/bytes").asLong() > 0);
    double value = metrics.at("/metrics/" + metric).asDouble(Double.NaN);
    assertTrue(value >= 0 && value <= 1, metric + " = " + value);
    assertTrue(metrics.at("/decoding/greedy").asBoolean());
    assertTrue(metrics.at("/decoding/template_sha256").asText().length() == 64);
    assertTrue(
        metrics.has("timings") && metrics.has("amalgam_version") && metrics.has("signatures"));
    List<JsonNode> lines = predictions(out);
    assertEquals(5, lines.size());
    for (int i = 0; i < 5; i++) {
      JsonNode n = lines.get(i);
      assertEquals(i, n.get("index").asInt());
      for (String f : List.of("id", "input", "prompt", "prediction", "reference"))
        assertNotNull(n.get(f), f);
      assertTrue(n.get("metrics").has(exampleMetric), n.toString());
    }
    String report = Files.readString(out.resolve("report.md"));
    assertTrue(report.contains("| " + metric + " |"), report);
    return metrics;
  }

  private static Set<Long> nonDaemonThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !t.isDaemon())
        .map(Thread::getId)
        .collect(Collectors.toSet());
  }

  /** A generation run's outputs, its bootstrap interval, BLEU signature and decoding settings. */
  private static JsonNode checkGeneration(Path out, String task, String split, boolean bertscore)
      throws IOException {
    JsonNode metrics = checkOutputs(out, task, split, ROUGE_L, "rougeL_f");
    double low = metrics.at("/ci95/" + ROUGE_L + "/0").asDouble(Double.NaN);
    double high = metrics.at("/ci95/" + ROUGE_L + "/1").asDouble(Double.NaN);
    double value = metrics.at("/metrics/" + ROUGE_L).asDouble();
    assertTrue(
        low <= value && value <= high,
        "bootstrap interval [" + low + ", " + high + "] around " + value);
    assertEquals(
        "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0",
        metrics.at("/signatures/bleu").asText());
    assertTrue(metrics.at("/metrics/bleu").isNumber() && metrics.at("/metrics/meteor").isNumber());
    if (bertscore) {
      assertTrue(metrics.at("/metrics/bertscore_f").isNumber(), metrics.toString());
      assertEquals(
          "mean(100*rougeL, bleu, 100*meteor, 100*bertscore_f)",
          metrics.at("/signatures/composite").asText());
      assertTrue(metrics.at("/metrics/composite").isNumber());
    } else {
      assertFalse(metrics.at("/metrics").has("composite"), "no BERTScore, so no default composite");
    }
    assertEquals(16, metrics.at("/decoding/max_tokens").asInt());
    assertFalse(metrics.at("/decoding/chat").asBoolean(), "stories260K has no chat template");
    for (JsonNode n : predictions(out)) assertTrue(n.get("generated_tokens").asInt() <= 16);
    return metrics;
  }

  private void assertNothingLeftRunning(Set<Long> threadsBefore) {
    assertEquals(0, ProcessHandle.current().children().count(), "no generation child left running");
    Set<Long> leaked = new HashSet<>(nonDaemonThreads());
    leaked.removeAll(threadsBefore);
    assertTrue(leaked.isEmpty(), "non-daemon threads left behind: " + leaked);
  }

  @Test
  void generationOnTheSliceAndOnAJsonlFileLeavesNoProcessOrThread() throws IOException {
    Set<Long> threadsBefore = nonDaemonThreads();
    Path mts = dir.resolve("mts-dialog");
    CliHarness.Run run = eval("mts-dialog", mts);
    run.assertOk();
    assertTrue(run.out().contains("n=5 rouge1="), run.out());
    checkGeneration(mts, "mts-dialog", "validation", false);
    assertTrue(predictions(mts).get(0).get("prompt").asText().contains("Doctor:"));

    Path jsonl = dir.resolve("mine.jsonl");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 7; i++) {
      lines
          .append("{\"id\":\"n")
          .append(i)
          .append("\",\"note\":\"Once upon a time ")
          .append(i)
          .append("\",\"summary\":\"a little girl\"}\n");
    }
    Files.writeString(jsonl, lines);
    Path template = dir.resolve("t.txt");
    Files.writeString(template, "Story: {note}\nSummary:\n");
    Path jsonlOut = dir.resolve("jsonl");
    CliHarness.Run jr =
        CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "jsonl",
            "--data",
            jsonl.toString(),
            "--input-field",
            "note",
            "--reference-field",
            "summary",
            "--template",
            template.toString(),
            "--limit",
            "5",
            "--max-tokens",
            "16",
            "--threads",
            "1",
            "--shots",
            "2",
            "--out",
            jsonlOut.toString(),
            "--no-progress",
            "--metrics",
            "rouge");
    jr.assertOk();
    checkOutputs(jsonlOut, "jsonl", "all", ROUGE_L, "rougeL_f");
    for (JsonNode n : predictions(jsonlOut)) {
      String prompt = n.get("prompt").asText();
      assertTrue(prompt.endsWith("Story: " + n.get("input").asText() + "\nSummary:"), prompt);
      assertEquals(3, prompt.split("Story: ", -1).length - 1, "two shots and the query");
      assertFalse(
          prompt
              .substring(0, prompt.lastIndexOf("Story: "))
              .contains(n.get("input").asText() + "\n"),
          "the query is not among its shots");
    }
    assertNothingLeftRunning(threadsBefore);
  }

  /** The built-in tasks whose data sets are too large for the repository. */
  @Test
  void everyExternalTaskRunsEndToEndAndLeavesNoProcessOrThread() throws IOException {
    data = TestAssets.externalData("");
    for (String set : List.of("aci-bench", "iu-xray", "ifeval", "medqa", "pubmedqa"))
      TestAssets.externalData(set);
    Set<Long> threadsBefore = nonDaemonThreads();

    // ACI-BENCH dialogues are thousands of tokens in stories260K's tiny vocabulary (seconds each on
    // a shared CPU):
    // the test prompts with the visit's short fields; the default template is checked against the
    // fields above.
    Path aciTemplate =
        Files.writeString(dir.resolve("aci.txt"), "Visit {encounter_id} ({dataset}).\nNote:\n");
    Path aci = dir.resolve("aci-bench");
    eval("aci-bench", aci, "--template", aciTemplate.toString()).assertOk();
    checkGeneration(aci, "aci-bench", "valid", false);
    Path xray = dir.resolve("iu-xray");
    eval("iu-xray", xray, "--metrics", "rouge,bleu,meteor,bertscore").assertOk();
    checkGeneration(xray, "iu-xray", "test", true);

    Path ifevalOut = dir.resolve("ifeval");
    eval("ifeval", ifevalOut).assertOk();
    JsonNode ifeval =
        checkOutputs(ifevalOut, "ifeval", "test", "prompt_level_strict_acc", "prompt_level_strict");
    for (String m :
        List.of("inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc")) {
      assertTrue(ifeval.at("/metrics/" + m).isNumber(), m);
    }
    for (JsonNode n : predictions(ifevalOut)) {
      assertTrue(n.at("/metrics/inst_total").asInt() >= 1, n.toString());
      assertTrue(
          n.at("/metrics/inst_followed_strict").asInt()
              <= n.at("/metrics/inst_followed_loose").asInt());
    }

    for (String task : List.of("medqa", "pubmedqa")) {
      Path out = dir.resolve(task);
      eval(task, out, "--mc-mode", "loglik").assertOk();
      JsonNode metrics = checkOutputs(out, task, "test", "acc");
      assertTrue(metrics.at("/metrics/acc_norm").isNumber());
      assertEquals("loglik", metrics.at("/decoding/mc_mode").asText());
      for (JsonNode n : predictions(out)) {
        List<String> options = new ArrayList<>();
        n.get("options").forEach(o -> options.add(o.asText()));
        assertTrue(options.contains(n.get("predicted").asText()), n.toString());
        assertTrue(options.contains(n.get("gold").asText()), n.toString());
        assertEquals(options.size(), n.get("loglikelihoods").size());
        assertTrue(n.get("prompt").asText().endsWith("Answer:"));
        double best = Double.NEGATIVE_INFINITY;
        String argmax = null;
        for (String o : options) {
          double ll = n.at("/loglikelihoods/" + o).asDouble();
          assertTrue(ll < 0, "a log-likelihood is negative");
          if (ll > best) {
            best = ll;
            argmax = o;
          }
        }
        assertEquals(argmax, n.get("predicted").asText());
        assertEquals(
            n.get("predicted").asText().equals(n.get("gold").asText()) ? 1.0 : 0.0,
            n.at("/metrics/acc").asDouble());
      }
      // The harness scores the options over a shared prompt decode; the values are those of one
      // call per option.
      try (LlamaScorer single =
          LlamaScorer.open(model, ScorerOptions.builder().contextSize(2048).threads(1).build())) {
        for (JsonNode n : predictions(out)) {
          for (JsonNode o : n.get("options")) {
            assertEquals(
                single
                    .continuationLogLikelihood(n.get("prompt").asText(), " " + o.asText())
                    .logLikelihood(),
                n.at("/loglikelihoods/" + o.asText()).doubleValue(),
                0.0,
                n.get("id").asText() + " " + o.asText());
          }
        }
      }
    }

    Path grammarOut = dir.resolve("pubmedqa-grammar");
    eval("pubmedqa", grammarOut, "--mc-mode", "grammar").assertOk();
    checkOutputs(grammarOut, "pubmedqa", "test", "acc");
    for (JsonNode n : predictions(grammarOut)) {
      assertTrue(Set.of("yes", "no", "maybe").contains(n.get("predicted").asText()), n.toString());
    }

    assertNothingLeftRunning(threadsBefore);
  }

  @Test
  void severalModelsGetTheirOwnSubfolders() throws IOException {
    Path copy = dir.resolve("other.gguf");
    Files.copy(model, copy);
    Path out = dir.resolve("both");
    CliHarness.Run run =
        CliHarness.run(
            "eval",
            model.toString(),
            copy.toString(),
            "--task",
            "mts-dialog",
            "--data",
            data.toString(),
            "--limit",
            "5",
            "--max-tokens",
            "4",
            "--threads",
            "1",
            "--out",
            out.toString(),
            "--no-progress",
            "--metrics",
            "rouge");
    run.assertOk();
    JsonNode a =
        checkOutputs(out.resolve("stories260K"), "mts-dialog", "validation", ROUGE_L, "rougeL_f");
    JsonNode b =
        checkOutputs(out.resolve("other"), "mts-dialog", "validation", ROUGE_L, "rougeL_f");
    assertEquals(a.at("/model/sha256"), b.at("/model/sha256"), "same bytes, same hash");
    assertEquals(
        predictions(out.resolve("stories260K")).get(0).get("prediction"),
        predictions(out.resolve("other")).get(0).get("prediction"),
        "greedy decoding is deterministic");
    CliHarness.Run compared =
        CliHarness.run(
            "compare",
            out.resolve("stories260K").toString(),
            out.resolve("other").toString(),
            "--metrics",
            "rouge",
            "--json");
    compared.assertOk();
    JsonNode deltas = JSON.readTree(compared.out());
    assertEquals(5, deltas.get("count").asInt());
    assertEquals(
        0.0, deltas.at("/metrics/rougeL/delta").asDouble(), "the same model twice: no difference");
    assertEquals(0, ProcessHandle.current().children().count());
  }

  @Test
  void withoutDataTheFolderComesFromAmalgamData() throws IOException {
    Supplier<String> environment = EvalCommand.dataEnvironment;
    Path out = dir.resolve("env");
    try {
      EvalCommand.dataEnvironment = () -> null;
      CliHarness.run("eval", model.toString(), "--task", "mts-dialog", "--out", out.toString())
          .assertInvalid(
              "no data for task mts-dialog: give --data DIR", "AMALGAM_DATA", "examples/data");
      assertFalse(Files.exists(out));
      EvalCommand.dataEnvironment = slice::toString;
      CliHarness.run(
              "eval",
              model.toString(),
              "--task",
              "mts-dialog",
              "--limit",
              "2",
              "--max-tokens",
              "4",
              "--threads",
              "1",
              "--metrics",
              "rouge",
              "--no-progress",
              "--out",
              out.toString())
          .assertOk();
      assertEquals(2, predictions(out).size());
    } finally {
      EvalCommand.dataEnvironment = environment;
    }
  }

  @Test
  void badInputExitsWithTwoAndOneLine() throws IOException {
    Path out = dir.resolve("o");
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "medmcqa",
            "--data",
            data.toString(),
            "--out",
            out.toString())
        .assertInvalid("unknown task 'medmcqa'", "pubmedqa");
    CliHarness.run(
            "eval",
            dir.resolve("none.gguf").toString(),
            "--task",
            "medqa",
            "--data",
            data.toString())
        .assertInvalid("no such model file", "none.gguf");
    Path text = Files.writeString(dir.resolve("model.gguf"), "not a model");
    CliHarness.run("eval", text.toString(), "--task", "medqa", "--data", data.toString())
        .assertInvalid("model.gguf: not a GGUF file");
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "medqa",
            "--data",
            dir.toString(),
            "--out",
            out.toString())
        .assertInvalid("missing data for task medqa: looked in " + dir.resolve("medqa"));
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "mts-dialog",
            "--data",
            data.toString(),
            "--split",
            "dev",
            "--out",
            out.toString())
        .assertInvalid("no split 'dev'", "train, validation, test1, test2");
    Path empty = Files.writeString(dir.resolve("empty.jsonl"), "\n");
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "jsonl",
            "--data",
            empty.toString(),
            "--out",
            out.toString())
        .assertInvalid("has no examples");
    Path bad =
        Files.writeString(
            dir.resolve("bad.jsonl"), "{\"input\":\"a\",\"reference\":\"b\"}\n{\"input\":\"a\"}\n");
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "jsonl",
            "--data",
            bad.toString(),
            "--out",
            out.toString())
        .assertInvalid(bad + ": line 2, field 'reference': missing");
    Path template = Files.writeString(dir.resolve("t.txt"), "Dialog: {dialog}\n");
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "mts-dialog",
            "--data",
            data.toString(),
            "--template",
            template.toString(),
            "--out",
            out.toString())
        .assertInvalid("unknown placeholder '{dialog}'", "dialogue");
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "medqa",
            "--data",
            data.toString(),
            "--mc-mode",
            "vote",
            "--out",
            out.toString())
        .assertInvalid("--mc-mode must be loglik or grammar");
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "mts-dialog",
            "--data",
            data.toString(),
            "--limit",
            "1",
            "--max-tokens",
            "4",
            "--ctx",
            "32",
            "--threads",
            "1",
            "--out",
            out.toString(),
            "--no-progress")
        .assertInvalid("example 0 (id ", "leaves no room in the context of 32 tokens");
    assertFalse(Files.exists(out), "no output after failures");
    Files.createDirectories(out);
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "mts-dialog",
            "--data",
            data.toString(),
            "--out",
            out.toString())
        .assertInvalid("output folder already exists");
    CliHarness.run(
            "eval",
            model.toString(),
            "--task",
            "mts-dialog",
            "--data",
            data.toString(),
            "--metrics",
            "cider",
            "--out",
            dir.resolve("x").toString())
        .assertInvalid("unknown metric 'cider'");
    assertFalse(Files.exists(dir.resolve("x")));
  }
}
