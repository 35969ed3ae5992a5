package dev.amalgam.eval.bertscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sanity on MTS-Dialog's reference and automatic summaries (external data; skipped when absent).
 */
class BertScoreRealDataTest {
  private static final int ROWS = 8;

  @Test
  void identicalIsOneAndOwnSummaryBeatsAnotherRowsSummary() throws IOException {
    Path csv =
        TestAssets.externalData(
            "mts-dialog/Correlation-Study/MTS-Dialog-Automatic-Summaries-ValidationSet.csv");
    List<List<String>> rows = readCsv(Files.readString(csv, StandardCharsets.UTF_8));
    assertEquals(List.of("ID", "Dialogue", "Reference Summary", "Automatic Summary"), rows.get(0));
    List<String> references = new ArrayList<>();
    List<String> summaries = new ArrayList<>();
    for (int i = 1; i <= ROWS; i++) {
      references.add(rows.get(i).get(2));
      summaries.add(rows.get(i).get(3));
    }
    List<String> shifted = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      shifted.add(summaries.get((i + ROWS / 2) % ROWS));
    }
    EmbedderOptions twoThreads = EmbedderOptions.builder().intraOpThreads(2).build();
    try (OnnxTokenEmbedder minilm = OnnxTokenEmbedder.openDefault(twoThreads)) {
      BertScorer scorer = new BertScorer(minilm, BertScoreOptions.defaults());
      List<BertScore> same = scorer.score(references, references);
      List<BertScore> own = scorer.score(summaries, references);
      List<BertScore> other = scorer.score(shifted, references);
      double ownMean = 0;
      double otherMean = 0;
      int ownWins = 0;
      for (int i = 0; i < ROWS; i++) {
        assertEquals(1.0, same.get(i).f(), 1e-6, "row " + i);
        ownMean += own.get(i).f() / ROWS;
        otherMean += other.get(i).f() / ROWS;
        ownWins += own.get(i).f() > other.get(i).f() ? 1 : 0;
      }
      assertTrue(ownMean > otherMean + 0.05, "own " + ownMean + " vs other " + otherMean);
      // Some automatic summaries are poor (the set exists to study metric correlation), so not
      // every row wins.
      System.out.printf(
          "bertscore sanity: mean F own %.4f, other row %.4f, own wins %d of %d%n",
          ownMean, otherMean, ownWins, ROWS);
      assertTrue(ownWins > ROWS / 2, ownWins + " of " + ROWS + " rows prefer their own summary");
    }
  }

  /**
   * RFC 4180 records (quoted fields may hold commas, quotes and newlines); a leading BOM is
   * dropped.
   */
  static List<List<String>> readCsv(String text) {
    List<List<String>> records = new ArrayList<>();
    List<String> record = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    int start = text.startsWith("\uFEFF") ? 1 : 0;
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        record.add(field.toString());
        field.setLength(0);
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
          i++;
        }
        record.add(field.toString());
        field.setLength(0);
        records.add(record);
        record = new ArrayList<>();
      } else {
        field.append(c);
      }
    }
    if (field.length() > 0 || !record.isEmpty()) {
      record.add(field.toString());
      records.add(record);
    }
    return records;
  }
}
