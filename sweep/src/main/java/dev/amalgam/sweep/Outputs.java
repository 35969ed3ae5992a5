package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.ifeval.IfevalCorpus;
import dev.amalgam.eval.score.Composite;
import dev.amalgam.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes a finished sweep's files, each atomically (a temporary name, then a rename):
 * results.jsonl, the charts as PNG and SVG, report.md and report.html (one self-contained page: the
 * charts inline, no scripts, nothing fetched).
 */
final class Outputs {
  static final String RESULTS = "results.jsonl";
  static final String TRADEOFF = "tradeoff";
  static final String METRICS = "metrics";
  static final String RECOMMENDED = "recommended-merge.yml";

  private Outputs() {}

  static SweepOutcome write(Sweep sweep, List<PointResult> results) throws IOException {
    SweepSpec spec = sweep.spec();
    Path out = sweep.outDir();
    List<PointResult> front = ParetoFront.of(results);
    Recommendation recommendation = Recommendation.choose(spec.recommend(), results);
    List<PointResult> inputs = results.stream().filter(r -> r.point().isInput()).toList();
    List<Comparisons.Row> comparisons =
        recommendation.point().isPresent()
            ? Comparisons.of(sweep, recommendation.point().get(), inputs)
            : List.of();
    List<Path> files = new ArrayList<>();

    StringBuilder jsonl = new StringBuilder();
    for (PointResult r : results) {
      jsonl
          .append(row(r, front.contains(r), recommendation.point().filter(p -> p == r).isPresent()))
          .append('\n');
    }
    files.add(write(out.resolve(RESULTS), jsonl.toString().getBytes(StandardCharsets.UTF_8)));

    List<String> methods = spec.grid().methods();
    String xLabel = objectiveLabel(spec, "instruction");
    String yLabel = objectiveLabel(spec, "clinical");
    Charts.Picture tradeoff =
        Charts.tradeoff(
            methods, results, front, recommendation.point().orElse(null), xLabel, yLabel);
    Charts.Picture metrics = Charts.againstT(methods, results, series(spec, results));
    byte[] tradeoffPng = tradeoff.png();
    String tradeoffSvg = tradeoff.svg();
    byte[] metricsPng = metrics.png();
    String metricsSvg = metrics.svg();
    files.add(write(out.resolve(TRADEOFF + ".png"), tradeoffPng));
    files.add(write(out.resolve(TRADEOFF + ".svg"), tradeoffSvg.getBytes(StandardCharsets.UTF_8)));
    files.add(write(out.resolve(METRICS + ".png"), metricsPng));
    files.add(write(out.resolve(METRICS + ".svg"), metricsSvg.getBytes(StandardCharsets.UTF_8)));

    if (recommendation.point().isPresent()) {
      // The recommended merge as a mergekit configuration: amalgam merge recommended-merge.yml
      // OUT.gguf
      String yaml =
          "# The recommended merge of sweep "
              + spec.name()
              + ": "
              + recommendation.point().get().point().label()
              + "\n"
              + MergeStep.configYaml(
                  spec,
                  recommendation.point().get().point(),
                  m -> m.path().toAbsolutePath().toString());
      files.add(write(out.resolve(RECOMMENDED), yaml.getBytes(StandardCharsets.UTF_8)));
    } else {
      Files.deleteIfExists(out.resolve(RECOMMENDED));
    }
    Report report = new Report(sweep, results, front, recommendation, comparisons);
    files.add(write(out.resolve("report.md"), report.markdown().getBytes(StandardCharsets.UTF_8)));
    files.add(
        write(
            out.resolve("report.html"),
            report.html(tradeoffSvg, metricsSvg).getBytes(StandardCharsets.UTF_8)));
    return new SweepOutcome(results, front, recommendation, comparisons, files);
  }

