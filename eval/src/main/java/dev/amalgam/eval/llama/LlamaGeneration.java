package dev.amalgam.eval.llama;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Text generation in process, through Amalgam's bridge to llama.cpp's C API (docs/formats.md §8):
 * one model load per call, continuous batching of up to N sequences in one context, prefix sharing
 * between prompts, and everything freed before the call returns.
 *
 * <p>Outputs follow java-llama.cpp 4.2.0's (llama-server b4916's) rules: the prompt is tokenized
 * with BOS and special tokens, greedy decoding at temperature 0, llama-server's default sampler
 * chain with the seed otherwise, end-of-generation tokens end a sequence without text, and at most
 * {@code contextSize - prompt tokens} tokens are generated. Greedy outputs with several sequences
 * in one batch can differ from those of one sequence where llama.cpp's batched kernels round
 * differently (measured in benchmarks/RESULTS.md).
 */
public final class LlamaGeneration {
  /** Default time limit of one call. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

  private LlamaGeneration() {}

  /** Generates one completion with {@link #DEFAULT_TIMEOUT}. */
  public static GenerationResult generate(Path gguf, GenerationRequest request) {
    return generateAll(gguf, List.of(request), DEFAULT_TIMEOUT).get(0);
  }

  /**
   * Generates several completions with one model load and {@link #DEFAULT_TIMEOUT}; results in
   * request order.
   */
  public static List<GenerationResult> generateAll(Path gguf, List<GenerationRequest> requests) {
    return generateAll(gguf, requests, DEFAULT_TIMEOUT);
  }

  /**
   * Generates several completions with one model load and an automatic number of parallel
   * sequences; results in request order.
   *
   * @param requests at least one; gpuLayers, contextSize and threads must be equal in all (one
   *     model load)
   * @param timeout the call fails when the whole run takes longer
   * @throws LlamaBridgeException MODEL_NOT_FOUND, MODEL_LOAD_FAILED (a file llama.cpp refuses),
   *     BAD_ARGUMENT (also a grammar llama.cpp refuses, with its reason), TEXT_TOO_LONG (a prompt
   *     fills the context), TIMEOUT, LIBRARY_UNAVAILABLE, NATIVE_ERROR
   */
  public static List<GenerationResult> generateAll(
      Path gguf, List<GenerationRequest> requests, Duration timeout) {
    return generateAll(gguf, requests, 0, timeout);
  }

  /**
   * As {@link #generateAll(Path, List, Duration)} with {@code parallel} sequences side by side (0:
   * automatic, from the context size and the available memory).
   */
  public static List<GenerationResult> generateAll(
      Path gguf, List<GenerationRequest> requests, int parallel, Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return run(gguf, requests, parallel, timeout, false, Listener.NONE);
  }

  /**
   * Generates several completions with one model load and hands each result to {@code listener} as
   * soon as it and every earlier request are done, so callers can show progress and tokens/s.
   *
   * @param idleTimeout the call fails when it loads or generates for longer than this without a
   *     result
   * @return all results in request order (the same objects the listener saw)
   * @throws LlamaBridgeException as {@link #generateAll(Path, List, Duration)}. An exception thrown
   *     by the listener stops the generation and is rethrown unchanged.
   */
  public static List<GenerationResult> generateStreaming(
      Path gguf, List<GenerationRequest> requests, Duration idleTimeout, Listener listener) {
    return generateStreaming(gguf, requests, 0, idleTimeout, listener);
  }

  /**
   * As {@link #generateStreaming(Path, List, Duration, Listener)} with {@code parallel} sequences
   * side by side (0: automatic).
   */
  public static List<GenerationResult> generateStreaming(
      Path gguf,
      List<GenerationRequest> requests,
      int parallel,
      Duration idleTimeout,
      Listener listener) {
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(listener, "listener");
    return run(gguf, requests, parallel, idleTimeout, true, listener);
  }

  /** Receives the events of a generation, on the calling thread. */
  public interface Listener {
    /** A listener that ignores every event. */
    Listener NONE =
        new Listener() {
          @Override
          public void loaded(long millis) {}

          @Override
          public void result(int index, GenerationResult result) {}
        };

    /** The model is loaded, which took {@code millis}. */
    void loaded(long millis);

    /** Generation runs {@code sequences} sequences side by side, for the stated reason. */
    default void parallel(int sequences, String reason) {}

    /** Request {@code index} is done (reported in request order). */
    void result(int index, GenerationResult result);
  }

  private static List<GenerationResult> run(
      Path gguf,
      List<GenerationRequest> requests,
      int parallel,
      Duration timeout,
      boolean idle,
      Listener listener) {
    Objects.requireNonNull(gguf, "gguf");
    Objects.requireNonNull(requests, "requests");
    if (requests.isEmpty()) {
      throw new LlamaBridgeException(Reason.BAD_ARGUMENT, "no generation requests");
    }
    GenerationRequest first = requests.get(0);
    for (GenerationRequest r : requests) {
      if (!first.sameModelSettings(r)) {
        throw new LlamaBridgeException(
            Reason.BAD_ARGUMENT,
            "requests of one model load must share gpuLayers, contextSize and threads");
      }
    }
    if (!Files.isRegularFile(gguf)) {
      throw new LlamaBridgeException(Reason.MODEL_NOT_FOUND, gguf + ": no such model file");
    }
    return BatchedGenerator.run(gguf, requests, parallel, timeout, idle, listener).results();
  }
}
