package dev.amalgam.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * NLTK 3.8 METEOR: the values of docs/metrics.md §4 and of NLTK's docstrings and meteor.doctest,
 * and each matching stage on its own.
 */
class MeteorTest {

  /** WordNet is loaded once per JVM; every test shares this instance. */
  private static final Meteor METEOR = Meteor.nltkDefaults();

  private static List<String> words(String text) {
    return Arrays.asList(text.split(" "));
  }

  /** The formula in Python's operation order, for expectations built from a known alignment. */
  private static double formula(int matches, int hypLength, int refLength, int chunks) {
    double precision = (double) matches / hypLength;
    double recall = (double) matches / refLength;
    double fmean = (precision * recall) / (0.9 * precision + (1 - 0.9) * recall);
    double penalty = 0.5 * Math.pow((double) chunks / matches, 3.0);
    return (1 - penalty) * fmean;
  }

  private static double round(double value, int digits) {
    double scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }

  @Test
  void metricsDocExample() {
    // [run] meteor_score([['a','cat','was','sitting','on','the','mat']], 'the cat sat on the
    // mat'.split()) = 0.70145
    double score =
        METEOR.scoreMulti(
            List.of(words("a cat was sitting on the mat")), words("the cat sat on the mat"));
    assertEquals(0.70145, round(score, 5));
    // cat, on, the, mat exact; sat ~ sitting through the stems "sat" (WordNet: verb exception sat
    // -> sit) and "sit"
    assertEquals(formula(5, 6, 7, 2), score, 1e-15);
  }

  @Test
  void nltkDocstringExamples() {
    List<String> hypothesis1 =
        words(
            "It is a guide to action which ensures that the military always obeys the "
                + "commands of the party");
    List<String> reference1 =
        words(
            "It is a guide to action that ensures that the military will forever heed Party "
                + "commands");
    List<String> reference2 =
        words(
            "It is the guiding principle which guarantees the military forces always being "
                + "under the command of the Party");
    List<String> reference3 =
        words("It is the practical guide for the army always to heed the directions of the party");
    assertEquals(0.6944, round(METEOR.score(reference1, hypothesis1), 4));
    assertEquals(
        0.6944,
        round(METEOR.scoreMulti(List.of(reference1, reference2, reference3), hypothesis1), 4));
    assertEquals(0.0, METEOR.score(words("this is a cat"), words("non matching hypothesis")));
  }

  @Test
  void nltkMeteorDoctest() {
    MeteorTokenization treebank = MeteorTokenization.TREEBANK;
    assertEquals(
        0.0,
        METEOR.score(
            "The candidate has no alignment to any of the references",
            "John loves Mary",
            treebank));
    assertTrue(
        Math.abs(
                round(METEOR.score("The cat sat on the mat", "The cat sat on the mat", treebank), 4)
                    - 0.9977)
            < 1e-2);
    assertEquals(0.5, METEOR.score("The cat sat on the mat", "on the mat sat the cat", treebank));
    assertEquals(
        0.9654,
        round(METEOR.score("The cat sat on the mat", "The cat was sat on the mat", treebank), 4));
    // NLTK issue #2751 (score > 1 before the fix)
    assertEquals(
        0.7806,
        round(
            METEOR.score(
                "create or update a vm set",
                "creates or updates a virtual machine scale set",
                treebank),
            4));
  }

  private static Meteor.Alignment alignment(String hypothesis, String reference) {
    String[] hyp = hypothesis.isEmpty() ? new String[0] : hypothesis.split(" ");
    String[] ref = reference.isEmpty() ? new String[0] : reference.split(" ");
    int[] hypIndex = new int[hyp.length];
    Arrays.setAll(hypIndex, i -> i);
    int[] refIndex = new int[ref.length];
    Arrays.setAll(refIndex, i -> i);
    return new Meteor.Alignment(hypIndex, hyp, refIndex, ref);
  }

  private static String pairs(List<int[]> matches) {
    return matches.stream().map(m -> m[0] + "-" + m[1]).collect(Collectors.joining(" "));
  }

  @Test
  void exactStageIsGreedyFromTheLastWordsOfBothSides() {
    Meteor.Alignment alignment = alignment("a b a", "a a b");
    alignment.matchExact();
    // hyp 2 takes ref 1 (the last "a"), not ref 0; then b 1-2, then a 0-0
    assertEquals("0-0 1-2 2-1", pairs(alignment.sortedMatches()));
    assertEquals(3, Meteor.countChunks(alignment.sortedMatches()));
    Meteor.Alignment repeated = alignment("x x", "x");
    repeated.matchExact();
    assertEquals("1-0", pairs(repeated.sortedMatches()));
    assertEquals(List.of("x"), repeated.unmatchedHypothesis());
  }

