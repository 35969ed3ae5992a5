package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.testing.TestAssets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link LlamaScorer#continuationLogLikelihoods} against one {@link
 * LlamaScorer#continuationLogLikelihood} call per option on stories260K: equal bit for bit, with
 * the F32 and the F16 KV cache.
 */
class SharedPrefixScoringTest {
  static final String MCQ =
      "Question: A little girl named Lily found a big red ball in the park. What did she do "
          + "with it?\nA. She kicked it\nB. She ate it\nC. She gave it to her mom\nD. She hid it under her bed\nAnswer:";

  /**
   * Prompts with option lists covering one-token labels, multi-token options, shared words and
   * merges.
   */
  static final List<Case> CASES =
      List.of(
          new Case(MCQ, List.of(" A", " B", " C", " D")),
          new Case(
              MCQ,
              List.of(" A. She kicked it", " B. She ate it", " C", " D. She hid it under her bed")),
          new Case(
              "Once upon a time there was a little girl",
              List.of(
                  " named Lily.",
                  " named Tom and his dog.",
                  " purple engine.",
                  " named",
                  " named Lily.")),
          new Case("Once upon a time", List.of(",", ", there", " there was", "ly")),
          // The prompt's last token "gi" merges with these options: "girl", "give", "giant".
          new Case(
              "Once upon a time there was a little gi",
              List.of("rl", "rl named Lily.", "ve", "ant", " dog")),
          new Case("The dog was very happy ", List.of("to see Lily.", "and sad.", " and", "a")),
          // One token each, all predicted from the prompt's last position: one decode with one
          // output row serves all.
          new Case(
              "Once upon a time there was a little girl. She",
              List.of(" was", " saw", " had", " and")),
          // One-token options (" was", " had") beside two-token ones: those two are scored on a
          // cut-back KV cache.
          new Case(
              MCQ.replace("Answer:", "Answer: She"), List.of(" was", " liked", " went", " had")),
          // Only BOS is shared: every option is scored alone.
          new Case("", List.of("Once upon a time", "The dog", "Lily")));

  record Case(String prompt, List<String> options) {}

  static LlamaScorer scorer;

  @BeforeAll
  static void open() {
    Path model = TestAssets.stories260K();
    scorer = LlamaScorer.open(model, ScorerOptions.builder().threads(2).build());
  }

  @AfterAll
  static void close() {
    if (scorer != null) scorer.close();
  }

  @Test
  void equalsOneCallPerOptionBitForBitWithF32KvCache() {
    assertEqualsOneCallPerOption(scorer);
  }

  @Test
  void equalsOneCallPerOptionBitForBitWithF16KvCache() {
    try (LlamaScorer f16 =
        LlamaScorer.open(
            scorer.model(), ScorerOptions.builder().threads(2).f32KvCache(false).build())) {
      assertEqualsOneCallPerOption(f16);
    }
  }

  /**
   * Exact equality is what the bridge promises: its decodes keep the row counts on which
   * llama.cpp's CPU kernels round the same (see amalgam_llama_score_shared_prefix); without that
   * rule differences up to 4.7e-6 appeared.
   */
  private static void assertEqualsOneCallPerOption(LlamaScorer scorer) {
    for (Case c : CASES) {
      List<ContinuationScore> batch = scorer.continuationLogLikelihoods(c.prompt(), c.options());
      assertEquals(c.options().size(), batch.size());
      for (int i = 0; i < batch.size(); i++) {
        String what = "'" + c.prompt() + "' + '" + c.options().get(i) + "'";
        ContinuationScore one = scorer.continuationLogLikelihood(c.prompt(), c.options().get(i));
        assertEquals(one.tokens(), batch.get(i).tokens(), what);
        assertEquals(one.greedy(), batch.get(i).greedy(), what);
        assertEquals(
            Double.doubleToRawLongBits(one.logLikelihood()),
            Double.doubleToRawLongBits(batch.get(i).logLikelihood()),
            what + ": " + one + " vs " + batch.get(i));
      }
    }
  }

