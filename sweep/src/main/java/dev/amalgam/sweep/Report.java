package dev.amalgam.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report of a finished sweep as one document model, rendered to Markdown (report.md, the charts
 * beside it as PNG) and to one self-contained HTML page (report.html, the charts inline as SVG).
 */
final class Report {
  private sealed interface Block permits Heading, Para, Table, Image {}

  private record Heading(int level, String text) implements Block {}

  private record Para(String text) implements Block {}

  private record Table(List<String> header, List<List<String>> rows) implements Block {}

  private record Image(String name, String alt) implements Block {}

  private final String title;
  private final List<Block> blocks = new ArrayList<>();

  Report(
      Sweep sweep,
      List<PointResult> results,
      List<PointResult> front,
      Recommendation recommendation,
      List<Comparisons.Row> comparisons) {
    SweepSpec spec = sweep.spec();
    title = "Sweep " + spec.name();
    List<String> models = new ArrayList<>();
    for (SweepSpec.ModelInput m : spec.models()) {
      models.add(
          m.name()
              + (m.name().equals(spec.base()) ? " (base)" : "")
              + ": "
              + m.path().getFileName());
    }
    blocks.add(
        new Para(
            "Models: "
                + String.join("; ", models)
                + ". Methods: "
                + String.join(", ", spec.grid().methods())
                + ". "
                + results.size()
                + " points ("
                + spec.models().size()
                + " input models as reference points). Clinical objective: "
                + Outputs.objectiveLabel(spec, "clinical")
                + ". Instruction-following objective: "
                + Outputs.objectiveLabel(spec, "instruction")
                + "."));

    blocks.add(new Heading(2, "Recommendation"));
    blocks.add(new Para("Rule: " + recommendation.rule() + "."));
    if (recommendation.point().isPresent()) {
      PointResult r = recommendation.point().get();
      blocks.add(
          new Para(
              "Recommended: **"
                  + r.point().label()
                  + "**, clinical "
                  + measure(r.clinical())
                  + ", instruction following "
                  + measure(r.instruction())
                  + " ("
                  + recommendation.reason()
                  + "). Model key "
                  + r.modelKey().substring(0, Math.min(16, r.modelKey().length()))
                  + (spec.output().keep()
                      ? "; the merged model is kept at " + sweep.cache().merge(r.modelKey())
                      : "")
                  + ". To make it: `amalgam merge "
                  + Outputs.RECOMMENDED
                  + " OUT.gguf"
                  + (spec.output().type() != null ? " --out-type " + spec.output().type() : "")
                  + "` in "
                  + sweep.outDir()
                  + "."));
    } else {
      blocks.add(new Para("No merge is recommended: " + recommendation.reason() + "."));
    }

    blocks.add(new Heading(2, "Trade-off"));
    blocks.add(
        new Para(
            "Clinical objective against instruction following, one panel per method; bars are 95 % bootstrap"
                + " intervals, the dashed line is the Pareto front, diamonds are the input models and the ring"
                + " is the recommended merge."));
    blocks.add(new Image(Outputs.TRADEOFF, "trade-off chart"));

    blocks.add(new Heading(2, "Pareto front"));
    List<List<String>> frontRows = new ArrayList<>();
    for (PointResult r : front) {
      frontRows.add(
          List.of(
              String.valueOf(r.point().index()),
              r.point().label(),
              measure(r.clinical()),
              measure(r.instruction())));
    }
    blocks.add(new Table(List.of("#", "point", "clinical", "instruction following"), frontRows));

    blocks.add(new Heading(2, "All points"));
    List<String> header =
        new ArrayList<>(List.of("#", "point", "clinical", "instruction following"));
    for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) header.add(t.id() + " " + t.metric());
    header.add("front");
    List<List<String>> rows = new ArrayList<>();
    for (PointResult r : results) {
      List<String> row = new ArrayList<>();
      row.add(String.valueOf(r.point().index()));
      row.add(r.point().label() + (r.point().kind().equals(GridPoint.REFINE) ? " (refined)" : ""));
      row.add(measure(r.clinical()));
      row.add(measure(r.instruction()));
      for (SweepSpec.TaskSpec t : spec.evaluation().tasks())
        row.add(measure(r.tasks().get(t.id()).measure(t.metric())));
      row.add(front.contains(r) ? "yes" : "");
      rows.add(row);
    }
    blocks.add(new Table(header, rows));

    blocks.add(new Heading(2, "Metrics against t"));
    blocks.add(new Image(Outputs.METRICS, "metrics against t"));

    if (recommendation.point().isPresent()) {
      PointResult r = recommendation.point().get();
      blocks.add(new Heading(2, "Compared with the input models"));
      blocks.add(
          new Para(
              "amalgam compare between each input model (A) and the recommended merge (B) on the same examples:"
                  + " paired bootstrap, "
                  + spec.evaluation().bootstrapSamples()
                  + " resamples; delta = B - A. amalgam compare on the evaluation folders in the cache gives"
                  + " the same numbers, for example: `"
                  + compareCommand(sweep, results.get(0), r)
                  + "`."));
      List<List<String>> cmp = new ArrayList<>();
      for (Comparisons.Row c : comparisons) {
        cmp.add(
            List.of(
                c.task(),
                c.model(),
                c.metric(),
                Outputs.f(c.delta().a()),
                Outputs.f(c.delta().b()),
                String.format(Locale.ROOT, "%+.4f", c.delta().delta()),
                String.format(Locale.ROOT, "[%+.4f, %+.4f]", c.delta().lower(), c.delta().upper()),
                Outputs.f(c.delta().pValue())));
      }
      blocks.add(
          new Table(List.of("task", "model (A)", "metric", "A", "B", "delta", "95% CI", "p"), cmp));
    }

