package dev.amalgam.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.eval.metrics.SacreBleu.Smoothing;
import dev.amalgam.eval.text.Tokenizer13a;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link SacreBleu}, {@link HfBleu}, {@link BleuStats} and {@link Tokenizer13a} (docs/metrics.md
 * §3).
 */
class BleuTest {
  private static final SacreBleu SENTENCE = SacreBleu.sentenceDefaults();
  private static final SacreBleu CORPUS = SacreBleu.corpusDefaults();

  @Test
  void tokenizer13aMatchesSacreBleu() {
    assertEquals(
        "Hello , world ! 3.5 - 4 mg / dL ( x ) \" q \" e . g . test .",
        Tokenizer13a.tokenize("Hello, world! 3.5-4 mg/dL (x) \"q\" e.g. test."));
    assertEquals("a & b < c", Tokenizer13a.tokenize("a &amp; b &lt; c"));
    assertEquals(
        "&quot;", Tokenizer13a.tokenize("&amp;quot;").replace(" ", "")); // one unescape pass each
    assertEquals("abcdef", Tokenizer13a.tokenize("abc-\ndef"));
    assertEquals("a b", Tokenizer13a.tokenize("<skipped>a\nb"));
    assertEquals("1,000.50 mg", Tokenizer13a.tokenize("1,000.50 mg"));
    assertEquals("don't well-known", Tokenizer13a.tokenize("don't well-known"));
    assertEquals("a b", Tokenizer13a.tokenize("a\u00a0\u2003b")); // Python whitespace, not Java's
    assertEquals("", Tokenizer13a.tokenize(" \t "));
    assertArrayEquals(new String[0], Tokenizer13a.tokens(""));
  }

  /** docs/metrics.md §3.1: the three-sentence corpus and its signature. */
  @Test
  void corpusExampleVerboseAndSignature() {
    List<String> hyps =
        List.of("The dog bit the man.", "It was not unexpected.", "The man bit him first.");
    List<String> refs =
        List.of("The dog bit the man.", "It was not surprising.", "The man had just bitten him.");
    SacreBleu.Score score = CORPUS.corpusScore(hyps, refs.stream().map(List::of).toList());
    assertEquals(
        "BLEU = 50.18 82.4/57.1/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)",
        score.verbose());
    assertEquals("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0", score.signature());
    // The corpus score is computed once from summed statistics, not averaged.
    List<BleuStats> stats =
        List.of(
            CORPUS.stats(hyps.get(0), List.of(refs.get(0))),
            CORPUS.stats(hyps.get(1), List.of(refs.get(1))),
            CORPUS.stats(hyps.get(2), List.of(refs.get(2))));
    assertEquals(score, CORPUS.score(BleuStats.sum(stats), 1));
    assertEquals(
        new BleuStats(17, 18, new long[] {14, 8, 5, 3}, new long[] {17, 14, 11, 8}),
        BleuStats.sum(stats));
    // A bootstrap resample with repeats.
    assertEquals(
        stats.get(0).plus(stats.get(0)).plus(stats.get(2)),
        BleuStats.sum(stats, new int[] {0, 2, 0}));
  }

  @Test
  void emptyHypothesisAndEmptyReference() {
    SacreBleu.Score empty = SENTENCE.sentenceScore("", List.of("the cat sat"));
    assertEquals(0.0, empty.score());
    assertEquals(
        "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 3)",
        empty.verbose());
    SacreBleu.Score noReference = SENTENCE.sentenceScore("the cat", List.of(""));
    assertEquals(
        "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 0.000 hyp_len = 2 ref_len = 0)",
        noReference.verbose());
    assertEquals(
        0.0, SENTENCE.sentenceScore("a b c d e", List.of("f g h i j")).score(), "no matches");
    assertThrows(IllegalArgumentException.class, () -> SENTENCE.stats("a", List.of()));
  }

  @Test
  void hypothesisLongerThanReferenceHasNoPenalty() {
    SacreBleu.Score s =
        SENTENCE.sentenceScore("the cat sat on the mat today", List.of("the cat sat on the mat"));
    assertEquals(1.0, s.bp());
    assertArrayEquals(new double[] {600.0 / 7, 500.0 / 6, 80, 75}, s.precisions(), 1e-12);
    assertEquals(100 * Math.pow(3.0 / 7, 0.25), s.score(), 1e-9);
    assertEquals(7.0 / 6, s.ratio(), 1e-15);
  }

