package dev.amalgam.bench;

import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaGeneration;
import dev.amalgam.eval.llama.LlamaLibrary;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Model load and first-token latency of in-process generation (no child JVM): per round, one call
 * that loads the model and generates one token from a short prompt; the listener's load time and
 * the request's own time (prompt decode and first token) are reported, medians over the rounds.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar dev.amalgam.bench.GenerationLatency
 * MODEL.gguf [ROUNDS] [THREADS]}
 */
public final class GenerationLatency {
  private GenerationLatency() {}

  public static void main(String[] args) {
    Path model = Path.of(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    System.out.println("library: " + LlamaLibrary.describe());
    long[] load = new long[rounds];
    long[] first = new long[rounds];
    long[] call = new long[rounds];
    GenerationRequest request =
        GenerationRequest.builder()
            .prompt("Once upon a time")
            .maxTokens(1)
            .threads(threads)
            .contextSize(2048)
            .build();
    for (int r = 0; r < rounds; r++) {
      long[] loaded = new long[1];
      long start = System.nanoTime();
      List<GenerationResult> results =
          LlamaGeneration.generateStreaming(
              model,
              List.of(request),
              1,
              Duration.ofMinutes(5),
              new LlamaGeneration.Listener() {
                @Override
                public void loaded(long millis) {
                  loaded[0] = millis;
                }

                @Override
                public void result(int index, GenerationResult result) {}
              });
      call[r] = (System.nanoTime() - start) / 1_000_000;
      load[r] = loaded[0];
      first[r] = results.get(0).millis();
    }
    System.out.printf(
        "latency: load %d ms, first token %d ms, whole call %d ms (medians of %d; rounds: load %s,"
            + " first %s)%n",
        median(load),
        median(first),
        median(call),
        rounds,
        Arrays.toString(load),
        Arrays.toString(first));
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
