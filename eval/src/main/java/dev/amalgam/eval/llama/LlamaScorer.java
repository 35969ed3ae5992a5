package dev.amalgam.eval.llama;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.eval.llama.jni.LlamaNative;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Exact token log-probabilities, continuation log-likelihoods and perplexity of a GGUF model,
 * computed by llama.cpp (the build inside java-llama.cpp's libjllama.so) through Amalgam's native
 * bridge.
 *
 * <p>Every sequence is decoded as one batch at positions 0..n-1 after clearing the KV cache, and
 * log-softmax is taken in double precision. With the default F32 KV cache the result does not
 * depend on how a text is batched; {@link ScorerOptions#withF32KvCache(boolean) F16} reproduces
 * llama-perplexity's numbers instead.
 *
 * <p>Thread-safe (methods are synchronized: one llama context). Close it to free the model; using
 * it afterwards throws {@link LlamaBridgeException} with {@link Reason#CLOSED}. The JVM never
 * crashes on bad input: lengths and token ids are checked here and again in C++ before llama.cpp
 * sees them.
 */
public final class LlamaScorer implements AutoCloseable {
  private final Path model;
  private final ScorerOptions options;
  private long modelHandle;
  private long contextHandle;
  private final int vocabSize;
  private final int bosToken;
  private final boolean addsBos;
  private final int contextSize;
  private final int batchSize;

  private LlamaScorer(
      Path model,
      ScorerOptions options,
      long modelHandle,
      long contextHandle,
      int[] modelInfo,
      int[] contextInfo) {
    this.model = model;
    this.options = options;
    this.modelHandle = modelHandle;
    this.contextHandle = contextHandle;
    this.vocabSize = modelInfo[0];
    this.bosToken = modelInfo[1];
    this.addsBos = modelInfo[2] != 0;
    this.contextSize = contextInfo[0];
    this.batchSize = contextInfo[1];
  }

  /**
   * Loads a GGUF model and creates a scoring context.
   *
   * @throws LlamaBridgeException MODEL_NOT_FOUND, MODEL_LOAD_FAILED (garbage file),
   *     LIBRARY_UNAVAILABLE
   */
  public static LlamaScorer open(Path gguf, ScorerOptions options) {
    Objects.requireNonNull(gguf, "gguf");
    Objects.requireNonNull(options, "options");
    long model = loadModel(gguf, options.gpuLayers(), false, options.verbose());
    try {
      int[] modelInfo = new int[3];
      check(LlamaNative.amalgam_llama_model_info(model, modelInfo), Reason.NATIVE_ERROR, gguf);
      long[] out = new long[1];
      int n = options.contextSize();
      check(
          LlamaNative.amalgam_llama_new_context(
              model, n, n, 1, options.threads(), options.f32KvCache() ? 1 : 0, out),
          Reason.NATIVE_ERROR,
          gguf);
      int[] contextInfo = new int[4];
      int status = LlamaNative.amalgam_llama_context_info(out[0], contextInfo);
      if (status != 0) {
        LlamaNative.amalgam_llama_free_context(out[0]);
        check(status, Reason.NATIVE_ERROR, gguf);
      }
      return new LlamaScorer(gguf, options, model, out[0], modelInfo, contextInfo);
    } catch (RuntimeException e) {
      LlamaNative.amalgam_llama_free_model(model);
      throw e;
    }
  }

  private static long loadModel(Path gguf, int gpuLayers, boolean vocabOnly, boolean verbose) {
    if (!Files.isRegularFile(gguf)) {
      throw new LlamaBridgeException(Reason.MODEL_NOT_FOUND, gguf + ": no such model file");
    }
    LlamaLibrary.ensureOpen(verbose);
    long[] out = new long[1];
    int status =
        LlamaNative.amalgam_llama_load_model(
            LlamaLibrary.cString(gguf.toAbsolutePath().toString()),
            gpuLayers,
            vocabOnly ? 1 : 0,
            out);
    check(status, Reason.MODEL_LOAD_FAILED, gguf);
    return out[0];
  }

  /** The model file. */
  public Path model() {
    return model;
  }

  /** The options it was opened with. */
  public ScorerOptions options() {
    return options;
  }

  /** Vocabulary size. */
  public int vocabSize() {
    return vocabSize;
  }

  /** BOS token id (-1 if the vocabulary has none). */
  public int bosToken() {
    return bosToken;
  }

  /** Whether tokenizing with special tokens prepends BOS. */
  public boolean addsBos() {
    return addsBos;
  }

  /** The effective context size (llama.cpp rounds the requested one up to a multiple of 32). */
  public int contextSize() {
    return contextSize;
  }

  /** The most tokens one sequence may have: min(requested context size, effective context size). */
  public int maxSequenceLength() {
    return Math.min(batchSize, contextSize);
  }

  /**
   * Tokenizes text as llama.cpp does; special-token text (such as {@code <s>}) stays plain text.
   *
   * @param addSpecial prepend BOS when the vocabulary adds it
   */
  public int[] tokenize(String text, boolean addSpecial) {
    return tokenize(text, addSpecial, false);
  }

  /**
   * Tokenizes text as llama.cpp does.
   *
   * @param addSpecial prepend BOS when the vocabulary adds it
   * @param parseSpecial turn special-token text (such as {@code <s>} or {@code <|im_start|>}) into
   *     the special token, as java-llama.cpp's completion does with its prompt
   */
  public synchronized int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
    Objects.requireNonNull(text, "text");
    ensureOpen();
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int[] count = new int[1];
    int[] tokens = new int[Math.max(8, bytes.length + 2)];
    int status =
        LlamaNative.amalgam_llama_tokenize(
            modelHandle,
            bytes,
            bytes.length,
            addSpecial ? 1 : 0,
            parseSpecial ? 1 : 0,
            tokens,
            tokens.length,
            count);
    if (status == StatusCode.BUFFER_TOO_SMALL) {
      tokens = new int[count[0]];
      status =
          LlamaNative.amalgam_llama_tokenize(
              modelHandle,
              bytes,
              bytes.length,
              addSpecial ? 1 : 0,
              parseSpecial ? 1 : 0,
              tokens,
              tokens.length,
              count);
    }
    check(status, Reason.NATIVE_ERROR, model);
    return Arrays.copyOf(tokens, count[0]);
  }

  /**
   * log p(token[i] | token[0..i-1]) for i = 1..n-1 of the text's tokens (BOS first when the
   * vocabulary adds it).
   *
   * @throws LlamaBridgeException EMPTY_TEXT for an empty text, TEXT_TOO_SHORT for fewer than 2
   *     tokens, TEXT_TOO_LONG when the tokens exceed {@link #maxSequenceLength()}
   */
  public double[] tokenLogProbs(String text) {
    Objects.requireNonNull(text, "text");
    if (text.isEmpty())
      throw new LlamaBridgeException(Reason.EMPTY_TEXT, "text is empty: nothing to score");
    return tokenLogProbs(tokenize(text, true));
  }

  /**
   * log p(tokens[i] | tokens[0..i-1]) for i = 1..n-1 of a token sequence, scored as given (no BOS
   * is added).
   *
   * @throws LlamaBridgeException TEXT_TOO_SHORT for fewer than 2 tokens, TEXT_TOO_LONG beyond
   *     {@link #maxSequenceLength()}, BAD_ARGUMENT for a token id outside the vocabulary
   */
  public double[] tokenLogProbs(int[] tokens) {
    Objects.requireNonNull(tokens, "tokens");
    return score(tokens, 0, null);
  }

  /**
   * The log-likelihood of continuation after prompt, lm-evaluation-harness style: tokenize prompt
   * and prompt + continuation (BOS per the vocabulary), and sum the log-probabilities of the tokens
   * after their common prefix.
   *
   * @throws LlamaBridgeException EMPTY_TEXT when the continuation adds no token, TEXT_TOO_LONG when
   *     prompt + continuation exceed the context
   */
  public ContinuationScore continuationLogLikelihood(String prompt, String continuation) {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(continuation, "continuation");
    Continuation c = continuation(tokenize(prompt, true), prompt, continuation);
    int[] greedy = new int[c.tokens.length - 1 - c.from];
    double[] logProbs = score(c.tokens, c.from, greedy);
    return sum(logProbs, greedy, 0, logProbs.length);
  }

  /**
   * {@link #continuationLogLikelihood} for each continuation after the same prompt (the options of
   * a multiple-choice question), with the same results, but the tokens all of them share are
   * decoded only once: the longest common token prefix of every prompt + continuation goes into the
   * KV cache once, and each continuation decodes only its remaining tokens on top of it (a
   * continuation that adds one token needs no decode of its own).
   *
   * <p>Every continuation is checked before anything is decoded. Results equal the single calls'
   * bit for bit (F32 and F16 KV cache, prompts on either side of llama.cpp's 512-token ubatch
   * boundary; SharedPrefixScoringTest): the bridge keeps, per ubatch, the one-or-many row counts on
   * which llama.cpp's CPU kernels round alike (a one-row matrix product rounds differently from a
   * many-row one). The price: a one-token continuation whose prediction the shared decode cannot
   * serve costs an extra two-token decode, and in rare layouts a continuation is scored alone.
   *
   * @return one score per continuation, in order (empty for no continuations)
   * @throws LlamaBridgeException as {@link #continuationLogLikelihood} for the first continuation
   *     that fails, its message naming the continuation by index and text
   */
  public synchronized List<ContinuationScore> continuationLogLikelihoods(
      String prompt, List<String> continuations) {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(continuations, "continuations");
    if (continuations.isEmpty()) return List.of();
    int[] head = tokenize(prompt, true);
    int n = continuations.size();
    Continuation[] all = new Continuation[n];
    for (int c = 0; c < n; c++) {
      String text = Objects.requireNonNull(continuations.get(c), "continuation " + c);
      String which = "continuation " + c + " of " + n + " ('" + text + "'): ";
      try {
        all[c] = continuation(head, prompt, text);
        checkSequence(all[c].tokens);
      } catch (LlamaBridgeException e) {
        throw new LlamaBridgeException(e.reason(), which + e.getMessage(), e);
      }
    }
    // Longest token prefix common to all; at least 1 because every sequence starts with the
    // prompt's first token
    // (continuation() rejects a continuation sharing no token with the prompt).
    int prefix = all[0].tokens.length;
    for (Continuation c : all) {
      int common = 0;
      while (common < prefix
          && common < c.tokens.length
          && c.tokens[common] == all[0].tokens[common]) common++;
      prefix = common;
    }
    int[] offsets = new int[n + 1];
    int[] from = new int[n];
    int outputs = 0;
    for (int c = 0; c < n; c++) {
      offsets[c + 1] = offsets[c] + all[c].tokens.length - prefix;
      from[c] = all[c].from;
      outputs += all[c].tokens.length - 1 - all[c].from;
    }
    int[] tokens = Arrays.copyOf(all[0].tokens, prefix + offsets[n]);
    for (int c = 0; c < n; c++) {
      System.arraycopy(
          all[c].tokens, prefix, tokens, prefix + offsets[c], offsets[c + 1] - offsets[c]);
    }
    double[] logProbs = new double[outputs];
    int[] greedy = new int[outputs];
    ensureOpen();
    int status =
        LlamaNative.amalgam_llama_score_shared_prefix(
            contextHandle, tokens, prefix, offsets, n, from, logProbs, greedy, outputs);
    check(status, Reason.NATIVE_ERROR, model);
    List<ContinuationScore> scores = new ArrayList<>(n);
    for (int c = 0, start = 0; c < n; c++) {
      int count = all[c].tokens.length - 1 - all[c].from;
      scores.add(sum(logProbs, greedy, start, count));
      start += count;
    }
    return List.copyOf(scores);
  }

  /**
   * Prompt + continuation tokens and the first position whose next token belongs to the
   * continuation.
   */
  private record Continuation(int[] tokens, int from) {}

  /**
   * Tokenizes prompt + continuation and finds where the continuation's tokens start
   * (lm-evaluation-harness).
   */
  private Continuation continuation(int[] head, String prompt, String continuation) {
    int[] whole = tokenize(prompt + continuation, true);
    int common = 0;
    while (common < head.length && common < whole.length && head[common] == whole[common]) common++;
    if (common == whole.length) {
      throw new LlamaBridgeException(
          Reason.EMPTY_TEXT, "continuation '" + continuation + "' adds no token after the prompt");
    }
    if (common == 0) {
      throw new LlamaBridgeException(
          Reason.TEXT_TOO_SHORT,
          "the first token has no context to be scored in (the vocabulary adds no BOS and the prompt is empty)");
    }
    return new Continuation(whole, common - 1);
  }

  /**
   * The sum of count log-probabilities from start, in order, and whether all of them were greedy.
   */
  private static ContinuationScore sum(double[] logProbs, int[] greedy, int start, int count) {
    double sum = 0;
    boolean allGreedy = true;
    for (int i = start; i < start + count; i++) {
      sum += logProbs[i];
      allGreedy &= greedy[i] != 0;
    }
    return new ContinuationScore(sum, count, allGreedy);
  }

  /**
   * Perplexity with llama-perplexity's definition (see {@link PerplexityResult}).
   *
   * @param nCtx window size; at most {@link #maxSequenceLength()}
   * @throws LlamaBridgeException EMPTY_TEXT, TEXT_TOO_SHORT when the text has fewer than 2 x nCtx
   *     tokens (the message gives both counts), BAD_ARGUMENT for nCtx out of range
   */
  public PerplexityResult perplexity(String text, int nCtx) {
    Objects.requireNonNull(text, "text");
    if (nCtx < 4 || nCtx > maxSequenceLength()) {
      throw new LlamaBridgeException(
          Reason.BAD_ARGUMENT,
          "n_ctx must be in [4, "
              + maxSequenceLength()
              + "] (the scorer's context size), got "
              + nCtx);
    }
    if (text.isEmpty())
      throw new LlamaBridgeException(Reason.EMPTY_TEXT, "text is empty: nothing to score");
    int[] tokens = tokenize(text, true);
    long needed = 2L * nCtx;
    if (tokens.length < needed) {
      throw new LlamaBridgeException(
          Reason.TEXT_TOO_SHORT,
          "perplexity with n_ctx "
              + nCtx
              + " needs at least "
              + needed
              + " tokens (2 x n_ctx), the text has "
              + tokens.length);
    }
    int chunks = tokens.length / nCtx;
    int first = nCtx / 2;
    double nll = 0;
    double nll2 = 0;
    long count = 0;
    int[] chunk = new int[nCtx];
    for (int c = 0; c < chunks; c++) {
      System.arraycopy(tokens, c * nCtx, chunk, 0, nCtx);
      if (addsBos && bosToken >= 0) chunk[0] = bosToken;
      for (double lp : score(chunk, first, null)) {
        nll -= lp;
        nll2 += lp * lp;
        count++;
      }
    }
    double mean = nll / count;
    double variance = nll2 / count - mean * mean;
    double stderr = count > 1 && variance > 0 ? Math.sqrt(variance / (count - 1)) : 0.0;
    double ppl = Math.exp(mean);
    return new PerplexityResult(ppl, stderr * ppl, mean, tokens.length, chunks, count, nCtx);
  }

  private synchronized double[] score(int[] tokens, int from, int[] greedy) {
    ensureOpen();
    checkSequence(tokens);
    double[] logProbs = new double[tokens.length - 1 - from];
    int status =
        LlamaNative.amalgam_llama_score(
            contextHandle, tokens, tokens.length, from, logProbs, greedy);
    check(status, Reason.NATIVE_ERROR, model);
    return logProbs;
  }

  /**
   * The checks the native code repeats, made here so the caller gets a precise reason before
   * anything runs.
   */
  private void checkSequence(int[] tokens) {
    if (tokens.length < 2) {
      throw new LlamaBridgeException(
          Reason.TEXT_TOO_SHORT,
          "scoring needs at least 2 tokens (the first is context only), got " + tokens.length);
    }
    if (tokens.length > maxSequenceLength()) {
      throw new LlamaBridgeException(
          Reason.TEXT_TOO_LONG,
          "text has "
              + tokens.length
              + " tokens, more than the context of "
              + maxSequenceLength()
              + " (raise the context size)");
    }
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i] < 0 || tokens[i] >= vocabSize) {
        throw new LlamaBridgeException(
            Reason.BAD_ARGUMENT,
            "token "
                + tokens[i]
                + " at position "
                + i
                + " outside the vocabulary [0, "
                + vocabSize
                + ")");
      }
    }
  }

  private void ensureOpen() {
    if (contextHandle == 0)
      throw new LlamaBridgeException(Reason.CLOSED, model + ": scorer is closed");
  }

  /** Frees the context and the model; idempotent. */
  @Override
  public synchronized void close() {
    if (contextHandle != 0) {
      LlamaNative.amalgam_llama_free_context(contextHandle);
      contextHandle = 0;
    }
    if (modelHandle != 0) {
      LlamaNative.amalgam_llama_free_model(modelHandle);
      modelHandle = 0;
    }
  }

  private static void check(int status, Reason reason, Path model) {
    NativeCalls.check(status, reason, model);
  }

  /** Status values of amalgam_llama.h that Java reacts to. */
  private static final class StatusCode {
    static final int BUFFER_TOO_SMALL = -10;
  }
}