    blocks.add(new Heading(2, "Settings"));
    List<String> tasks = new ArrayList<>();
    for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) {
      tasks.add(
          t.id()
              + " ("
              + t.task()
              + (t.split() != null ? ", split " + t.split() : "")
              + (t.limit() != null ? ", " + t.limit() + " examples" : "")
              + ", "
              + t.shots()
              + " shots"
              + (t.maxTokens() != null ? ", max " + t.maxTokens() + " tokens" : "")
              + ")");
    }
    SweepSpec.EvaluationSpec e = spec.evaluation();
    blocks.add(
        new Para(
            "Tasks: "
                + String.join("; ", tasks)
                + ". Metrics: "
                + String.join(", ", e.metrics())
                + "; composite "
                + e.composite()
                + ". Context "
                + e.contextSize()
                + ", threads "
                + e.threads()
                + ", seed "
                + e.seed()
                + ". Merged models: "
                + (spec.output().type() != null ? spec.output().type() : "the merge's dtype")
                + (spec.output().keep() ? ", kept" : ", deleted once evaluated")
                + ". Sweep file: "
                + spec.file()
                + "; amalgam "
                + SweepCache.codeVersion()
                + "."));
  }

  /** The amalgam compare command line of the first task between an input model and the merge. */
  private static String compareCommand(Sweep sweep, PointResult input, PointResult merge) {
    SweepSpec.EvaluationSpec e = sweep.spec().evaluation();
    SweepSpec.TaskSpec task = e.tasks().get(0);
    return "amalgam compare "
        + sweep.cache().evaluation(input.tasks().get(task.id()).evalKey())
        + " "
        + sweep.cache().evaluation(merge.tasks().get(task.id()).evalKey())
        + " --samples "
        + e.bootstrapSamples()
        + " --metrics "
        + String.join(",", e.metrics())
        + " --composite "
        + e.composite();
  }

  private static String measure(Measure m) {
    if (!m.isKnown()) return "-";
    return m.hasInterval()
        ? String.format(Locale.ROOT, "%.4f [%.4f, %.4f]", m.value(), m.lower(), m.upper())
        : Outputs.f(m.value());
  }

  String markdown() {
    StringBuilder b = new StringBuilder("# ").append(title).append("\n\n");
    for (Block block : blocks) {
      if (block instanceof Heading h) {
        b.append("#".repeat(h.level())).append(' ').append(h.text()).append("\n\n");
      } else if (block instanceof Para p) {
        b.append(p.text()).append("\n\n");
      } else if (block instanceof Table t) {
        b.append("| ").append(String.join(" | ", t.header())).append(" |\n|");
        for (int i = 0; i < t.header().size(); i++) b.append("---|");
        b.append('\n');
        for (List<String> row : t.rows()) {
          b.append("| ")
              .append(String.join(" | ", row.stream().map(c -> c.replace("|", "\\|")).toList()))
              .append(" |\n");
        }
        b.append('\n');
      } else if (block instanceof Image i) {
        b.append("![")
            .append(i.alt())
            .append("](")
            .append(i.name())
            .append(".png) ([SVG](")
            .append(i.name())
            .append(".svg))\n\n");
      }
    }
    return b.toString();
  }

  String html(String tradeoffSvg, String metricsSvg) {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
        .append(escape(title))
        .append("</title>\n<style>\n")
        .append(
            "body{font-family:sans-serif;margin:2em auto;max-width:1600px;padding:0 1em;color:#222}\n")
        .append("table{border-collapse:collapse;margin:1em 0;font-size:0.9em}\n")
        .append("th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}\n")
        .append("th{background:#f3f3f3}\n.chart svg{max-width:100%;height:auto}\n")
        .append("</style>\n</head>\n<body>\n<h1>")
        .append(escape(title))
        .append("</h1>\n");
    for (Block block : blocks) {
      if (block instanceof Heading h) {
        b.append("<h")
            .append(h.level())
            .append('>')
            .append(escape(h.text()))
            .append("</h")
            .append(h.level())
            .append(">\n");
      } else if (block instanceof Para p) {
        b.append("<p>").append(inline(p.text())).append("</p>\n");
      } else if (block instanceof Table t) {
        b.append("<table>\n<tr>");
        for (String h : t.header()) b.append("<th>").append(escape(h)).append("</th>");
        b.append("</tr>\n");
        for (List<String> row : t.rows()) {
          b.append("<tr>");
          for (String c : row) b.append("<td>").append(escape(c)).append("</td>");
          b.append("</tr>\n");
        }
        b.append("</table>\n");
      } else if (block instanceof Image i) {
        String svg = i.name().equals(Outputs.TRADEOFF) ? tradeoffSvg : metricsSvg;
        b.append("<div class=\"chart\" role=\"img\" aria-label=\"")
            .append(escape(i.alt()))
            .append("\">\n");
        b.append(
                svg.replaceFirst("^<\\?xml[^>]*>\\s*", "").replaceFirst("^<!DOCTYPE[^>]*>\\s*", ""))
            .append("\n</div>\n");
      }
    }
    b.append("</body>\n</html>\n");
    return b.toString();
  }

  /** Escapes text, then renders **bold** and `code` as the Markdown does. */
  private static String inline(String text) {
    return escape(text)
        .replaceAll("\\*\\*([^*]+)\\*\\*", "<strong>$1</strong>")
        .replaceAll("`([^`]+)`", "<code>$1</code>");
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
