package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bridge against stories260K and the reference numbers of docs/formats.md §8. */
class LlamaScorerTest {
  static final String LILY = TestAssets.LILY;
  static final int[] LILY_TOKENS = {
    1, 403, 407, 261, 378, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426
  };

  /** llama.cpp with the F16 KV cache, docs/formats.md §8. */
  static final double[] LILY_LOG_PROBS_F16 = {
    -0.243789, -0.017523, -0.012109, -0.000722, -3.548107, -0.151071, -0.001828, -0.759301,
    -0.476084, -0.007177, -0.000628, -0.137452, -0.162450, -0.055533
  };

  static final String STORY = TestAssets.STORY;

  static Path model;
  static LlamaScorer scorer;

  @BeforeAll
  static void open() {
    model = TestAssets.stories260K();
    scorer = LlamaScorer.open(model, ScorerOptions.builder().threads(2).build());
  }

  @AfterAll
  static void close() {
    if (scorer != null) scorer.close();
  }

  @Test
  void tokenIdsMatchLlamaCpp() {
    assertArrayEquals(LILY_TOKENS, scorer.tokenize(LILY, true));
    assertArrayEquals(new int[] {403, 407, 261, 378}, scorer.tokenize("Once upon a time", false));
    assertEquals(512, scorer.vocabSize());
    assertEquals(1, scorer.bosToken());
    assertTrue(scorer.addsBos());
  }

  @Test
  void logProbsMatchLlamaCppWithF16KvCache() {
    try (LlamaScorer f16 =
        LlamaScorer.open(model, ScorerOptions.builder().threads(2).f32KvCache(false).build())) {
      double[] lp = f16.tokenLogProbs(LILY);
      assertEquals(LILY_LOG_PROBS_F16.length, lp.length);
      double sum = 0;
      for (int i = 0; i < lp.length; i++) {
        assertEquals(LILY_LOG_PROBS_F16[i], lp[i], 1e-3, "token " + (i + 1));
        sum += lp[i];
      }
      assertEquals(1.489033, Math.exp(-sum / lp.length), 0.01);
    }
  }

  @Test
  void f32KvCacheIsCloseAndDeterministic() {
    double[] a = scorer.tokenLogProbs(LILY);
    double[] b = scorer.tokenLogProbs(LILY);
    assertArrayEquals(a, b, 0.0, "same input, same bits");
    double sum = 0;
    for (double v : a) sum += v;
    assertEquals(-5.573204, sum, 1e-3);
    assertArrayEquals(a, scorer.tokenLogProbs(LILY_TOKENS), 0.0);
  }

  @Test
  void continuationLogLikelihood() {
    ContinuationScore s =
        scorer.continuationLogLikelihood(
            "Once upon a time there was a little girl", " named Lily.");
    assertEquals(3, s.tokens());
    assertEquals(-0.355435, s.logLikelihood(), 1e-3);
    ContinuationScore unlikely =
        scorer.continuationLogLikelihood(
            "Once upon a time there was a little girl", " purple engine.");
    assertTrue(unlikely.logLikelihood() < s.logLikelihood() - 1, unlikely.toString());
    assertFalse(unlikely.greedy());
    // ", there" is the model's greedy continuation of "Once upon a time".
    assertTrue(scorer.continuationLogLikelihood("Once upon a time", ",").greedy());
  }

  @Test
  void perplexityIsExpOfMeanNllOverTheScoredHalves() {
    int nCtx = 64;
    PerplexityResult r = scorer.perplexity(STORY, nCtx);
    int[] tokens = scorer.tokenize(STORY, true);
    assertEquals(tokens.length, r.tokens());
    assertEquals(tokens.length / nCtx, r.chunks());
    assertEquals((long) r.chunks() * (nCtx - nCtx / 2 - 1), r.scoredTokens());
    double nll = 0;
    double nll2 = 0;
    long count = 0;
    for (int c = 0; c < r.chunks(); c++) {
      int[] chunk = java.util.Arrays.copyOfRange(tokens, c * nCtx, (c + 1) * nCtx);
      chunk[0] = scorer.bosToken();
      double[] lp = scorer.tokenLogProbs(chunk);
      for (int j = nCtx / 2; j <= nCtx - 2; j++) {
        nll -= lp[j];
        nll2 += lp[j] * lp[j];
        count++;
      }
    }
    double mean = nll / count;
    assertEquals(count, r.scoredTokens());
    assertEquals(mean, r.meanNll(), 1e-6);
    assertEquals(Math.exp(mean), r.perplexity(), 1e-6 * r.perplexity());
    double sigma = Math.sqrt((nll2 / count - mean * mean) / (count - 1));
    assertEquals(sigma * r.perplexity(), r.perplexityError(), 1e-6);
    assertTrue(Double.isFinite(r.perplexity()) && r.perplexity() > 1, r.toString());

    Random random = new Random(7);
    StringBuilder noise = new StringBuilder();
    while (noise.length() < STORY.length()) {
      for (int i = 0, n = 1 + random.nextInt(7); i < n; i++)
        noise.append((char) ('a' + random.nextInt(26)));
      noise.append(' ');
    }
    PerplexityResult random1 = scorer.perplexity(noise.toString(), nCtx);
    assertTrue(random1.perplexity() > 3 * r.perplexity(), random1 + " vs " + r);
  }

