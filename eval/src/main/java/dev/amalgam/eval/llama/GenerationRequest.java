package dev.amalgam.eval.llama;

import java.util.List;
import java.util.Objects;

/**
 * One text generation through the bridge's llama.cpp engine. Build one with {@link #builder()} (or
 * {@link #of(String)} for the defaults) and change a copy with {@link #toBuilder()}.
 *
 * @param prompt the prompt (raw, or the user message when chat is set)
 * @param chat wrap the prompt in the model's chat template (GGUF {@code tokenizer.chat_template};
 *     chatml if absent)
 * @param maxTokens most tokens to generate
 * @param temperature sampling temperature; 0 is greedy
 * @param seed sampling seed
 * @param gpuLayers layers to offload (model-level: equal for every request of one model load);
 *     ignored by the CPU-only bundled library
 * @param contextSize context tokens (model-level)
 * @param threads CPU threads (model-level)
 * @param grammar a GBNF grammar the output must follow (llama.cpp's grammar sampler), or null for
 *     free text; the multiple-choice evaluation uses one that allows only the option labels
 * @param stop strings that end the generation where they first appear (not included in the text);
 *     empty for none
 */
public record GenerationRequest(
    String prompt,
    boolean chat,
    int maxTokens,
    float temperature,
    int seed,
    int gpuLayers,
    int contextSize,
    int threads,
    String grammar,
    List<String> stop) {
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
    stop = List.copyOf(Objects.requireNonNull(stop, "stop"));
    for (String s : stop) {
      if (s.isEmpty()) throw bad("stop strings must not be empty");
    }
    if (grammar != null && grammar.isBlank())
      throw bad("grammar must be null or a non-blank GBNF text");
  }

  /** A request without stop strings. */
  public GenerationRequest(
      String prompt,
      boolean chat,
      int maxTokens,
      float temperature,
      int seed,
      int gpuLayers,
      int contextSize,
      int threads,
      String grammar) {
    this(
        prompt,
        chat,
        maxTokens,
        temperature,
        seed,
        gpuLayers,
        contextSize,
        threads,
        grammar,
        List.of());
  }

  /**
   * A builder with the defaults: no prompt yet (required), no chat template, 64 tokens, greedy,
   * seed 42, no GPU layers, context 2048, {@link ScorerOptions#defaultThreads()} threads, free
   * text.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A greedy request for {@code prompt} with the defaults of {@link #builder()}. */
  public static GenerationRequest of(String prompt) {
    return builder().prompt(prompt).build();
  }

  /** A builder holding this request's values, for a changed copy. */
  public Builder toBuilder() {
    return new Builder()
        .prompt(prompt)
        .chat(chat)
        .maxTokens(maxTokens)
        .temperature(temperature)
        .seed(seed)
        .gpuLayers(gpuLayers)
        .contextSize(contextSize)
        .threads(threads)
        .grammar(grammar)
        .stop(stop);
  }

  boolean sameModelSettings(GenerationRequest other) {
    return gpuLayers == other.gpuLayers
        && contextSize == other.contextSize
        && threads == other.threads;
  }

  private static LlamaBridgeException bad(String message) {
    return new LlamaBridgeException(LlamaBridgeException.Reason.BAD_ARGUMENT, message);
  }

  /** Collects a {@link GenerationRequest}'s values; {@link #build()} validates them. */
  public static final class Builder {
    private String prompt;
    private boolean chat;
    private int maxTokens = DEFAULT_MAX_TOKENS;
    private float temperature;
    private int seed = DEFAULT_SEED;
    private int gpuLayers;
    private int contextSize = DEFAULT_CONTEXT_SIZE;
    private Integer
        threads; // null: ScorerOptions.defaultThreads(), read from /proc only when needed
    private String grammar;
    private List<String> stop = List.of();

    private Builder() {}

    /** The prompt (required). */
    public Builder prompt(String value) {
      prompt = value;
      return this;
    }

    /** Wrap the prompt in the model's chat template, or not. */
    public Builder chat(boolean value) {
      chat = value;
      return this;
    }

    /** Most tokens to generate. */
    public Builder maxTokens(int value) {
      maxTokens = value;
      return this;
    }

    /** Sampling temperature; 0 is greedy. */
    public Builder temperature(float value) {
      temperature = value;
      return this;
    }

    /** Sampling seed. */
    public Builder seed(int value) {
      seed = value;
      return this;
    }

    /** Layers to offload to a GPU. */
    public Builder gpuLayers(int value) {
      gpuLayers = value;
      return this;
    }

    /** Context tokens. */
    public Builder contextSize(int value) {
      contextSize = value;
      return this;
    }

    /** CPU threads. */
    public Builder threads(int value) {
      threads = value;
      return this;
    }

    /** A GBNF grammar the output must follow, or null for free text. */
    public Builder grammar(String value) {
      grammar = value;
      return this;
    }

    /** Strings that end the generation where they first appear (not included in the text). */
    public Builder stop(List<String> value) {
      stop = value;
      return this;
    }

    /**
     * The request.
     *
     * @throws LlamaBridgeException (bad argument) if a value is out of range
     * @throws NullPointerException if no prompt was set
     */
    public GenerationRequest build() {
      return new GenerationRequest(
          prompt,
          chat,
          maxTokens,
          temperature,
          seed,
          gpuLayers,
          contextSize,
          threads != null ? threads : ScorerOptions.defaultThreads(),
          grammar,
          stop);
    }
  }
}