  @Test
  void multipleReferencesClosestLengthTiesToShorter() {
    // hypothesis 4 tokens; references of 3 and 5 tokens are equally close: sacreBLEU takes 3 (no
    // penalty).
    for (List<String> refs :
        List.of(List.of("a b c", "a b c d e"), List.of("a b c d e", "a b c"))) {
      BleuStats stats = SENTENCE.stats("a b c d", refs);
      assertEquals(3, stats.refLen(), refs.toString());
      assertEquals(1.0, SENTENCE.score(stats, 2).bp());
      // n-grams are clipped by the largest count in any reference: all 4 unigrams match via the
      // second reference.
      assertEquals(4, stats.correct(1));
    }
    assertEquals(
        5, SENTENCE.stats("a b c d e f", List.of("a b c d e", "a b c d e f g h")).refLen());
    assertEquals(
        "nrefs:2|case:mixed|eff:yes|tok:13a|smooth:exp|version:2.6.0",
        SENTENCE.sentenceScore("a", List.of("a", "b")).signature());
    assertEquals(
        "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0",
        CORPUS
            .corpusScore(List.of("a", "b"), List.of(List.of("a"), List.of("b", "c")))
            .signature());
    // Clipping by the maximum over references, not the sum.
    assertEquals(2, SENTENCE.stats("x x x", List.of("x x y", "x y y")).correct(1));
  }

  @Test
  void effectiveOrderWithTwoTokenHypothesis() {
    SacreBleu.Score effective = SENTENCE.sentenceScore("the cat", List.of("the cat sat"));
    assertEquals(100 * Math.exp(1 - 3.0 / 2), effective.score(), 1e-9);
    assertArrayEquals(new double[] {100, 100, 0, 0}, effective.precisions());
    // Without effective order the missing 3- and 4-gram orders count as log 0.
    assertEquals(0.0, CORPUS.sentenceScore("the cat", List.of("the cat sat")).score());
  }

  /** "the cat on mat" vs "the cat sat on the mat": matches 4/4, 1/3, 0/2, 0/1, BP = exp(-0.5). */
  @Test
  void eachSmoothingMethod() {
    String hyp = "the cat on mat";
    List<String> ref = List.of("the cat sat on the mat");
    double bp = Math.exp(1 - 6.0 / 4);
    assertSmoothed(Smoothing.EXP, null, new double[] {100, 100.0 / 3, 25, 25}, bp, "exp");
    assertSmoothed(Smoothing.FLOOR, null, new double[] {100, 100.0 / 3, 5, 10}, bp, "floor[0.10]");
    assertSmoothed(Smoothing.FLOOR, 0.5, new double[] {100, 100.0 / 3, 25, 50}, bp, "floor[0.50]");
    assertSmoothed(Smoothing.ADD_K, null, new double[] {100, 50, 100.0 / 3, 50}, bp, "add-k[1.00]");
    SacreBleu none = new SacreBleu(false, Smoothing.NONE, null, true);
    SacreBleu.Score unsmoothed = none.sentenceScore(hyp, ref);
    assertArrayEquals(new double[] {100, 100.0 / 3, 0, 0}, unsmoothed.precisions(), 1e-12);
    assertEquals(0.0, unsmoothed.score());
    assertEquals(
        "nrefs:1|case:mixed|eff:yes|tok:13a|smooth:none|version:2.6.0", unsmoothed.signature());
    assertEquals(Smoothing.ADD_K, Smoothing.fromId("add-k"));
    assertThrows(IllegalArgumentException.class, () -> Smoothing.fromId("add_k"));
    assertThrows(
        IllegalArgumentException.class, () -> new SacreBleu(false, Smoothing.FLOOR, 0.0, false));
  }

  private static void assertSmoothed(
      Smoothing method, Double value, double[] precisions, double bp, String sig) {
    SacreBleu bleu = new SacreBleu(false, method, value, true);
    SacreBleu.Score s = bleu.sentenceScore("the cat on mat", List.of("the cat sat on the mat"));
    assertArrayEquals(precisions, s.precisions(), 1e-12, method.id());
    double logMean = 0;
    for (double p : precisions) {
      logMean += Math.log(p) / 4;
    }
    assertEquals(bp * Math.exp(logMean), s.score(), 1e-9, method.id());
    assertEquals(bp, s.bp(), 1e-15);
    assertEquals(
        "nrefs:1|case:mixed|eff:yes|tok:13a|smooth:" + sig + "|version:2.6.0", s.signature());
  }