  @Test
  void stemStageComparesStemsOfTheLeftovers() {
    Meteor.Alignment alignment = alignment("cats running", "cat ran");
    alignment.matchExact();
    alignment.stem(dev.amalgam.eval.text.PorterStemmer::stem);
    assertEquals(List.of("cat", "run"), alignment.unmatchedHypothesis());
    alignment.matchExact();
    assertEquals("0-0", pairs(alignment.sortedMatches()));
    // the leftovers stay stemmed for the synonym stage, as in NLTK
    assertEquals(List.of("run"), alignment.unmatchedHypothesis());
    assertEquals(List.of("ran"), alignment.unmatchedReference());
  }

  @Test
  void synonymStageLooksUpStemsOfHypothesisWordsOnly() {
    // hyp "sat" -> synonyms include "sit" = stem of "sitting"
    assertEquals(0.5 * (1 / (0.9 + (1 - 0.9))), METEOR.score(words("sitting"), words("sat")));
    // the other way round the stem "sit" has no lemma "sat": synonyms are not symmetric
    assertEquals(0.0, METEOR.score(words("sat"), words("sitting")));
    // WordNet says happily ~ merrily, but NLTK looks up the stem "happili", which WordNet does not
    // know
    assertTrue(WordNetSynonyms.shared().synonyms("happily").contains("merrily"));
    assertEquals(0.0, METEOR.score(words("merrily"), words("happily")));
    // lemma names keep their case: "Saturday" never equals the lowercased "saturday"
    assertTrue(WordNetSynonyms.shared().synonyms("sat").contains("Saturday"));
    assertEquals(0.0, METEOR.score(words("saturday"), words("sat")));
  }

  @Test
  void synonymStageOnTheAlignment() {
    Meteor.Alignment alignment = alignment("big dog", "large hound");
    alignment.matchSynonyms(WordNetSynonyms.shared());
    assertEquals("0-0 1-1", pairs(alignment.sortedMatches()));
  }

  @Test
  void chunksCountBreaksInAdjacency() {
    assertEquals(1, Meteor.countChunks(List.of()));
    assertEquals(1, Meteor.countChunks(List.of(new int[] {3, 7})));
    assertEquals(
        1, Meteor.countChunks(List.of(new int[] {0, 2}, new int[] {1, 3}, new int[] {2, 4})));
    assertEquals(
        2, Meteor.countChunks(List.of(new int[] {0, 2}, new int[] {1, 3}, new int[] {3, 4})));
    assertEquals(
        2, Meteor.countChunks(List.of(new int[] {0, 2}, new int[] {1, 1}, new int[] {2, 2})));
    assertEquals(
        3, Meteor.countChunks(List.of(new int[] {0, 2}, new int[] {1, 1}, new int[] {3, 2})));
  }

  @Test
  void emptyInputsAndNoMatchesScoreZero() {
    assertEquals(0.0, METEOR.score(List.of(), List.of()));
    assertEquals(0.0, METEOR.score(List.of("a"), List.of()));
    assertEquals(0.0, METEOR.score(List.of(), List.of("a")));
    assertEquals(0.0, METEOR.score(words("x y"), words("p q")));
    assertEquals(0.0, METEOR.score("", "", MeteorTokenization.WHITESPACE));
    assertThrows(IllegalArgumentException.class, () -> METEOR.scoreMulti(List.of(), words("a")));
  }

  @Test
  void wordsAreLowercasedFirst() {
    assertEquals(formula(2, 2, 2, 1), METEOR.score(words("the cat"), words("The CAT")));
  }

  @Test
  void parametersAndStemmerAreConfigurable() {
    WordNetSynonyms wordNet = WordNetSynonyms.shared();
    // alpha 0.5, gamma 0: the harmonic mean of P and R
    Meteor harmonic = new Meteor(dev.amalgam.eval.text.PorterStemmer::stem, wordNet, 0.5, 3.0, 0.0);
    double p = 2.0 / 3;
    double r = 2.0 / 4;
    assertEquals(2 * p * r / (p + r), harmonic.score(words("a b c d"), words("a x b")), 1e-15);
    // without a stemmer "cats" and "cat" only meet through WordNet morphy (noun -s rule), with one
    // they meet as stems
    Meteor identity = new Meteor(s -> s, wordNet, 0.9, 3.0, 0.5);
    assertEquals(
        METEOR.score(words("cat"), words("cats")), identity.score(words("cat"), words("cats")));
    // Porter maps both to "gener"; WordNet's adverb "generously" has no lemma "generous"
    assertEquals(0.0, identity.score(words("generous"), words("generously")));
    assertEquals(formula(1, 1, 1, 1), METEOR.score(words("generous"), words("generously")));
    assertThrows(IllegalArgumentException.class, () -> new Meteor(s -> s, wordNet, 1.5, 3.0, 0.5));
    assertThrows(
        IllegalArgumentException.class, () -> new Meteor(s -> s, wordNet, 0.9, Double.NaN, 0.5));
    assertEquals(
        "nltk3.8|wn3.0|alpha:0.9|beta:3.0|gamma:0.5|tok:treebank_preserve_line",
        METEOR.signature(MeteorTokenization.TREEBANK));
  }
}