  /** The label of an objective: its tasks and metrics. */
  static String objectiveLabel(SweepSpec spec, String objective) {
    List<String> parts = new ArrayList<>();
    for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) {
      if (t.objective().equals(objective)) parts.add(t.id() + " " + t.metric());
    }
    if (parts.isEmpty()) return objective + " (no task)";
    return (parts.size() > 1 ? "mean of " : "") + String.join(", ", parts);
  }

  /**
   * The panels of the metrics-against-t chart: the two objectives, then each task's metrics: the
   * one that counts for its objective, and for generation tasks the composite's components, for
   * IFEval the other accuracies, for multiple choice acc_norm, where computed.
   */
  static Map<String, Function<PointResult, Measure>> series(
      SweepSpec spec, List<PointResult> results) {
    Map<String, Function<PointResult, Measure>> out = new LinkedHashMap<>();
    out.put("clinical: " + objectiveLabel(spec, "clinical"), PointResult::clinical);
    out.put("instruction: " + objectiveLabel(spec, "instruction"), PointResult::instruction);
    List<String> components =
        new ArrayList<>(Composite.parse(spec.evaluation().composite()).weights().keySet());
    for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) {
      List<String> metrics = new ArrayList<>(List.of(t.metric()));
      switch (EvaluationStep.task(t).kind()) {
        case GENERATION -> metrics.addAll(components);
        case INSTRUCTION_FOLLOWING -> metrics.addAll(IfevalCorpus.METRICS);
        default -> metrics.add("acc_norm");
      }
      for (String metric : metrics.stream().distinct().toList()) {
        String title = t.id() + " " + metric;
        boolean computed =
            results.stream().anyMatch(r -> r.tasks().get(t.id()).metrics().containsKey(metric));
        if (!computed || out.keySet().stream().anyMatch(k -> k.endsWith(": " + title))) continue;
        out.put(title, r -> r.tasks().get(t.id()).measure(metric));
      }
    }
    return out;
  }

  static ObjectNode row(PointResult r, boolean pareto, boolean recommended) {
    ObjectNode n = r.point().toJson();
    n.put("model_key", r.modelKey());
    ObjectNode objectives = n.putObject("objectives");
    measure(objectives, "clinical", r.clinical());
    measure(objectives, "instruction", r.instruction());
    ObjectNode tasks = n.putObject("tasks");
    r.tasks()
        .forEach(
            (id, t) -> {
              ObjectNode tn = tasks.putObject(id);
              tn.put("eval_key", t.evalKey());
              tn.put("count", t.count());
              ObjectNode m = tn.putObject("metrics");
              t.metrics().forEach((name, v) -> number(m, name, v));
              ObjectNode ci = tn.putObject("ci95");
              t.metrics()
                  .keySet()
                  .forEach(
                      name -> {
                        Measure c = t.ci95().get(name);
                        if (c == null || !c.hasInterval()) {
                          ci.putNull(name);
                        } else {
                          ci.putArray(name).add(c.lower()).add(c.upper());
                        }
                      });
            });
    n.put("pareto", pareto);
    n.put("recommended", recommended);
    return n;
  }

  private static void measure(ObjectNode parent, String name, Measure m) {
    ObjectNode n = parent.putObject(name);
    number(n, "value", m.value());
    if (m.hasInterval()) {
      n.putArray("ci95").add(m.lower()).add(m.upper());
    } else {
      n.putNull("ci95");
    }
  }

  /** JSON has no NaN: an unknown value is null. */
  private static void number(ObjectNode n, String name, double v) {
    if (Double.isFinite(v)) {
      n.put(name, v);
    } else {
      n.putNull(name);
    }
  }

  static Path write(Path target, byte[] bytes) throws IOException {
    Files.createDirectories(target.toAbsolutePath().getParent());
    Path tmp = AtomicFiles.hiddenSibling(target, "partial");
    try {
      Files.write(tmp, bytes);
      AtomicFiles.moveReplacing(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return target;
  }

  static String f(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "-";
  }
}
