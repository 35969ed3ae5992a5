package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link LlamaScorer#continuationLogLikelihoods} against one {@link LlamaScorer#continuationLogLikelihood} call per
 * option on stories260K.
 */
class SharedPrefixScoringTest {
  static final String MCQ = "Question: A little girl named Lily found a big red ball in the park. What did she do "
      + "with it?\nA. She kicked it\nB. She ate it\nC. She gave it to her mom\nD. She hid it under her bed\nAnswer:";

  /** Prompts with option lists covering one-token labels, multi-token options, shared words and merges. */
  static final List<Case> CASES = List.of(
      new Case(MCQ, List.of(" A", " B", " C", " D")),
      new Case(MCQ, List.of(" A. She kicked it", " B. She ate it", " C", " D. She hid it under her bed")),
      new Case("Once upon a time there was a little girl",
          List.of(" named Lily.", " named Tom and his dog.", " purple engine.", " named", " named Lily.")),
      new Case("Once upon a time", List.of(",", ", there", " there was", "ly")),
      // The prompt's last token "gi" merges with these options: "girl", "give", "giant".
      new Case("Once upon a time there was a little gi", List.of("rl", "rl named Lily.", "ve", "ant", " dog")),
      new Case("The dog was very happy ", List.of("to see Lily.", "and sad.", " and", "a")));

  record Case(String prompt, List<String> options) {}

  /**
   * Largest |difference| allowed between shared-prefix and per-option log-likelihoods with the F32 KV cache. llama.cpp's
   * CPU kernels give last-bit differences when the same positions are decoded in batches of other sizes; measured on
   * these cases: at most 4.7e-6 (formats.md section 8 measured 5.2e-6 per token for batched vs incremental decoding).
   */
  static final double F32_TOLERANCE = 1e-5;
  /** The same with the F16 KV cache; measured at most 2.7e-6 here (rounding K and V to F16 does not add to it). */
  static final double F16_TOLERANCE = 5e-5;

  static LlamaScorer scorer;

  @BeforeAll
  static void open() {
    Path model = TestModels.stories260K();
    scorer = LlamaScorer.open(model, ScorerOptions.defaults().withThreads(2));
  }

  @AfterAll
  static void close() {
    if (scorer != null) scorer.close();
  }

  @Test
  void matchesOneCallPerOptionWithF32KvCache() {
    double worst = 0;
    int exact = 0;
    int total = 0;
    for (Case c : CASES) {
      List<ContinuationScore> batch = scorer.continuationLogLikelihoods(c.prompt(), c.options());
      assertEquals(c.options().size(), batch.size());
      for (int i = 0; i < batch.size(); i++) {
        String what = "'" + c.prompt() + "' + '" + c.options().get(i) + "'";
        ContinuationScore one = scorer.continuationLogLikelihood(c.prompt(), c.options().get(i));
        assertEquals(one.tokens(), batch.get(i).tokens(), what);
        assertEquals(one.greedy(), batch.get(i).greedy(), what);
        assertEquals(one.logLikelihood(), batch.get(i).logLikelihood(), F32_TOLERANCE, what);
        worst = Math.max(worst, Math.abs(one.logLikelihood() - batch.get(i).logLikelihood()));
        if (one.logLikelihood() == batch.get(i).logLikelihood()) exact++;
        total++;
      }
    }
    System.out.printf("shared-prefix vs per-option (F32 KV): %d of %d equal bit for bit, max |diff| %.3g%n", exact,
        total, worst);
  }

  @Test
  void coversMergesPrefixOptionsAndGreedyOnes() {
    // "gi" + "rl" tokenizes as "girl": the option's first scored position lies inside the prompt's tokens.
    String prompt = CASES.get(4).prompt();
    int[] head = scorer.tokenize(prompt, true);
    int[] whole = scorer.tokenize(prompt + "rl", true);
    int common = 0;
    while (common < head.length && head[common] == whole[common]) common++;
    assertTrue(common < head.length, "expected 'rl' to merge with the prompt's last token");
    List<ContinuationScore> scores = scorer.continuationLogLikelihoods(prompt, CASES.get(4).options());
    assertTrue(scores.get(0).greedy() && !scores.get(4).greedy(), scores.toString());
    // " named" is a token prefix of " named Lily.": the common prefix covers a whole option.
    List<ContinuationScore> named = scorer.continuationLogLikelihoods(CASES.get(2).prompt(), CASES.get(2).options());
    assertEquals(1, named.get(3).tokens());
    assertEquals(named.get(0), named.get(4), "the same option twice, the same score");
  }

