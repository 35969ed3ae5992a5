package dev.amalgam.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.eval.text.CsvReader;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every row of the golden file (400 MTS-Dialog validation summaries scored offline with rouge-score
 * 0.1.2's logic, NLTK 3.8 and sacreBLEU 2.6.0; docs/metrics.md §1) and its summary: per-row values
 * to 1e-6 (the measured maximum difference is printed), the means, and the corpus BLEU with its
 * verbose line and signature.
 */
class GoldenConformanceTest {
  private static final double TOLERANCE = 1e-6;
  private static final String[] TYPES = {"rouge1", "rouge2", "rougeL", "rougeLsum"};

  private static List<String> references;
  private static List<String> predictions;
  private static CsvReader.Table golden;
  private static JsonNode summary;

  @BeforeAll
  static void load() throws IOException {
    Path input =
        TestAssets.externalData(
            "mts-dialog/Correlation-Study/MTS-Dialog-Automatic-Summaries-ValidationSet.csv");
    Path goldenDir = TestAssets.externalData("golden");
    CsvReader.Table table = CsvReader.read(input);
    references = table.column("Reference Summary");
    predictions = table.column("Automatic Summary");
    golden = CsvReader.read(goldenDir.resolve("mts_dialog_val_autosummaries_metrics.csv"));
    summary =
        new ObjectMapper()
            .readTree(goldenDir.resolve("mts_dialog_val_autosummaries_summary.json").toFile());
    assertEquals(400, references.size());
    assertEquals(400, golden.rows().size());
  }

  private static double golden(int row, String column) {
    return Double.parseDouble(golden.rows().get(row).get(golden.columnIndex(column)));
  }

  /**
   * Compares one column for all rows; returns the maximum absolute difference, failing on the first
   * bad row.
   */
  private static double compareColumn(String column, List<Double> actual) {
    double maxDiff = 0;
    List<String> bad = new ArrayList<>();
    for (int row = 0; row < actual.size(); row++) {
      double expected = golden(row, column);
      double diff = Math.abs(expected - actual.get(row));
      maxDiff = Math.max(maxDiff, diff);
      if (!(diff <= TOLERANCE)) {
        bad.add("row " + row + ": " + actual.get(row) + " vs " + expected);
      }
    }
    assertEquals(
        List.of(),
        bad.subList(0, Math.min(5, bad.size())),
        column + ": " + bad.size() + " rows differ");
    return maxDiff;
  }

  @Test
  void rougeEveryRowEqualsTheReference() {
    double maxDiff = 0;
    for (boolean stem : new boolean[] {false, true}) {
      Rouge rouge = Rouge.defaults(stem);
      List<Map<String, Prf>> scores = new ArrayList<>();
      for (int i = 0; i < references.size(); i++) {
        scores.add(rouge.score(references.get(i), predictions.get(i)));
      }
      String suffix = stem ? "_stem" : "_nostem";
      for (String type : TYPES) {
        maxDiff = Math.max(maxDiff, compareColumn(type + "_f" + suffix, fs(scores, type, 'f')));
        if (!stem) { // the golden file has P and R without stemming only
          maxDiff = Math.max(maxDiff, compareColumn(type + "_p" + suffix, fs(scores, type, 'p')));
          maxDiff = Math.max(maxDiff, compareColumn(type + "_r" + suffix, fs(scores, type, 'r')));
        }
        double mean =
            fs(scores, type, 'f').stream().mapToDouble(Double::doubleValue).sum() / scores.size();
        assertEquals(
            summary.get("means").get(type + "_f" + suffix).asDouble(), mean, 1e-12, type + suffix);
      }
    }
    System.out.println("ROUGE golden conformance: 400 rows x 20 columns, max abs diff " + maxDiff);
    assertTrue(
        maxDiff <= 1e-12, "ROUGE should equal the reference to the last bits, max diff " + maxDiff);
  }

  @Test
  void sentenceBleuEveryRowEqualsSacreBleu() {
    SacreBleu bleu = SacreBleu.sentenceDefaults();
    List<Double> scores = new ArrayList<>();
    for (int i = 0; i < references.size(); i++) {
      scores.add(bleu.sentenceScore(predictions.get(i), List.of(references.get(i))).score());
    }
    double maxDiff = compareColumn("sentence_bleu_sacrebleu", scores);
    double mean = scores.stream().mapToDouble(Double::doubleValue).sum() / scores.size();
    assertEquals(summary.get("means").get("sentence_bleu_sacrebleu").asDouble(), mean, 1e-9);
    System.out.println("sentence BLEU golden conformance: 400 rows, max abs diff " + maxDiff);
  }

  @Test
  void corpusBleuEqualsSacreBleu() {
    SacreBleu.Score corpus =
        SacreBleu.corpusDefaults()
            .corpusScore(predictions, references.stream().map(List::of).toList());
    assertEquals(summary.get("corpus_bleu_sacrebleu_default").asDouble(), corpus.score(), 1e-9);
    assertEquals(summary.get("corpus_bleu_verbose").asText(), corpus.verbose());
    assertEquals(summary.get("corpus_bleu_signature").asText(), corpus.signature());
    System.out.println(
        "corpus BLEU: " + corpus.score() + " vs " + summary.get("corpus_bleu_sacrebleu_default"));
  }

  private static List<Double> fs(List<Map<String, Prf>> scores, String type, char which) {
    List<Double> values = new ArrayList<>();
    for (Map<String, Prf> s : scores) {
      Prf prf = s.get(type);
      values.add(which == 'f' ? prf.f() : which == 'p' ? prf.precision() : prf.recall());
    }
    return values;
  }
}