  @Test
  void perplexityRejectsShortTextsSayingHowManyTokens() {
    LlamaBridgeException e =
        assertThrows(LlamaBridgeException.class, () -> scorer.perplexity(LILY, 64));
    assertEquals(Reason.TEXT_TOO_SHORT, e.reason());
    assertTrue(
        e.getMessage().contains("needs at least 128 tokens") && e.getMessage().contains("has 15"),
        e.getMessage());
    assertEquals(
        Reason.EMPTY_TEXT,
        assertThrows(LlamaBridgeException.class, () -> scorer.perplexity("", 64)).reason());
    assertEquals(
        Reason.BAD_ARGUMENT,
        assertThrows(LlamaBridgeException.class, () -> scorer.perplexity(STORY, 4096)).reason());
  }

  @Test
  void badInputsThrowTheDocumentedReasons() {
    assertEquals(
        Reason.EMPTY_TEXT,
        assertThrows(LlamaBridgeException.class, () -> scorer.tokenLogProbs("")).reason());
    String tooLong = STORY.repeat(8);
    LlamaBridgeException longText =
        assertThrows(LlamaBridgeException.class, () -> scorer.tokenLogProbs(tooLong));
    assertEquals(Reason.TEXT_TOO_LONG, longText.reason());
    assertTrue(
        longText.getMessage().contains("more than the context of 512"), longText.getMessage());
    assertEquals(
        Reason.BAD_ARGUMENT,
        assertThrows(LlamaBridgeException.class, () -> scorer.tokenLogProbs(new int[] {1, 512}))
            .reason());
    assertEquals(
        Reason.BAD_ARGUMENT,
        assertThrows(LlamaBridgeException.class, () -> scorer.tokenLogProbs(new int[] {1, -1}))
            .reason());
    assertEquals(
        Reason.TEXT_TOO_SHORT,
        assertThrows(LlamaBridgeException.class, () -> scorer.tokenLogProbs(new int[] {1}))
            .reason());
    assertEquals(
        Reason.EMPTY_TEXT,
        assertThrows(LlamaBridgeException.class, () -> scorer.continuationLogLikelihood("Once", ""))
            .reason());
  }

  @Test
  void missingAndGarbageModelsAndClosedScorer(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("missing.gguf");
    LlamaBridgeException e1 =
        assertThrows(
            LlamaBridgeException.class, () -> LlamaScorer.open(missing, ScorerOptions.defaults()));
    assertEquals(Reason.MODEL_NOT_FOUND, e1.reason());
    assertTrue(e1.getMessage().contains("missing.gguf"), e1.getMessage());

    Path garbage = dir.resolve("garbage.gguf");
    byte[] bytes = new byte[4096];
    new Random(1).nextBytes(bytes);
    Files.write(garbage, bytes);
    LlamaBridgeException e2 =
        assertThrows(
            LlamaBridgeException.class, () -> LlamaScorer.open(garbage, ScorerOptions.defaults()));
    assertEquals(Reason.MODEL_LOAD_FAILED, e2.reason());
    assertTrue(e2.getMessage().contains("garbage.gguf"), e2.getMessage());

    Path truncated = dir.resolve("truncated.gguf");
    Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(model), 20_000));
    assertEquals(
        Reason.MODEL_LOAD_FAILED,
        assertThrows(
                LlamaBridgeException.class,
                () -> LlamaScorer.open(truncated, ScorerOptions.defaults()))
            .reason());

    LlamaScorer s =
        LlamaScorer.open(model, ScorerOptions.builder().contextSize(64).gpuLayers(99).build());
    assertEquals(64, s.contextSize());
    assertEquals(LILY_TOKENS.length - 1, s.tokenLogProbs(LILY).length);
    s.close();
    s.close();
    assertEquals(
        Reason.CLOSED,
        assertThrows(LlamaBridgeException.class, () -> s.tokenLogProbs(LILY)).reason());
    assertEquals(
        Reason.CLOSED,
        assertThrows(LlamaBridgeException.class, () -> s.tokenize(LILY, true)).reason());
  }

  @Test
  void optionsRejectOutOfRangeValues() {
    assertThrows(LlamaBridgeException.class, () -> ScorerOptions.builder().contextSize(0).build());
    assertThrows(LlamaBridgeException.class, () -> ScorerOptions.builder().threads(0).build());
    assertThrows(LlamaBridgeException.class, () -> ScorerOptions.builder().gpuLayers(-1).build());
    int threads = ScorerOptions.defaultThreads();
    assertTrue(threads >= 1 && threads <= 4, "threads " + threads);
  }
}
