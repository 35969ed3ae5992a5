package dev.amalgam.eval.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.AtomicFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes one model's output folder all at once: predictions.jsonl, metrics.json and report.md go
 * into a temporary folder beside the target ({@code .<name>.amalgam-partial-*}), which is renamed
 * to the target at the end, so a reader never sees a half-written folder and a failed run leaves
 * nothing behind.
 */
final class EvalOutputs {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper PRETTY =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private EvalOutputs() {}

  static void write(Path outDir, List<ObjectNode> predictions, ObjectNode metrics, String report)
      throws IOException {
    Path target = outDir.toAbsolutePath();
    Path parent = target.getParent();
    Files.createDirectories(parent);
    Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".amalgam-partial-");
    try {
      try (BufferedWriter w =
          Files.newBufferedWriter(tmp.resolve("predictions.jsonl"), StandardCharsets.UTF_8)) {
        for (ObjectNode n : predictions) {
          w.write(JSON.writeValueAsString(n));
          w.write('\n');
        }
      }
      Files.writeString(
          tmp.resolve("metrics.json"),
          PRETTY.writeValueAsString(metrics) + "\n",
          StandardCharsets.UTF_8);
      Files.writeString(tmp.resolve("report.md"), report, StandardCharsets.UTF_8);
      // A plain rename of a folder within one directory is atomic on POSIX file systems and fails
      // if the target
      // appeared meanwhile, so no other run's results are replaced.
      Files.move(tmp, target);
      AtomicFiles.syncDirectory(target);
    } catch (IOException | RuntimeException e) {
      deleteTree(tmp);
      throw e;
    }
  }

  /**
   * The human-readable report: a metric table with the 95 % intervals, then counts and settings.
   */
  static String report(JsonNode json, Map<String, Double> metrics, Map<String, double[]> ci) {
    StringBuilder md = new StringBuilder();
    md.append("# ")
        .append(json.get("task").asText())
        .append(" (")
        .append(json.get("split").asText())
        .append(") - ")
        .append(Path.of(json.at("/model/path").asText()).getFileName())
        .append("\n\n");
    md.append("| metric | value | 95% CI |\n|---|---:|---|\n");
    for (Map.Entry<String, Double> e : metrics.entrySet()) {
      double[] interval = ci.get(e.getKey());
      md.append("| ")
          .append(e.getKey())
          .append(" | ")
          .append(format(e.getValue()))
          .append(" | ")
          .append(
              interval == null ? "-" : "[" + format(interval[0]) + ", " + format(interval[1]) + "]")
          .append(" |\n");
    }
    JsonNode d = json.get("decoding");
    JsonNode t = json.get("timings");
    md.append("\nExamples: ").append(json.get("count").asInt()).append("  \n");
    md.append("Model: `")
        .append(json.at("/model/path").asText())
        .append("` (")
        .append(json.at("/model/bytes").asLong())
        .append(" bytes, sha256 ")
        .append(json.at("/model/sha256").asText())
        .append(")  \n");
    md.append("Decoding: greedy, max tokens ")
        .append(d.get("max_tokens").asInt())
        .append(", chat ")
        .append(d.get("chat").asBoolean())
        .append(", shots ")
        .append(d.get("shots").asInt())
        .append(", seed ")
        .append(d.get("seed").asLong());
    if (!d.get("mc_mode").isNull()) md.append(", mc mode ").append(d.get("mc_mode").asText());
    md.append(", context ").append(d.get("context_size").asInt());
    if (d.has("parallel")) md.append(", parallel sequences ").append(d.get("parallel").asInt());
    md.append("  \n");
    md.append("Template: ")
        .append(d.get("template_source").asText())
        .append(" (sha256 ")
        .append(d.get("template_sha256").asText(), 0, 12)
        .append(")  \n");
    md.append(
        String.format(
            Locale.ROOT,
            "Timings: load %.1f s, generation %.1f s, scoring %.1f s, %.1f tokens/s%n",
            t.get("load_s").asDouble(),
            t.get("generation_s").asDouble(),
            t.get("scoring_s").asDouble(),
            t.get("tokens_per_s").asDouble()));
    JsonNode signatures = json.get("signatures");
    if (signatures.size() > 0) {
      md.append("\nSignatures:\n\n");
      signatures
          .properties()
          .forEach(
              s ->
                  md.append("- ")
                      .append(s.getKey())
                      .append(": `")
                      .append(s.getValue().asText())
                      .append("`\n"));
    }
    md.append("\namalgam ").append(json.get("amalgam_version").asText()).append('\n');
    return md.toString();
  }

  private static String format(double v) {
    return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.4f", v);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException | UncheckedIOException ignored) {
      // best effort: the failure being reported matters more than a leftover temporary file
    }
  }
}
