package dev.amalgam.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.eval.text.RougeTokenizer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Rouge} and {@link RougeTokenizer} against rouge-score 0.1.2's documented behaviour
 * (docs/metrics.md §2).
 */
class RougeTest {
  private static final Rouge ALL =
      new Rouge(List.of("rouge1", "rouge2", "rougeL", "rougeLsum"), false);

  private static void assertPrf(double p, double r, double f, Prf actual) {
    assertEquals(p, actual.precision(), 1e-12, "precision");
    assertEquals(r, actual.recall(), 1e-12, "recall");
    assertEquals(f, actual.f(), 1e-12, "f");
  }

  /**
   * The unit-test values of rouge-score (rouge_scorer_test.py), reproduced in docs/metrics.md §2.
   */
  @Test
  void referenceUnitValues() {
    assertPrf(1, 1.0 / 3, 0.5, ALL.score("testing one two", "testing").get("rouge1"));
    Map<String, Prf> twoWords = ALL.score("testing one two", "testing one");
    assertPrf(1, 0.5, 2.0 / 3, twoWords.get("rouge2"));
    assertPrf(1, 2.0 / 3, 0.8, twoWords.get("rougeL"));
    assertEquals(0.8, ALL.score("testing one two", "testing two").get("rougeL").f(), 1e-12);
    Prf lsum = ALL.score("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5").get("rougeLsum");
    assertPrf(0.4, 0.8, 2 * 0.4 * 0.8 / (0.4 + 0.8), lsum);
    assertEquals(0.5333333333333333, lsum.f(), 1e-15);
  }

  @Test
  void emptyAndPunctuationOnlyGiveZero() {
    for (String prediction : new String[] {"", "/", " \n ", "..."}) {
      for (Prf prf : ALL.score("testing one two", prediction).values()) {
        assertEquals(Prf.ZERO, prf, "prediction '" + prediction + "'");
      }
      for (Prf prf : ALL.score(prediction, "testing one two").values()) {
        assertEquals(Prf.ZERO, prf, "reference '" + prediction + "'");
      }
    }
    for (Prf prf : ALL.score("alpha beta", "gamma delta").values()) {
      assertEquals(Prf.ZERO, prf, "no match");
    }
    // One token: rouge2 has no bigrams on either side -> max(0, 1) denominators, 0/0/0.
    assertEquals(Prf.ZERO, ALL.score("x", "x").get("rouge2"));
    assertPrf(1, 1, 1, ALL.score("x", "x").get("rouge1"));
  }

  @Test
  void clipsRepeatedNgrams() {
    // reference "the the the cat", prediction "the the cat cat cat": unigram overlap min(3,2) +
    // min(1,3) = 3
    Map<String, Prf> s = ALL.score("the the the cat", "the the cat cat cat");
    assertPrf(3.0 / 5, 3.0 / 4, 2 * (3.0 / 5) * (3.0 / 4) / (3.0 / 5 + 3.0 / 4), s.get("rouge1"));
    // bigrams: ref {the the:2, the cat:1}, pred {the the:1, the cat:1, cat cat:2} -> 2 of 4 and 2
    // of 3
    assertPrf(2.0 / 4, 2.0 / 3, 2 * 0.5 * (2.0 / 3) / (0.5 + 2.0 / 3), s.get("rouge2"));
    Prf rouge3 =
        new Rouge(List.of("rouge3"), false).score("a b c d a b c", "a b c a b c d").get("rouge3");
    // trigrams ref: abc x2, bcd, cda, dab; pred: abc x2, bca, cab, bcd -> overlap 3 of 5 and 5
    assertPrf(3.0 / 5, 3.0 / 5, 3.0 / 5, rouge3);
  }

