package dev.amalgam.eval.llama;

import java.util.Objects;

/**
 * One text generation through java-llama.cpp.
 *
 * @param prompt the prompt (raw, or the user message when chat is set)
 * @param chat wrap the prompt in the model's chat template (GGUF {@code tokenizer.chat_template}; chatml if absent)
 * @param maxTokens most tokens to generate
 * @param temperature sampling temperature; 0 is greedy
 * @param seed sampling seed
 * @param gpuLayers layers to offload (model-level: equal for every request of one model load); ignored by the
 *     CPU-only bundled library
 * @param contextSize context tokens (model-level)
 * @param threads CPU threads (model-level)
 * @param grammar a GBNF grammar the output must follow (llama.cpp's grammar sampler), or null for free text; the
 *     multiple-choice evaluation uses one that allows only the option labels
 */
public record GenerationRequest(
    String prompt, boolean chat, int maxTokens, float temperature, int seed, int gpuLayers, int contextSize,
    int threads, String grammar) {
  /** Default most tokens to generate. */
  public static final int DEFAULT_MAX_TOKENS = 64;
  /** Default seed. */
  public static final int DEFAULT_SEED = 42;
  /** Default context size. */
  public static final int DEFAULT_CONTEXT_SIZE = 2048;

  /** Validates the ranges. */
  public GenerationRequest {
    Objects.requireNonNull(prompt, "prompt");
    if (maxTokens < 1) throw bad("max tokens must be >= 1, got " + maxTokens);
    if (!(temperature >= 0) || Float.isInfinite(temperature)) {
      throw bad("temperature must be a finite value >= 0, got " + temperature);
    }
    if (gpuLayers < 0) throw bad("gpu layers must be >= 0, got " + gpuLayers);
    if (contextSize < 16) throw bad("context size must be >= 16, got " + contextSize);
    if (threads < 1) throw bad("threads must be >= 1, got " + threads);
    if (grammar != null && grammar.isBlank()) throw bad("grammar must be null or a non-blank GBNF text");
  }

  /** A request without a grammar (free text). */
  public GenerationRequest(String prompt, boolean chat, int maxTokens, float temperature, int seed, int gpuLayers,
      int contextSize, int threads) {
    this(prompt, chat, maxTokens, temperature, seed, gpuLayers, contextSize, threads, null);
  }

  /** A greedy request with the defaults: 64 tokens, seed 42, no GPU layers, context 2048, default threads. */
  public static GenerationRequest of(String prompt) {
    return new GenerationRequest(prompt, false, DEFAULT_MAX_TOKENS, 0f, DEFAULT_SEED, 0, DEFAULT_CONTEXT_SIZE,
        ScorerOptions.defaultThreads());
  }

  /** A copy with another prompt (same options). */
  public GenerationRequest withPrompt(String value) {
    return new GenerationRequest(value, chat, maxTokens, temperature, seed, gpuLayers, contextSize, threads, grammar);
  }

  /** A copy with chat templating on or off. */
  public GenerationRequest withChat(boolean value) {
    return new GenerationRequest(prompt, value, maxTokens, temperature, seed, gpuLayers, contextSize, threads, grammar);
  }

  /** A copy with another token limit. */
  public GenerationRequest withMaxTokens(int value) {
    return new GenerationRequest(prompt, chat, value, temperature, seed, gpuLayers, contextSize, threads, grammar);
  }

  /** A copy with another temperature. */
  public GenerationRequest withTemperature(float value) {
    return new GenerationRequest(prompt, chat, maxTokens, value, seed, gpuLayers, contextSize, threads, grammar);
  }

  /** A copy with another seed. */
  public GenerationRequest withSeed(int value) {
    return new GenerationRequest(prompt, chat, maxTokens, temperature, value, gpuLayers, contextSize, threads, grammar);
  }

  /** A copy with another number of GPU layers. */
  public GenerationRequest withGpuLayers(int value) {
    return new GenerationRequest(prompt, chat, maxTokens, temperature, seed, value, contextSize, threads, grammar);
  }

  /** A copy with another context size. */
  public GenerationRequest withContextSize(int value) {
    return new GenerationRequest(prompt, chat, maxTokens, temperature, seed, gpuLayers, value, threads, grammar);
  }

  /** A copy with another thread count. */
  public GenerationRequest withThreads(int value) {
    return new GenerationRequest(prompt, chat, maxTokens, temperature, seed, gpuLayers, contextSize, value, grammar);
  }

  /** A copy constrained by a GBNF grammar (null: free text). */
  public GenerationRequest withGrammar(String value) {
    return new GenerationRequest(prompt, chat, maxTokens, temperature, seed, gpuLayers, contextSize, threads, value);
  }

  boolean sameModelSettings(GenerationRequest other) {
    return gpuLayers == other.gpuLayers && contextSize == other.contextSize && threads == other.threads;
  }

  private static LlamaBridgeException bad(String message) {
    return new LlamaBridgeException(LlamaBridgeException.Reason.BAD_ARGUMENT, message);
  }
}
