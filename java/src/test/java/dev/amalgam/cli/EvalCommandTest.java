package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.eval.harness.IfevalChecker;
import dev.amalgam.eval.score.CorpusScorer;
import dev.amalgam.eval.score.ScoredCorpus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code amalgam eval} end to end through the picocli entry on stories260K (5 examples per task, 16 tokens), with a
 * test metric (unigram-overlap F1, corpus = mean) and a fake IFEval checker injected.
 */
class EvalCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String UNIGRAM_F1 = "unigram_f1";

  @TempDir Path dir;
  private Path model;
  private Path data;

  /** Unigram-overlap F1 of lower-cased whitespace tokens; corpus value = mean of the examples. */
  static final CorpusScorer UNIGRAM_SCORER = (predictions, references) -> {
    if (predictions.size() != references.size()) throw new IllegalArgumentException("sizes differ");
    double[] f1 = new double[predictions.size()];
    for (int i = 0; i < f1.length; i++) {
      List<String> p = Arrays.asList(predictions.get(i).toLowerCase(Locale.ROOT).split("\\s+"));
      Map<String, Integer> ref = new HashMap<>();
      for (String t : references.get(i).toLowerCase(Locale.ROOT).split("\\s+")) ref.merge(t, 1, Integer::sum);
      int overlap = 0;
      for (String t : p) {
        if (ref.getOrDefault(t, 0) > 0) {
          ref.merge(t, -1, Integer::sum);
          overlap++;
        }
      }
      int refCount = references.get(i).split("\\s+").length;
      f1[i] = overlap == 0 ? 0 : 2.0 * overlap / (p.size() + refCount);
    }
    return new ScoredCorpus() {
      @Override
      public int size() {
        return f1.length;
      }

      @Override
      public List<String> corpusMetricNames() {
        return List.of(UNIGRAM_F1);
      }

      @Override
      public Map<String, Double> perExample(int index) {
        return Map.of(UNIGRAM_F1, f1[index]);
      }

      @Override
      public Map<String, Double> aggregate(int[] indices) {
        return Map.of(UNIGRAM_F1, Arrays.stream(indices).mapToDouble(i -> f1[i]).average().orElse(Double.NaN));
      }

      @Override
      public Map<String, String> signatures() {
        return Map.of(UNIGRAM_F1, "test:whitespace|lower");
      }
    };
  };

  /** Passes a prompt when its response is non-empty; accuracy = share passed. */
  static final IfevalChecker FAKE_IFEVAL = (prompts, responses) -> {
    List<Map<String, Boolean>> each = new ArrayList<>();
    for (String r : responses) each.add(Map.of("prompt_level_strict", !r.isBlank()));
    double acc = each.stream().filter(m -> m.get("prompt_level_strict")).count() / (double) each.size();
    Map<String, Double> accuracies = new LinkedHashMap<>();
    accuracies.put("prompt_level_strict_acc", acc);
    return new IfevalChecker.Result(accuracies, each);
  };

  @BeforeEach
  void setUp() {
    String shared = System.getProperty("amalgam.shared.dir", "../../shared");
    model = Path.of(shared, "models", "stories260K.gguf");
    data = Path.of(shared, "data");
    assumeTrue(Files.isRegularFile(model), model + " is absent; skipping the eval end-to-end test");
    assumeTrue(Files.isDirectory(data), data + " is absent; skipping the eval end-to-end test");
    EvalCommand.scorers = command -> UNIGRAM_SCORER;
    EvalCommand.ifevalCheckers = command -> FAKE_IFEVAL;
    EvalCommand.intervals = command -> corpus -> Map.of(corpus.corpusMetricNames().get(0), new double[] {0, 1});
  }

  @AfterEach
  void reset() {
    EvalCommand.scorers = EvalCommand::defaultScorer;
    EvalCommand.ifevalCheckers = EvalCommand::defaultIfevalChecker;
    EvalCommand.intervals = command -> null;
  }

  /** One run; the context fits the tasks' prompts in stories260K's 512-token vocabulary, and no more. */
  private CliHarness.Run eval(String task, Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("eval", model.toString(), "--task", task, "--data", data.toString(),
        "--limit", "5", "--max-tokens", "16", "--threads", "1", "--ctx", "2048",
        "--out", out.toString(),
        "--no-progress"));
    args.addAll(List.of(extra));
    return CliHarness.run(args.toArray(String[]::new));
  }

  private static List<JsonNode> predictions(Path out) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("predictions.jsonl"), StandardCharsets.UTF_8)) {
      lines.add(JSON.readTree(line));
    }
    return lines;
  }

  private static JsonNode checkOutputs(Path out, String task, String split, String metric) throws IOException {
    return checkOutputs(out, task, split, metric, metric);
  }

  private static JsonNode checkOutputs(Path out, String task, String split, String metric, String exampleMetric)
      throws IOException {
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
    assertTrue(metrics.has("timings") && metrics.has("amalgam_version") && metrics.has("signatures"));
    List<JsonNode> lines = predictions(out);
    assertEquals(5, lines.size());
    for (int i = 0; i < 5; i++) {
      JsonNode n = lines.get(i);
      assertEquals(i, n.get("index").asInt());
      for (String f : List.of("id", "input", "prompt", "prediction", "reference")) assertNotNull(n.get(f), f);
      assertTrue(n.get("metrics").has(exampleMetric), n.toString());
    }
    String report = Files.readString(out.resolve("report.md"));
    assertTrue(report.contains("| " + metric + " |"), report);
    return metrics;
  }

  private static Set<Long> nonDaemonThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && !t.isDaemon())
        .map(Thread::getId).collect(Collectors.toSet());
  }

  @Test
  void everyTaskRunsEndToEndAndLeavesNoProcessOrThread() throws IOException {
    Set<Long> threadsBefore = nonDaemonThreads();

    // ACI-BENCH dialogues are thousands of tokens in stories260K's tiny vocabulary (seconds each on a shared CPU):
    // the test prompts with the visit's short fields; the default template is checked against the fields above.
    Path aciTemplate = Files.writeString(dir.resolve("aci.txt"), "Visit {encounter_id} ({dataset}).\nNote:\n");
    for (String task : List.of("mts-dialog", "aci-bench", "iu-xray")) {
      Path out = dir.resolve(task);
      CliHarness.Run run = task.equals("aci-bench") ? eval(task, out, "--template", aciTemplate.toString())
          : eval(task, out);
      run.assertOk();
      assertTrue(run.out().contains("n=5 unigram_f1="), run.out());
      String split = Map.of("mts-dialog", "validation", "aci-bench", "valid", "iu-xray", "test").get(task);
      JsonNode metrics = checkOutputs(out, task, split, UNIGRAM_F1);
      assertEquals(0.0, metrics.at("/ci95/" + UNIGRAM_F1 + "/0").asDouble(-1), "the bootstrap hook's interval");
      assertEquals(16, metrics.at("/decoding/max_tokens").asInt());
      assertFalse(metrics.at("/decoding/chat").asBoolean(), "stories260K has no chat template");
      for (JsonNode n : predictions(out)) assertTrue(n.get("generated_tokens").asInt() <= 16);
    }
    assertTrue(predictions(dir.resolve("mts-dialog")).get(0).get("prompt").asText().contains("Doctor:"));

    Path jsonl = dir.resolve("mine.jsonl");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 7; i++) {
      lines.append("{\"id\":\"n").append(i).append("\",\"note\":\"Once upon a time ").append(i)
          .append("\",\"summary\":\"a little girl\"}\n");
    }
    Files.writeString(jsonl, lines);
    Path template = dir.resolve("t.txt");
    Files.writeString(template, "Story: {note}\nSummary:\n");
    Path jsonlOut = dir.resolve("jsonl");
    CliHarness.Run jr = CliHarness.run("eval", model.toString(), "--task", "jsonl", "--data", jsonl.toString(),
        "--input-field", "note", "--reference-field", "summary", "--template", template.toString(), "--limit", "5",
        "--max-tokens", "16", "--threads", "1", "--shots", "2", "--out", jsonlOut.toString(), "--no-progress");
    jr.assertOk();
    checkOutputs(jsonlOut, "jsonl", "all", UNIGRAM_F1);
    for (JsonNode n : predictions(jsonlOut)) {
      String prompt = n.get("prompt").asText();
      assertTrue(prompt.endsWith("Story: " + n.get("input").asText() + "\nSummary:"), prompt);
      assertEquals(3, prompt.split("Story: ", -1).length - 1, "two shots and the query");
      assertFalse(prompt.substring(0, prompt.lastIndexOf("Story: ")).contains(n.get("input").asText() + "\n"),
          "the query is not among its shots");
    }

    Path ifevalOut = dir.resolve("ifeval");
    eval("ifeval", ifevalOut).assertOk();
    checkOutputs(ifevalOut, "ifeval", "test", "prompt_level_strict_acc", "prompt_level_strict");

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
        assertEquals(n.get("predicted").asText().equals(n.get("gold").asText()) ? 1.0 : 0.0,
            n.at("/metrics/acc").asDouble());
      }
    }

    Path grammarOut = dir.resolve("pubmedqa-grammar");
    eval("pubmedqa", grammarOut, "--mc-mode", "grammar").assertOk();
    checkOutputs(grammarOut, "pubmedqa", "test", "acc");
    for (JsonNode n : predictions(grammarOut)) {
      assertTrue(Set.of("yes", "no", "maybe").contains(n.get("predicted").asText()), n.toString());
    }

    assertEquals(0, ProcessHandle.current().children().count(), "no generation child left running");
    Set<Long> leaked = new HashSet<>(nonDaemonThreads());
    leaked.removeAll(threadsBefore);
    assertTrue(leaked.isEmpty(), "non-daemon threads left behind: " + leaked);
  }

  @Test
  void severalModelsGetTheirOwnSubfolders() throws IOException {
    Path copy = dir.resolve("other.gguf");
    Files.copy(model, copy);
    Path out = dir.resolve("both");
    CliHarness.Run run = CliHarness.run("eval", model.toString(), copy.toString(), "--task", "iu-xray", "--data",
        data.toString(), "--limit", "5", "--max-tokens", "4", "--threads", "1", "--out", out.toString(),
        "--no-progress");
    run.assertOk();
    JsonNode a = checkOutputs(out.resolve("stories260K"), "iu-xray", "test", UNIGRAM_F1);
    JsonNode b = checkOutputs(out.resolve("other"), "iu-xray", "test", UNIGRAM_F1);
    assertEquals(a.at("/model/sha256"), b.at("/model/sha256"), "same bytes, same hash");
    assertEquals(predictions(out.resolve("stories260K")).get(0).get("prediction"),
        predictions(out.resolve("other")).get(0).get("prediction"), "greedy decoding is deterministic");
    assertEquals(0, ProcessHandle.current().children().count());
  }

  @Test
  void badInputExitsWithTwoAndOneLine() throws IOException {
    Path out = dir.resolve("o");
    CliHarness.run("eval", model.toString(), "--task", "medmcqa", "--data", data.toString(), "--out", out.toString())
        .assertInvalid("unknown task 'medmcqa'", "pubmedqa");
    CliHarness.run("eval", dir.resolve("none.gguf").toString(), "--task", "medqa", "--data", data.toString())
        .assertInvalid("no such model file", "none.gguf");
    Path text = Files.writeString(dir.resolve("model.gguf"), "not a model");
    CliHarness.run("eval", text.toString(), "--task", "medqa", "--data", data.toString())
        .assertInvalid("model.gguf: not a GGUF file");
    CliHarness.run("eval", model.toString(), "--task", "medqa", "--data", dir.toString(), "--out", out.toString())
        .assertInvalid("missing data for task medqa: looked in " + dir.resolve("medqa"));
    CliHarness.run("eval", model.toString(), "--task", "pubmedqa", "--data", data.toString(), "--split", "dev",
        "--out", out.toString()).assertInvalid("no split 'dev'", "train, test");
    Path empty = Files.writeString(dir.resolve("empty.jsonl"), "\n");
    CliHarness.run("eval", model.toString(), "--task", "jsonl", "--data", empty.toString(), "--out", out.toString())
        .assertInvalid("has no examples");
    Path bad = Files.writeString(dir.resolve("bad.jsonl"),
        "{\"input\":\"a\",\"reference\":\"b\"}\n{\"input\":\"a\"}\n");
    CliHarness.run("eval", model.toString(), "--task", "jsonl", "--data", bad.toString(), "--out", out.toString())
        .assertInvalid(bad + ": line 2, field 'reference': missing");
    Path template = Files.writeString(dir.resolve("t.txt"), "Findings: {finding}\n");
    CliHarness.run("eval", model.toString(), "--task", "iu-xray", "--data", data.toString(), "--template",
        template.toString(), "--out", out.toString()).assertInvalid("unknown placeholder '{finding}'", "findings");
    CliHarness.run("eval", model.toString(), "--task", "medqa", "--data", data.toString(), "--mc-mode", "vote",
        "--out", out.toString()).assertInvalid("--mc-mode must be loglik or grammar");
    CliHarness.run("eval", model.toString(), "--task", "iu-xray", "--data", data.toString(), "--limit", "1",
        "--max-tokens", "4", "--ctx", "32", "--threads", "1", "--out", out.toString(), "--no-progress")
        .assertInvalid("example 0 (id ", "leaves no room in the context of 32 tokens");
    assertFalse(Files.exists(out), "no output after failures");
    Files.createDirectories(out);
    CliHarness.run("eval", model.toString(), "--task", "medqa", "--data", data.toString(), "--out", out.toString())
        .assertInvalid("output folder already exists");
    // Without the lead's wiring the generation tasks stop with a clear failure (exit 1).
    EvalCommand.scorers = EvalCommand::defaultScorer;
    CliHarness.Run unwired = CliHarness.run("eval", model.toString(), "--task", "iu-xray", "--data", data.toString(),
        "--out", dir.resolve("x").toString());
    assertEquals(Main.EXIT_FAILURE, unwired.exitCode());
    assertTrue(unwired.err().contains("metric suite not wired yet"), unwired.err());
  }
}
