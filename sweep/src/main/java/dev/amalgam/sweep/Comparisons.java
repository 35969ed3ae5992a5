package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.eval.harness.TaskKind;
import dev.amalgam.eval.ifeval.IfevalCorpus;
import dev.amalgam.eval.score.MeanCorpus;
import dev.amalgam.eval.score.ScoredCorpus;
import dev.amalgam.eval.stats.Bootstrap;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code amalgam compare} between the recommended merge and each input model, task by task: a
 * paired bootstrap of every corpus metric (B = the merge, A = the input model), with generation
 * tasks re-scored from their predictions by the sweep's metric suite.
 */
public final class Comparisons {
  private Comparisons() {}

  /**
   * One metric of one comparison.
   *
   * @param task the task id
   * @param model the input model (A)
   * @param metric the metric
   * @param delta the paired difference merge - model, with its interval
   */
  public record Row(String task, String model, String metric, Bootstrap.PairedDelta delta) {}

  /** Compares the recommended point with every input point on every task. */
  static List<Row> of(Sweep sweep, PointResult recommended, List<PointResult> inputs)
      throws IOException {
    List<Row> out = new ArrayList<>();
    Bootstrap bootstrap = sweep.evaluation().bootstrap();
    for (SweepSpec.TaskSpec t : sweep.spec().evaluation().tasks()) {
      TaskKind kind = EvaluationStep.task(t).kind();
      List<JsonNode> b = lines(sweep.cache().evaluation(recommended.tasks().get(t.id()).evalKey()));
      ScoredCorpus cb = corpus(sweep, kind, b);
      for (PointResult input : inputs) {
        List<JsonNode> a = lines(sweep.cache().evaluation(input.tasks().get(t.id()).evalKey()));
        ScoredCorpus ca = corpus(sweep, kind, a);
        for (Map.Entry<String, Bootstrap.PairedDelta> e : bootstrap.paired(ca, cb).entrySet()) {
          out.add(new Row(t.id(), input.point().model(), e.getKey(), e.getValue()));
        }
      }
    }
    return out;
  }

  private static ScoredCorpus corpus(Sweep sweep, TaskKind kind, List<JsonNode> lines) {
    if (kind == TaskKind.GENERATION) {
      List<String> predictions = new ArrayList<>();
      List<String> references = new ArrayList<>();
      for (JsonNode n : lines) {
        predictions.add(n.path("prediction").asText());
        references.add(n.path("reference").asText());
      }
      return sweep.evaluation().suite().score(predictions, references);
    }
    List<Map<String, Double>> rows = new ArrayList<>();
    for (JsonNode n : lines) {
      Map<String, Double> m = new LinkedHashMap<>();
      n.path("metrics")
          .properties()
          .forEach(
              e -> {
                if (e.getValue().isNumber()) m.put(e.getKey(), e.getValue().asDouble());
              });
      rows.add(m);
    }
    if (kind == TaskKind.INSTRUCTION_FOLLOWING) return IfevalCorpus.fromPerExample(rows);
    List<String> names = new ArrayList<>(List.of("acc"));
    if (rows.stream().allMatch(r -> r.containsKey("acc_norm"))) names.add("acc_norm");
    return new MeanCorpus(names, rows, Map.of());
  }

  /**
   * An evaluation's predictions.jsonl, in order (both runs hold the same examples in the same
   * order).
   */
  private static List<JsonNode> lines(Path evalDir) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (BufferedReader in =
        Files.newBufferedReader(evalDir.resolve("predictions.jsonl"), StandardCharsets.UTF_8)) {
      for (String line; (line = in.readLine()) != null; ) {
        if (!line.isBlank()) out.add(SweepCache.JSON.readTree(line));
      }
    }
    return out;
  }
}
