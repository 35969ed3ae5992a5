package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.score.MetricSuite;
import dev.amalgam.eval.score.ScoreOptions;
import dev.amalgam.eval.score.ScoreOptions.Metric;
import dev.amalgam.eval.score.TextScores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code amalgam compare} on run folders written in amalgam eval's layout. */
class CompareCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] WORDS = {
    "patient",
    "reports",
    "chest",
    "pain",
    "no",
    "fever",
    "denies",
    "cough",
    "history",
    "of",
    "hypertension",
    "takes",
    "lisinopril",
    "daily",
    "mild",
    "shortness",
    "breath"
  };
  @TempDir Path tmp;

  /**
   * A run folder: metrics.json with the task, predictions.jsonl from the given per-example objects.
   */
  private Path runDir(String name, String task, int n, IntFunction<ObjectNode> line)
      throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    ObjectNode metrics = JSON.createObjectNode();
    metrics.put("task", task);
    metrics
        .putObject("signatures")
        .put("bleu", "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
    Files.writeString(dir.resolve("metrics.json"), metrics.toString());
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < n; i++) {
      ObjectNode l = line.apply(i);
      l.put("index", i);
      l.put("id", "ex" + i);
      lines.append(l).append('\n');
    }
    Files.writeString(dir.resolve("predictions.jsonl"), lines);
    return dir;
  }

  private static String sentence(Random random, int words) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < words; i++)
      s.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
    return s.toString();
  }

  @Test
  void generationRunsAreRescoredAndABetterSystemWins() throws IOException {
    int n = 60;
    Random random = new Random(3);
    List<String> refs = new ArrayList<>();
    List<String> weak = new ArrayList<>();
    List<String> strong = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String ref = sentence(random, 12);
      refs.add(ref);
      weak.add(sentence(random, 12));
      // the strong system copies the first 8 reference words, then guesses
      strong.add(
          String.join(" ", List.of(ref.split(" ")).subList(0, 8)) + " " + sentence(random, 4));
    }
    ObjectNode base = JSON.createObjectNode();
    Path a =
        runDir(
            "a",
            "mts-dialog",
            n,
            i ->
                base.deepCopy()
                    .put("prediction", weak.get(i))
                    .put("reference", refs.get(i))
                    .set("metrics", JSON.createObjectNode()));
    Path b =
        runDir(
            "b",
            "mts-dialog",
            n,
            i ->
                base.deepCopy()
                    .put("prediction", strong.get(i))
                    .put("reference", refs.get(i))
                    .set("metrics", JSON.createObjectNode()));
    CliHarness.Run r =
        run("compare", a.toString(), b.toString(), "--metrics", "rouge,bleu,meteor", "--json");
    r.assertOk();
    JsonNode out = JSON.readTree(r.out());
    assertEquals(n, out.get("count").asInt());
    ScoreOptions options =
        ScoreOptions.builder()
            .metrics(EnumSet.of(Metric.ROUGE, Metric.BLEU, Metric.METEOR))
            .build();
    try (MetricSuite suite = MetricSuite.create(options, w -> {})) {
      TextScores sa = suite.score(weak, refs);
      TextScores sb = suite.score(strong, refs);
      int[] all = java.util.stream.IntStream.range(0, n).toArray();
      for (String metric : List.of("rougeL", "bleu", "meteor")) {
        JsonNode m = out.at("/metrics/" + metric);
        assertEquals(sa.aggregate(all).get(metric), m.get("a").asDouble(), 1e-12, metric);
        assertEquals(sb.aggregate(all).get(metric), m.get("b").asDouble(), 1e-12, metric);
        assertTrue(m.get("delta").asDouble() > 0 && m.at("/ci95/0").asDouble() > 0, m.toString());
        assertTrue(m.get("p_value").asDouble() < 0.01, m.toString());
      }
    }
    // the same run against itself: no difference
    JsonNode same =
        JSON.readTree(
            run("compare", a.toString(), a.toString(), "--metrics", "rouge", "--json").out());
    assertEquals(0.0, same.at("/metrics/rougeL/delta").asDouble());
    assertEquals(1.0, same.at("/metrics/rougeL/p_value").asDouble());
    // table output names the runs and the metrics
    CliHarness.Run table = run("compare", a.toString(), b.toString(), "--metrics", "rouge");
    table.assertOk();
    assertTrue(
        table.out().contains("60 paired examples") && table.out().contains("rougeLsum"),
        table.out());
  }

  @Test
  void multipleChoiceAndIfevalRunsResampleTheirPerExampleValues() throws IOException {
    int n = 200;
    Path a =
        runDir(
            "mc-a",
            "medqa",
            n,
            i -> {
              ObjectNode l = JSON.createObjectNode().put("reference", "A");
              l.putObject("metrics").put("acc", i % 4 == 0 ? 1.0 : 0.0).put("acc_norm", 0.0);
              return l;
            });
    Path b =
        runDir(
            "mc-b",
            "medqa",
            n,
            i -> {
              ObjectNode l = JSON.createObjectNode().put("reference", "A");
              l.putObject("metrics")
                  .put("acc", i % 4 == 0 || i % 4 == 1 ? 1.0 : 0.0)
                  .put("acc_norm", 0.0);
              return l;
            });
    JsonNode out = JSON.readTree(run("compare", a.toString(), b.toString(), "--json").out());
    assertEquals(0.25, out.at("/metrics/acc/a").asDouble(), 1e-12);
    assertEquals(0.5, out.at("/metrics/acc/b").asDouble(), 1e-12);
    assertTrue(out.at("/metrics/acc/p_value").asDouble() < 0.01);
    assertEquals(0.0, out.at("/metrics/acc_norm/delta").asDouble());

    Path ia =
        runDir(
            "if-a",
            "ifeval",
            4,
            i -> {
              ObjectNode l = JSON.createObjectNode();
              l.putObject("metrics")
                  .put("prompt_level_strict", i % 2)
                  .put("prompt_level_loose", 1)
                  .put("inst_followed_strict", i % 2 == 0 ? 0 : 2)
                  .put("inst_followed_loose", 2)
                  .put("inst_total", 2);
              return l;
            });
    JsonNode same = JSON.readTree(run("compare", ia.toString(), ia.toString(), "--json").out());
    assertEquals(0.5, same.at("/metrics/prompt_level_strict_acc/a").asDouble(), 1e-12);
    assertEquals(0.5, same.at("/metrics/inst_level_strict_acc/a").asDouble(), 1e-12);
    assertEquals(1.0, same.at("/metrics/inst_level_loose_acc/b").asDouble(), 1e-12);
  }

  @Test
  void aSignatureOtherThanTheRunsDrawsAWarning() throws IOException {
    IntFunction<ObjectNode> gen =
        i -> {
          ObjectNode l =
              JSON.createObjectNode()
                  .put("prediction", "chest pain")
                  .put("reference", "chest pain " + i);
          l.putObject("metrics");
          return l;
        };
    Path a = runDir("a", "mts-dialog", 3, gen);
    // the run's metrics.json records sacreBLEU's default signature; scoring it lowercased would
    // differ
    CliHarness.Run same = run("compare", a.toString(), a.toString(), "--metrics", "bleu");
    same.assertOk();
    assertTrue(same.err().isEmpty(), same.err());
    ObjectNode recorded = (ObjectNode) JSON.readTree(a.resolve("metrics.json").toFile());
    ((ObjectNode) recorded.get("signatures"))
        .put("bleu", "nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.6.0");
    Files.writeString(a.resolve("metrics.json"), recorded.toString());
    CliHarness.Run warned = run("compare", a.toString(), a.toString(), "--metrics", "bleu");
    warned.assertOk();
    assertTrue(
        warned.err().contains("was scored with bleu nrefs:1|case:lc")
            && warned.err().contains("give the scoring options the run used"),
        warned.err());
  }

  @Test
  void mismatchedRunsExitTwo() throws IOException {
    IntFunction<ObjectNode> gen =
        i -> {
          ObjectNode l = JSON.createObjectNode().put("prediction", "x").put("reference", "r" + i);
          l.putObject("metrics");
          return l;
        };
    Path a = runDir("a", "mts-dialog", 3, gen);
    Path fewer = runDir("fewer", "mts-dialog", 2, gen);
    Path other = runDir("other", "iu-xray", 3, gen);
    Path refs = runDir("refs", "mts-dialog", 3, i -> gen.apply(i).put("reference", "different"));
    Path mc =
        runDir(
            "mc",
            "medqa",
            3,
            i -> {
              ObjectNode l = JSON.createObjectNode().put("reference", "A");
              l.putObject("metrics").put("f", 1.0);
              return l;
            });
    Path broken = Files.createDirectories(tmp.resolve("broken"));
    Files.writeString(broken.resolve("metrics.json"), "{\"task\": \"mts-dialog\"}");
    Files.writeString(broken.resolve("predictions.jsonl"), "{\"id\": \"ex0\"\n");
    Object[][] cases = {
      {a, fewer, "different numbers of examples"},
      {a, other, "different tasks"},
      {a, refs, "different references"},
      {a, tmp.resolve("missing"), "not an amalgam eval run"},
      {a, broken, "line 1: not valid JSON"},
      {mc, mc, "lack acc or inst_total"}
    };
    for (Object[] c : cases) {
      run("compare", c[0].toString(), c[1].toString(), "--metrics", "rouge")
          .assertInvalid((String) c[2]);
    }
    run("compare", a.toString(), a.toString(), "--samples", "0")
        .assertInvalid("--samples must be at least 1");
  }
}
