package dev.amalgam.bench;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaGeneration;
import dev.amalgam.eval.llama.LlamaLibrary;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Decode throughput of in-process batched generation against the java-llama.cpp binding, with short
 * prompts so that token generation, not prompt processing, dominates: REQUESTS prompts of a few
 * tokens, MAX_TOKENS greedy tokens each. Each round runs the binding (one prompt at a time, the
 * model loaded once beforehand) and the bridge at every N (load time excluded), so the ratios of a
 * round are side by side on a shared machine.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar dev.amalgam.bench.BatchedDecode
 * MODEL.gguf [ROUNDS] [REQUESTS] [MAX_TOKENS] [N...]}
 */
public final class BatchedDecode {
  private BatchedDecode() {}

  public static void main(String[] args) {
    Path model = Path.of(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int count = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    int maxTokens = args.length > 3 ? Integer.parseInt(args[3]) : 64;
    List<Integer> parallels = new ArrayList<>();
    for (int i = 4; i < args.length; i++) parallels.add(Integer.parseInt(args[i]));
    if (parallels.isEmpty()) parallels = List.of(1, 4, 8, 16);
    System.out.println("library: " + LlamaLibrary.describe());
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      requests.add(
          GenerationRequest.builder()
              .prompt("Story " + i + ": Once upon a time")
              .maxTokens(maxTokens)
              .threads(2)
              .contextSize(512)
              .build());
    }
    LlamaModel.setLogger(LogFormat.TEXT, (level, message) -> {});
    LlamaModel binding =
        new LlamaModel(
            new ModelParameters()
                .setModel(model.toString())
                .setCtxSize(512)
                .setThreads(2)
                .setThreadsBatch(2));
    for (int round = 1; round <= rounds; round++) {
      long tokens = 0;
      long start = System.nanoTime();
      for (GenerationRequest r : requests) {
        int outputs = 0;
        for (LlamaOutput ignored :
            binding.generate(
                new InferenceParameters(r.prompt())
                    .setNPredict(maxTokens)
                    .setTemperature(0f)
                    .setSeed(42)
                    .setCachePrompt(false))) {
          outputs++;
        }
        tokens += Math.max(0, outputs - 1);
      }
      double bindingRate = tokens / ((System.nanoTime() - start) / 1e9);
      StringBuilder line =
          new StringBuilder(String.format("round %d: binding %.1f tok/s", round, bindingRate));
      for (int n : parallels) {
        long[] load = new long[1];
        long t = System.nanoTime();
        List<GenerationResult> results =
            LlamaGeneration.generateStreaming(
                model,
                requests,
                n,
                Duration.ofMinutes(30),
                new LlamaGeneration.Listener() {
                  @Override
                  public void loaded(long millis) {
                    load[0] = millis;
                  }

                  @Override
                  public void result(int index, GenerationResult result) {}
                });
        double seconds = (System.nanoTime() - t) / 1e9 - load[0] / 1000.0;
        long generated = 0;
        for (GenerationResult r : results) generated += r.generatedTokens();
        double rate = generated / seconds;
        line.append(String.format(" | N=%d %.1f tok/s = %.2fx", n, rate, rate / bindingRate));
      }
      System.out.println(line);
    }
    System.exit(0); // the binding's native thread would keep the JVM alive
  }
}
