package dev.amalgam.eval.harness;

import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaGeneration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Runs the generation requests of one model load; the seam that lets tests replace the engine. */
@FunctionalInterface
public interface Generator {
  /** Longest wait for the next result (a load or one long note) before generation fails. */
  Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

  /**
   * The in-process llama.cpp engine with an automatic number of parallel sequences, reporting each
   * result to the listener.
   */
  Generator IN_PROCESS = inProcess(0);

  /**
   * The in-process llama.cpp engine with {@code parallel} sequences side by side (0: automatic,
   * from the context size and the available memory).
   */
  static Generator inProcess(int parallel) {
    return (model, requests, listener) ->
        LlamaGeneration.generateStreaming(model, requests, parallel, IDLE_TIMEOUT, listener);
  }

  /** Generates all requests with one model load, reporting each result as it comes. */
  List<GenerationResult> generate(
      Path model, List<GenerationRequest> requests, LlamaGeneration.Listener listener);
}
