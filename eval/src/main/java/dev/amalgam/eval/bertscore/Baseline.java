package dev.amalgam.eval.bertscore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * BERTScore baseline b for rescaling {@code (score - b) / (1 - b)}, one value per P, R and F.
 * bert_score ships baselines only for its own PyTorch models (none for all-MiniLM-L6-v2), so a
 * baseline here always comes from the user: three numbers, or a bert_score-format file read by
 * {@link #read(Path, int)}.
 *
 * @param precision baseline of P
 * @param recall baseline of R
 * @param f baseline of F
 */
public record Baseline(double precision, double recall, double f) {

  /** Checks that each value is finite and below 1 (b = 1 would divide by zero). */
  public Baseline {
    check("P", precision);
    check("R", recall);
    check("F", f);
  }

  private static void check(String name, double value) {
    if (!Double.isFinite(value) || value >= 1.0) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "baseline " + name + " = " + value + ": must be finite and < 1");
    }
  }

  /**
   * The baseline for rescaling a score from {@code embedder}: read from {@code file} at the
   * embedder's layer. bert_score looks up a shipped baseline by language and model; none ships for
   * ONNX encoders such as all-MiniLM-L6-v2, so asking to rescale without a file is an error rather
   * than a silent no-op (bert_score only warns).
   *
   * @throws BertScoreException if {@code file} is null, missing or malformed
   */
  public static Baseline forEncoder(TokenEmbedder embedder, Path file) {
    if (file == null) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "rescaling needs a baseline: none ships for "
              + embedder.modelName()
              + " (bert_score has baselines only for"
              + " its PyTorch models); give a baseline file with columns LAYER,P,R,F and a row for layer "
              + embedder.layer());
    }
    return read(file, embedder.layer());
  }

  /** Rescales one score: {@code (score - b) / (1 - b)}. */
  double rescale(double score, double b) {
    return (score - b) / (1.0 - b);
  }

  /**
   * Rescales P, R and F independently, as bert_score does (F is not recomputed from the rescaled P
   * and R).
   */
  BertScore rescale(BertScore score) {
    return new BertScore(
        rescale(score.precision(), precision),
        rescale(score.recall(), recall),
        rescale(score.f(), f));
  }

  /**
   * Reads a baseline in bert_score's rescale_baseline format: a header {@code LAYER,P,R,F} and one
   * row per layer starting at layer 0; comma- or tab-separated. Like bert_score (pandas {@code
   * iloc[num_layers]}) the row is the {@code layer}-th data row; its LAYER value must equal {@code
   * layer} so that a reordered file fails instead of silently picking another layer.
   *
   * @throws BertScoreException naming the file, line and field when the file is missing or
   *     malformed or has no row for the layer
   */
  public static Baseline read(Path file, int layer) {
    if (!Files.isRegularFile(file)) {
      throw new BertScoreException(
          BertScoreException.Reason.FILE_NOT_FOUND,
          "baseline file " + file + ": not found or not a regular file");
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "baseline file " + file + ": cannot be read as UTF-8 text (" + e.getMessage() + ")",
          e);
    }
    if (lines.isEmpty()) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "baseline file " + file + ": empty; expected a header LAYER,P,R,F and one row per layer");
    }
    String header = stripBom(lines.get(0)).trim();
    String separator = header.contains("\t") ? "\t" : ",";
    String[] names = header.split(separator, -1);
    String[] expected = {"LAYER", "P", "R", "F"};
    if (names.length < 4) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "baseline file " + file + " line 1: header '" + header + "' must start with LAYER,P,R,F");
    }
    for (int i = 0; i < 4; i++) {
      if (!names[i].trim().equalsIgnoreCase(expected[i])) {
        throw new BertScoreException(
            BertScoreException.Reason.BAD_BASELINE,
            "baseline file "
                + file
                + " line 1: column "
                + (i + 1)
                + " is '"
                + names[i].trim()
                + "', expected "
                + expected[i]
                + " (header LAYER,P,R,F)");
      }
    }
    if (layer < 0) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_ARGUMENT,
          "baseline file " + file + ": layer must be >= 0, got " + layer);
    }
    int dataRows = 0;
    for (int i = 1; i < lines.size(); i++) {
      if (!lines.get(i).isBlank()) {
        dataRows++;
      }
    }
    if (layer >= dataRows) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "baseline file "
              + file
              + ": no row for layer "
              + layer
              + " (the file has "
              + dataRows
              + " data rows, layers 0.."
              + (dataRows - 1)
              + ")");
    }
    int row = -1;
    for (int i = 1; i < lines.size(); i++) {
      if (!lines.get(i).isBlank() && ++row == layer) {
        return parseRow(file, i + 1, lines.get(i), separator, layer);
      }
    }
    throw new IllegalStateException("unreachable: row " + layer + " counted but not found");
  }

  private static Baseline parseRow(
      Path file, int lineNumber, String line, String separator, int layer) {
    String[] fields = line.trim().split(separator, -1);
    if (fields.length < 4) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "baseline file "
              + file
              + " line "
              + lineNumber
              + ": "
              + fields.length
              + " fields, expected LAYER,P,R,F");
    }
    String[] names = {"LAYER", "P", "R", "F"};
    double[] values = new double[4];
    for (int i = 0; i < 4; i++) {
      try {
        values[i] = Double.parseDouble(fields[i].trim());
      } catch (NumberFormatException e) {
        throw new BertScoreException(
            BertScoreException.Reason.BAD_BASELINE,
            "baseline file "
                + file
                + " line "
                + lineNumber
                + " field "
                + names[i]
                + ": '"
                + fields[i].trim()
                + "' is not a number",
            e);
      }
    }
    if (values[0] != layer) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "baseline file "
              + file
              + " line "
              + lineNumber
              + " field LAYER: row "
              + layer
              + " has LAYER "
              + fields[0].trim()
              + "; rows must be layers 0, 1, 2, ... in order");
    }
    try {
      return new Baseline(values[1], values[2], values[3]);
    } catch (BertScoreException e) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_BASELINE,
          "baseline file " + file + " line " + lineNumber + ": " + e.getMessage(),
          e);
    }
  }

  private static String stripBom(String s) {
    return s.startsWith("\uFEFF") ? s.substring(1) : s;
  }
}
