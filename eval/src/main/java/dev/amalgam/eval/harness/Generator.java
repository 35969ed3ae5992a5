package dev.amalgam.eval.harness;

import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaGeneration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Runs the generation requests of one model load; the seam that lets tests replace the child
 * process.
 */
@FunctionalInterface
public interface Generator {
  /**
   * Longest wait for the next streamed result (a load or one long note) before the child is killed.
   */
  Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

  /** java-llama.cpp in one child JVM per call, streaming each result to the listener. */
  Generator CHILD_PROCESS =
      (model, requests, listener) ->
          LlamaGeneration.generateStreaming(model, requests, IDLE_TIMEOUT, listener);

  /** Generates all requests with one model load, reporting each result as it comes. */
  List<GenerationResult> generate(
      Path model, List<GenerationRequest> requests, LlamaGeneration.Listener listener);
}