  @Test
  void lowercaseOption() {
    assertEquals(0.0, SENTENCE.sentenceScore("The Cat", List.of("the cat")).score());
    SacreBleu.Score lc =
        new SacreBleu(true, Smoothing.EXP, null, true).sentenceScore("The Cat", List.of("the cat"));
    assertEquals(100.0, lc.score(), 1e-12);
    assertEquals("nrefs:1|case:lc|eff:yes|tok:13a|smooth:exp|version:2.6.0", lc.signature());
    // sacreBLEU strips trailing whitespace before 13a, so a final hyphen-newline is not joined.
    assertEquals(List.of("abc-"), List.of(SENTENCE.tokens("abc-\n")));
  }

  /**
   * Python formats with the exact binary value and ties to even; Java's String.format would differ.
   */
  @Test
  void pythonRounding() {
    assertEquals("0.12", SacreBleu.fixed(0.125, 2));
    assertEquals("0.38", SacreBleu.fixed(0.375, 2));
    assertEquals("2.67", SacreBleu.fixed(2.675, 2));
    assertEquals("0.943", SacreBleu.fixed(0.9428731438548749, 3));
    assertEquals("100.00", SacreBleu.fixed(100.0, 2));
  }

  @Test
  void hfBleu() {
    HfBleu plain = new HfBleu(false);
    HfBleu.Result zero =
        plain.corpusScore(List.of("the cat on mat"), List.of(List.of("the cat sat on the mat")));
    assertArrayEquals(new double[] {1, 1.0 / 3, 0, 0}, zero.precisions(), 1e-15);
    assertEquals(0.0, zero.bleu());
    assertEquals(4.0 / 6, zero.lengthRatio(), 1e-15);
    assertEquals(Math.exp(1 - 6.0 / 4), zero.brevityPenalty(), 1e-15);
    HfBleu.Result smoothed =
        new HfBleu(true)
            .corpusScore(List.of("the cat on mat"), List.of(List.of("the cat sat on the mat")));
    assertArrayEquals(new double[] {1, 0.5, 1.0 / 3, 0.5}, smoothed.precisions(), 1e-15);
    double geo = Math.exp(0.25 * (Math.log(1) + Math.log(0.5) + Math.log(1.0 / 3) + Math.log(0.5)));
    assertEquals(geo * Math.exp(1 - 6.0 / 4), smoothed.bleu(), 1e-12);
    // Shortest reference, not closest: 5 although the hypothesis has 6 tokens like the second
    // reference.
    HfBleu.Result shortest =
        plain.corpusScore(List.of("a b c d e f"), List.of(List.of("a b c d e", "a b c d e f")));
    assertEquals(5, shortest.referenceLength());
    assertEquals(1.0, shortest.brevityPenalty());
    assertEquals(1.0, shortest.bleu(), 1e-12);
    HfBleu.Result ratioOne = plain.corpusScore(List.of("a b c d e"), List.of(List.of("a b c d e")));
    assertEquals(1.0, ratioOne.brevityPenalty()); // exp(1 - 1/1)
    HfBleu.Result empty = plain.corpusScore(List.of(""), List.of(List.of("a b")));
    assertEquals(0.0, empty.bleu());
    assertEquals(0.0, empty.brevityPenalty());
    assertEquals(0.0, empty.lengthRatio());
    assertEquals("hf-evaluate-bleu|tok:13a|smooth:no|max_order:4", plain.signature());
    // HF does not strip trailing whitespace: the hyphen-newline is joined.
    assertEquals(1, plain.stats("abc-\n", List.of("abc")).correct(1));
    // The three-sentence corpus: same statistics as sacreBLEU (one reference each), 0-1 scale.
    List<String> hyps =
        List.of("The dog bit the man.", "It was not unexpected.", "The man bit him first.");
    List<List<String>> refs =
        List.of(
            List.of("The dog bit the man."),
            List.of("It was not surprising."),
            List.of("The man had just bitten him."));
    assertEquals(
        CORPUS.corpusScore(hyps, refs).score() / 100, plain.corpusScore(hyps, refs).bleu(), 1e-12);
  }
}