  @Test
  void deterministicAndIndependentOfOtherCalls() {
    Case c = CASES.get(1);
    List<ContinuationScore> first = scorer.continuationLogLikelihoods(c.prompt(), c.options());
    scorer.tokenLogProbs(LlamaScorerTest.STORY);
    scorer.continuationLogLikelihoods(CASES.get(5).prompt(), CASES.get(5).options());
    assertEquals(first, scorer.continuationLogLikelihoods(c.prompt(), c.options()));
    List<String> backwards = new ArrayList<>(c.options());
    Collections.reverse(backwards);
    List<ContinuationScore> reversed = new ArrayList<>(scorer.continuationLogLikelihoods(c.prompt(), backwards));
    Collections.reverse(reversed);
    assertEquals(first, reversed, "each option sees only the prefix, never an earlier option's tokens");
  }

  @Test
  void withF16KvCacheTheValuesStayClose() {
    try (LlamaScorer f16 = LlamaScorer.open(scorer.model(),
        ScorerOptions.defaults().withThreads(2).withF32KvCache(false))) {
      double worst = 0;
      for (Case c : CASES) {
        List<ContinuationScore> batch = f16.continuationLogLikelihoods(c.prompt(), c.options());
        for (int i = 0; i < batch.size(); i++) {
          ContinuationScore one = f16.continuationLogLikelihood(c.prompt(), c.options().get(i));
          assertEquals(one.tokens(), batch.get(i).tokens());
          assertEquals(one.logLikelihood(), batch.get(i).logLikelihood(), F16_TOLERANCE);
          worst = Math.max(worst, Math.abs(one.logLikelihood() - batch.get(i).logLikelihood()));
        }
      }
      System.out.printf("shared-prefix vs per-option (F16 KV): max |diff| %.3g%n", worst);
    }
  }

  @Test
  void badOptionsFailAsOneCallWouldNamingTheOption() {
    String prompt = "Once upon a time there was a little girl";
    LlamaBridgeException empty = assertThrows(LlamaBridgeException.class,
        () -> scorer.continuationLogLikelihoods(prompt, List.of(" named Lily.", "", " purple engine.")));
    assertEquals(Reason.EMPTY_TEXT, empty.reason());
    assertTrue(empty.getMessage().startsWith("continuation 1 of 3 (''): "), empty.getMessage());
    assertEquals(Reason.EMPTY_TEXT,
        assertThrows(LlamaBridgeException.class, () -> scorer.continuationLogLikelihood(prompt, "")).reason());

    try (LlamaScorer small = LlamaScorer.open(scorer.model(),
        ScorerOptions.defaults().withThreads(2).withContextSize(64))) {
      String tooLong = " named Lily. She loved to play outside in the sun. One day, she saw a big red ball in the "
          + "park. She wanted to play with it, so she ran to the ball and kicked it.";
      LlamaBridgeException single = assertThrows(LlamaBridgeException.class,
          () -> small.continuationLogLikelihood(prompt, tooLong));
      assertEquals(Reason.TEXT_TOO_LONG, single.reason());
      LlamaBridgeException many = assertThrows(LlamaBridgeException.class,
          () -> small.continuationLogLikelihoods(prompt, List.of(" named Lily.", " and a dog.", tooLong)));
      assertEquals(Reason.TEXT_TOO_LONG, many.reason());
      assertTrue(many.getMessage().startsWith("continuation 2 of 3 ('" + tooLong + "'): ")
          && many.getMessage().contains("more than the context of 64"), many.getMessage());
      // Nothing was decoded for the rejected call; the scorer still gives the single-call values.
      assertEquals(small.continuationLogLikelihood(prompt, " named Lily.").tokens(),
          small.continuationLogLikelihoods(prompt, List.of(" named Lily.")).get(0).tokens());
    }
    assertEquals(List.of(), scorer.continuationLogLikelihoods(prompt, List.of()));
    assertThrows(NullPointerException.class, () -> scorer.continuationLogLikelihoods(prompt, null));
  }
}
