package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.harness.DataException;
import dev.amalgam.eval.harness.TaskKind;
import dev.amalgam.eval.harness.Tasks;
import dev.amalgam.eval.ifeval.IfevalCorpus;
import dev.amalgam.eval.score.MeanCorpus;
import dev.amalgam.eval.score.MetricSuite;
import dev.amalgam.eval.score.ScoredCorpus;
import dev.amalgam.eval.stats.Bootstrap;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam compare RUN_A RUN_B}: paired bootstrap of every corpus metric between two {@code
 * amalgam eval} runs of the same task on the same examples (B minus A, 95% interval, two-sided
 * p-value).
 *
 * <p>Generation tasks are re-scored from the predictions (the corpus metrics, corpus BLEU included,
 * are recomputed on each resample); multiple-choice and IFEval runs are resampled from their
 * per-example values.
 */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Compares two evaluation runs of the same task on the same examples with a paired bootstrap: "
          + "for every corpus metric, B - A with its 95%% interval and a two-sided p-value.",
      "Generation runs are re-scored with the scoring options (give the ones the runs used; a different "
          + "signature draws a warning)."
    })
final class CompareCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "RUN_A",
      description = "An amalgam eval output folder (the baseline).")
  Path runA;

  @Parameters(
      index = "1",
      paramLabel = "RUN_B",
      description = "Another run of the same task and examples.")
  Path runB;

  @Option(
      names = "--samples",
      defaultValue = "1000",
      description = "Bootstrap resamples (default: ${DEFAULT-VALUE}).")
  int samples;

  @Option(
      names = "--seed",
      defaultValue = "12345",
      description = "Bootstrap seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Mixin ScoringOptions scoring;

  /** One run folder, read. */
  private record Run(Path dir, JsonNode metrics, List<JsonNode> lines) {
    String task() {
      return metrics.path("task").asText();
    }
  }

  @Override
  public Integer call() throws IOException {
    if (samples < 1)
      throw new Main.InvalidInputException("--samples must be at least 1, got " + samples);
    Run a = read(runA);
    Run b = read(runB);
    if (!a.task().equals(b.task())) {
      throw new Main.InvalidInputException(
          "the runs are of different tasks: "
              + a.task()
              + " ("
              + runA
              + ") and "
              + b.task()
              + " ("
              + runB
              + ")");
    }
    List<JsonNode> pairedB = pair(a, b);
    TaskKind kind = kindOf(a);
    PrintWriter err = spec.commandLine().getErr();
    ScoredCorpus ca;
    ScoredCorpus cb;
    if (kind == TaskKind.GENERATION) {
      try (MetricSuite suite =
          MetricSuite.create(
              scoring.toScoreOptions(), line -> err.println("amalgam: warning: " + line))) {
        ca = suite.score(texts(a.lines(), "prediction"), texts(a.lines(), "reference"));
        cb = suite.score(texts(pairedB, "prediction"), texts(pairedB, "reference"));
      }
      warnOnSignatures(a, ca, err);
      warnOnSignatures(b, cb, err);
    } else if (kind == TaskKind.MULTIPLE_CHOICE) {
      List<String> names = new ArrayList<>(List.of("acc"));
      if (hasMetric(a.lines(), "acc_norm") && hasMetric(pairedB, "acc_norm")) names.add("acc_norm");
      ca = new MeanCorpus(names, perExample(a.lines(), a.dir()), Map.of());
      cb = new MeanCorpus(names, perExample(pairedB, b.dir()), Map.of());
    } else {
      try {
        ca = IfevalCorpus.fromPerExample(perExample(a.lines(), a.dir()));
        cb = IfevalCorpus.fromPerExample(perExample(pairedB, b.dir()));
      } catch (IllegalArgumentException e) {
        throw new Main.InvalidInputException("cannot read the IFEval results: " + e.getMessage());
      }
    }
    Map<String, Bootstrap.PairedDelta> deltas =
        new Bootstrap(samples, seed, Bootstrap.DEFAULT_LEVEL).paired(ca, cb);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode n = JSON.createObjectNode();
      n.put("task", a.task());
      n.put("count", ca.size());
      n.put("run_a", runA.toString());
      n.put("run_b", runB.toString());
      n.put("samples", samples);
      n.put("seed", seed);
      ObjectNode m = n.putObject("metrics");
      deltas.forEach(
          (name, d) -> {
            ObjectNode e = m.putObject(name);
            e.put("a", d.a());
            e.put("b", d.b());
            e.put("delta", d.delta());
            e.putArray("ci95").add(d.lower()).add(d.upper());
            e.put("p_value", d.pValue());
          });
      out.println(n);
    } else {
      out.printf(
          Locale.ROOT,
          "%s: %d paired examples, %d bootstrap resamples (seed %d); delta = B - A%n",
          a.task(),
          ca.size(),
          samples,
          seed);
      out.printf(Locale.ROOT, "  A = %s%n  B = %s%n", runA, runB);
      out.printf(
          Locale.ROOT,
          "%-24s %10s %10s %10s %23s %8s%n",
          "metric",
          "A",
          "B",
          "delta",
          "95% CI",
          "p");
      deltas.forEach(
          (name, d) ->
              out.printf(
                  Locale.ROOT,
                  "%-24s %10.4f %10.4f %+10.4f  [%+9.4f, %+9.4f] %8.4f%n",
                  name,
                  d.a(),
                  d.b(),
                  d.delta(),
                  d.lower(),
                  d.upper(),
                  d.pValue()));
    }
    return 0;
  }

  private static Run read(Path dir) throws IOException {
    Path metrics = dir.resolve("metrics.json");
    Path predictions = dir.resolve("predictions.jsonl");
    if (!Files.isRegularFile(metrics) || !Files.isRegularFile(predictions)) {
      throw new Main.InvalidInputException(
          dir + ": not an amalgam eval run (needs metrics.json and " + "predictions.jsonl)");
    }
    JsonNode m;
    try {
      m = JSON.readTree(metrics.toFile());
    } catch (IOException e) {
      throw new Main.InvalidInputException(metrics + ": not valid JSON");
    }
    if (m == null || !m.path("task").isTextual())
      throw new Main.InvalidInputException(metrics + ": no task");
    List<JsonNode> lines = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(predictions, StandardCharsets.UTF_8)) {
      int number = 0;
      for (String line; (line = in.readLine()) != null; ) {
        number++;
        if (line.isBlank()) continue;
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (IOException e) {
          throw new Main.InvalidInputException(
              predictions + ": line " + number + ": not valid JSON");
        }
        if (node == null || !node.path("id").isTextual() || !node.path("metrics").isObject()) {
          throw new Main.InvalidInputException(
              predictions + ": line " + number + ": expected an object with id and " + "metrics");
        }
        lines.add(node);
      }
    }
    if (lines.isEmpty()) throw new Main.InvalidInputException(predictions + ": no examples");
    return new Run(dir, m, lines);
  }

  /**
   * B's lines in A's order, matched by example id; the runs must hold the same examples with the
   * same references.
   */
  private List<JsonNode> pair(Run a, Run b) {
    Map<String, JsonNode> byId = new HashMap<>();
    for (JsonNode n : b.lines()) {
      if (byId.put(n.get("id").asText(), n) != null) {
        throw new Main.InvalidInputException(
            b.dir() + ": example id " + n.get("id").asText() + " appears twice");
      }
    }
    if (a.lines().size() != b.lines().size()) {
      throw new Main.InvalidInputException(
          "the runs hold different numbers of examples: "
              + a.lines().size()
              + " ("
              + runA
              + ") and "
              + b.lines().size()
              + " ("
              + runB
              + "); compare needs the same examples");
    }
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode n : a.lines()) {
      String id = n.get("id").asText();
      JsonNode other = byId.get(id);
      if (other == null) {
        throw new Main.InvalidInputException(
            "example "
                + id
                + " of "
                + runA
                + " is not in "
                + runB
                + "; compare needs the same examples");
      }
      if (!Objects.equals(n.path("reference").asText(null), other.path("reference").asText(null))) {
        throw new Main.InvalidInputException(
            "example " + id + " has different references in the two runs");
      }
      out.add(other);
    }
    return out;
  }

  private static TaskKind kindOf(Run run) {
    String task = run.task();
    if (task.equals("jsonl")) return TaskKind.GENERATION;
    try {
      return Tasks.builtIn(task).kind();
    } catch (DataException e) {
      throw new Main.InvalidInputException(run.dir() + ": unknown task '" + task + "'");
    }
  }

  private static List<String> texts(List<JsonNode> lines, String field) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : lines) {
      JsonNode v = n.get(field);
      if (v == null || !v.isTextual()) {
        throw new Main.InvalidInputException(
            "example " + n.path("id").asText() + ": no text field '" + field + "'");
      }
      out.add(v.asText());
    }
    return out;
  }

  private static boolean hasMetric(List<JsonNode> lines, String name) {
    return lines.stream().allMatch(n -> n.get("metrics").has(name));
  }

  private static List<Map<String, Double>> perExample(List<JsonNode> lines, Path dir) {
    List<Map<String, Double>> out = new ArrayList<>();
    for (JsonNode n : lines) {
      Map<String, Double> m = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : n.get("metrics").properties()) {
        if (e.getValue().isNumber()) m.put(e.getKey(), e.getValue().asDouble());
      }
      if (m.isEmpty()) {
        throw new Main.InvalidInputException(
            dir + ": example " + n.path("id").asText() + " has no numeric metrics");
      }
      out.add(m);
    }
    if (out.stream().anyMatch(x -> !x.containsKey("acc") && !x.containsKey("inst_total"))) {
      throw new Main.InvalidInputException(dir + ": per-example metrics lack acc or inst_total");
    }
    return out;
  }

  private static void warnOnSignatures(Run run, ScoredCorpus rescored, PrintWriter err) {
    JsonNode recorded = run.metrics().path("signatures");
    rescored
        .signatures()
        .forEach(
            (name, signature) -> {
              JsonNode old = recorded.get(name);
              if (old != null && !old.asText().equals(signature)) {
                err.println(
                    "amalgam: warning: "
                        + run.dir()
                        + " was scored with "
                        + name
                        + " "
                        + old.asText()
                        + "; compare re-scores with "
                        + signature
                        + " (give the scoring options the run used)");
              }
            });
  }
}