  /**
   * llama.cpp decodes a call in ubatches of 512 tokens: prompts around that length put the shared
   * prefix's end, and the options' own tokens, on either side of a ubatch boundary (a ubatch of one
   * token rounds differently).
   */
  @Test
  void equalsOneCallPerOptionAcrossUbatchBoundaries() {
    try (LlamaScorer wide =
        LlamaScorer.open(
            scorer.model(), ScorerOptions.builder().threads(2).contextSize(1024).build())) {
      List<String> options = List.of(" B", " A", " liked", " named Lily.", "ly");
      String text = LlamaScorerTest.STORY.repeat(4);
      int end = text.length() / 2;
      while (wide.tokenize(text.substring(0, end), true).length > 506) end -= 50;
      java.util.Set<Integer> lengths = new java.util.TreeSet<>();
      for (; end < text.length() && lengths.size() < 5; end++) {
        String prompt = text.substring(0, end);
        int n = wide.tokenize(prompt, true).length;
        if (n > 514) break;
        if (n < 510 || !lengths.add(n)) continue;
        List<ContinuationScore> batch = wide.continuationLogLikelihoods(prompt, options);
        for (int i = 0; i < options.size(); i++) {
          ContinuationScore one = wide.continuationLogLikelihood(prompt, options.get(i));
          assertEquals(one, batch.get(i), n + " prompt tokens, option '" + options.get(i) + "'");
        }
      }
      int found = lengths.size();
      assertTrue(found >= 4, "prompts of 510..514 tokens: " + lengths);
    }
  }

  @Test
  void coversMergesPrefixOptionsAndGreedyOnes() {
    // "gi" + "rl" tokenizes as "girl": the option's first scored position lies inside the prompt's
    // tokens.
    String prompt = CASES.get(4).prompt();
    int[] head = scorer.tokenize(prompt, true);
    int[] whole = scorer.tokenize(prompt + "rl", true);
    int common = 0;
    while (common < head.length && head[common] == whole[common]) common++;
    assertTrue(common < head.length, "expected 'rl' to merge with the prompt's last token");
    List<ContinuationScore> scores =
        scorer.continuationLogLikelihoods(prompt, CASES.get(4).options());
    assertTrue(scores.get(0).greedy() && !scores.get(4).greedy(), scores.toString());
    // " named" is a token prefix of " named Lily.": the common prefix covers a whole option.
    List<ContinuationScore> named =
        scorer.continuationLogLikelihoods(CASES.get(2).prompt(), CASES.get(2).options());
    assertEquals(1, named.get(3).tokens());
    assertEquals(named.get(0), named.get(4), "the same option twice, the same score");
    for (ContinuationScore label :
        scorer.continuationLogLikelihoods(CASES.get(6).prompt(), CASES.get(6).options())) {
      assertEquals(1, label.tokens(), "the one-token case must stay one token per option");
    }
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
    List<ContinuationScore> reversed =
        new ArrayList<>(scorer.continuationLogLikelihoods(c.prompt(), backwards));
    Collections.reverse(reversed);
    assertEquals(
        first, reversed, "each option sees only the prefix, never an earlier option's tokens");
  }

  @Test
  void badOptionsFailAsOneCallWouldNamingTheOption() {
    String prompt = "Once upon a time there was a little girl";
    LlamaBridgeException empty =
        assertThrows(
            LlamaBridgeException.class,
            () ->
                scorer.continuationLogLikelihoods(
                    prompt, List.of(" named Lily.", "", " purple engine.")));
    assertEquals(Reason.EMPTY_TEXT, empty.reason());
    assertTrue(empty.getMessage().startsWith("continuation 1 of 3 (''): "), empty.getMessage());
    assertEquals(
        Reason.EMPTY_TEXT,
        assertThrows(LlamaBridgeException.class, () -> scorer.continuationLogLikelihood(prompt, ""))
            .reason());

    try (LlamaScorer small =
        LlamaScorer.open(
            scorer.model(), ScorerOptions.builder().threads(2).contextSize(64).build())) {
      String tooLong =
          " named Lily. She loved to play outside in the sun. One day, she saw a big red ball in the "
              + "park. She wanted to play with it, so she ran to the ball and kicked it.";
      LlamaBridgeException single =
          assertThrows(
              LlamaBridgeException.class, () -> small.continuationLogLikelihood(prompt, tooLong));
      assertEquals(Reason.TEXT_TOO_LONG, single.reason());
      LlamaBridgeException many =
          assertThrows(
              LlamaBridgeException.class,
              () ->
                  small.continuationLogLikelihoods(
                      prompt, List.of(" named Lily.", " and a dog.", tooLong)));
      assertEquals(Reason.TEXT_TOO_LONG, many.reason());
      assertTrue(
          many.getMessage().startsWith("continuation 2 of 3 ('" + tooLong + "'): ")
              && many.getMessage().contains("more than the context of 64"),
          many.getMessage());
      // Nothing was decoded for the rejected call; the scorer still gives the single-call values.
      assertEquals(
          small.continuationLogLikelihood(prompt, " named Lily.").tokens(),
          small.continuationLogLikelihoods(prompt, List.of(" named Lily.")).get(0).tokens());
    }
    assertEquals(List.of(), scorer.continuationLogLikelihoods(prompt, List.of()));
    assertThrows(NullPointerException.class, () -> scorer.continuationLogLikelihoods(prompt, null));
  }
}