  @Test
  void summaryLcsUnionAndClipping() {
    // Without newlines rougeLsum equals rougeL.
    Map<String, Prf> flat = ALL.score("a b c d e f", "a c e x b d f");
    assertEquals(flat.get("rougeL"), flat.get("rougeLsum"));
    // One reference sentence against two candidate sentences: union of {a, b} and {c, d}, all four
    // hits.
    Prf union = ALL.score("a b c d", "a b\nc d").get("rougeLsum");
    assertPrf(1, 1, 1, union);
    // Clipping: both reference sentences' unions hold an 'a', but the candidate has a single 'a':
    // one hit.
    Prf clipped = ALL.score("a\na", "a").get("rougeLsum");
    assertPrf(1, 0.5, 2.0 / 3, clipped);
    // Empty lines are dropped; a line of punctuation is an empty sentence.
    assertEquals(
        ALL.score("a b\nc", "a b c").get("rougeLsum"),
        ALL.score("a b\n\n!!\nc", "a b c").get("rougeLsum"));
  }

  @Test
  void backtrackTieRuleSelectsRougeScoresLcs() {
    // ref "a b", candidate "b a": two LCS of length 1. rouge-score moves up (i-1) on ties, so it
    // reads back
    // ref 'a' (position 0).
    Prf tie = ALL.score("a b", "b a").get("rougeLsum");
    assertPrf(0.5, 0.5, 0.5, tie);
    // With two reference sentences "a b" and "b": the first reads back 'a' (tie rule), the second
    // 'b'; both hit.
    // Had the first read back 'b', the second 'b' would find the candidate counter empty: 1 hit
    // instead of 2.
    Prf visible = ALL.score("a b\nb", "b a").get("rougeLsum");
    assertPrf(1.0, 2.0 / 3, 0.8, visible);
  }

  @Test
  void multiReferenceTakesBestFPerTypeFirstOnTies() {
    Rouge rouge = new Rouge(List.of("rouge1", "rouge2"), false);
    Map<String, Prf> best = rouge.scoreMulti(List.of("a b c d", "a c b"), "a b c");
    assertEquals(
        rouge.score("a c b", "a b c").get("rouge1"), best.get("rouge1")); // F 1.0 beats 6/7
    assertEquals(rouge.score("a b c d", "a b c").get("rouge2"), best.get("rouge2")); // 0.8 beats 0
    // Equal F (2/3) from different P/R: the first reference wins, in either order.
    assertPrf(1, 0.5, 2.0 / 3, rouge.scoreMulti(List.of("x y z w", "x"), "x y").get("rouge1"));
    assertPrf(0.5, 1, 2.0 / 3, rouge.scoreMulti(List.of("x", "x y z w"), "x y").get("rouge1"));
    assertThrows(IllegalArgumentException.class, () -> rouge.scoreMulti(List.of(), "a"));
  }

  @Test
  void tokenizerFollowsRougeScore() {
    assertEquals(
        List.of("45", "year", "old", "caf", "10", "mg"),
        RougeTokenizer.tokenize("45-year-old Café: 10µmg", false));
    assertEquals(
        List.of("the", "patient", "was", "run", "test", "daili"),
        RougeTokenizer.tokenize("The patient WAS running tests daily.", true));
    assertEquals(
        List.of(List.of("a", "b"), List.of(), List.of("c")),
        RougeTokenizer.tokenizeLines("A b\n\n--\r\nc\n", false));
    assertEquals(List.of(), RougeTokenizer.tokenize("", true));
  }

  @Test
  void rejectsUnknownTypes() {
    assertEquals(
        "unknown rouge type 'rouge0' (known: rougeN for N >= 1, rougeL, rougeLsum)",
        assertThrows(IllegalArgumentException.class, () -> new Rouge(List.of("rouge0"), false))
            .getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Rouge(List.of("rougeLSum"), false));
    assertThrows(
        IllegalArgumentException.class, () -> new Rouge(List.of("rouge1", "rouge1"), false));
    assertThrows(IllegalArgumentException.class, () -> new Rouge(List.of(), false));
    assertEquals(List.of("rouge12"), new Rouge(List.of("rouge12"), true).types());
  }
}
