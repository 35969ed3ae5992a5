package dev.amalgam.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Conformance with NLTK 3.8 on the 400 MTS-Dialog automatic summaries: every row's METEOR under
 * both tokenizations equals the golden value (computed offline with nltk 3.8 and WordNet 3.0) to
 * 1e-6.
 */
class MeteorGoldenTest {

  private static final double TOLERANCE = 1e-6;
  private static List<Map<String, String>> inputs;
  private static List<Map<String, String>> golden;
  private static Meteor meteor;

  @BeforeAll
  static void load() throws IOException {
    Path input =
        TestAssets.externalData(
            "mts-dialog/Correlation-Study/MTS-Dialog-Automatic-Summaries-ValidationSet.csv");
    Path expected = TestAssets.externalData("golden/mts_dialog_val_autosummaries_metrics.csv");
    inputs = Rfc4180.readWithHeader(input);
    golden = Rfc4180.readWithHeader(expected);
    meteor = Meteor.nltkDefaults();
  }

  @Test
  void whitespaceTokensEqualNltkOnEveryRow() {
    assertAllRows(MeteorTokenization.WHITESPACE, "meteor_nltk_whitespace", 0.2193078874535538);
  }

  @Test
  void treebankTokensEqualNltkOnEveryRow() {
    assertAllRows(
        MeteorTokenization.TREEBANK, "meteor_nltk_treebank_preserve_line", 0.30719615407638445);
  }

  private static void assertAllRows(
      MeteorTokenization tokenization, String column, double goldenMean) {
    assertEquals(400, inputs.size());
    assertEquals(inputs.size(), golden.size());
    List<String> mismatches = new ArrayList<>();
    double sum = 0;
    for (int row = 0; row < inputs.size(); row++) {
      String reference = inputs.get(row).get("Reference Summary");
      String hypothesis = inputs.get(row).get("Automatic Summary");
      double expected = Double.parseDouble(golden.get(row).get(column));
      double actual = meteor.score(reference, hypothesis, tokenization);
      sum += actual;
      if (!(Math.abs(actual - expected) <= TOLERANCE)) {
        mismatches.add(
            "row "
                + row
                + ": expected "
                + expected
                + ", got "
                + actual
                + "\n  ref "
                + tokenization.tokenize(reference)
                + "\n  hyp "
                + tokenization.tokenize(hypothesis));
      }
    }
    assertTrue(
        mismatches.isEmpty(),
        mismatches.size()
            + " of "
            + inputs.size()
            + " rows differ from NLTK:\n"
            + String.join("\n", mismatches));
    assertEquals(goldenMean, sum / inputs.size(), 1e-9);
  }
}
