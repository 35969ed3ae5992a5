package dev.amalgam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The java-llama.cpp binding's own generation speed, for comparison with {@code amalgam eval}'s
 * tokens/s: loads the model in this JVM and generates, greedily, the prompts an eval run recorded
 * (its predictions.jsonl), with the settings the harness uses (same context, threads for generation
 * and prompt processing, no prompt cache, same token limit). Tokens/s = generated tokens / wall
 * time of the generate() calls (prompt processing included, as in the harness's figure).
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar dev.amalgam.bench.BindingGeneration
 * MODEL.gguf predictions.jsonl MAX_TOKENS CTX THREADS}
 */
public final class BindingGeneration {
  private BindingGeneration() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println(
          "usage: BindingGeneration MODEL.gguf predictions.jsonl MAX_TOKENS CTX THREADS");
      System.exit(2);
    }
    int maxTokens = Integer.parseInt(args[2]);
    int ctx = Integer.parseInt(args[3]);
    int threads = Integer.parseInt(args[4]);
    ObjectMapper json = new ObjectMapper();
    List<String> prompts = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        JsonNode n = json.readTree(line);
        prompts.add(n.get("prompt").asText());
      }
    }
    LlamaModel.setLogger(LogFormat.TEXT, (level, message) -> {});
    LlamaModel model =
        new LlamaModel(
            new ModelParameters()
                .setModel(args[0])
                .setCtxSize(ctx)
                .setThreads(threads)
                .setThreadsBatch(threads));
    long tokens = 0;
    long nanos = 0;
    for (String prompt : prompts) {
      InferenceParameters p =
          new InferenceParameters(prompt)
              .setNPredict(maxTokens)
              .setTemperature(0f)
              .setSeed(42)
              .setCachePrompt(false);
      long start = System.nanoTime();
      int outputs = 0;
      for (LlamaOutput ignored : model.generate(p)) outputs++;
      nanos += System.nanoTime() - start;
      tokens += Math.max(0, outputs - 1); // the last output only carries the stop flag
    }
    System.out.printf(
        "binding: %d prompts, %d tokens in %.2f s -> %.1f tokens/s%n",
        prompts.size(), tokens, nanos / 1e9, tokens / (nanos / 1e9));
    System.exit(0); // the binding's native thread would keep the JVM alive
  }
}
