package dev.amalgam.eval.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.Pair;
import de.kherud.llama.args.LogFormat;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The child-JVM side of {@link LlamaGeneration}: reads the requests (JSON) from stdin, loads the
 * model once with java-llama.cpp and streams its answers on stdout, one line each, flushed at once
 * so the parent can show progress:
 *
 * <ol>
 *   <li>{@code amalgam-generation-loaded {"millis":N}} after the model load;
 *   <li>{@code amalgam-generation-item
 *       {"index":i,"text":..,"prompt":..,"millis":..,"promptTokens":.., "generatedTokens":..}} per
 *       request, in request order;
 *   <li>{@code amalgam-generation-result {"done":n}} at the end, or {@code
 *       {"error":..,"reason":..,"index":i}} when the load or request i failed (then exit code 1).
 * </ol>
 *
 * Always ends with {@code System.exit}, because the binding's native thread would keep the JVM
 * alive. Not meant to be started by hand.
 */
public final class GenerationChild {
  private GenerationChild() {}

  /** Entry point of the child process; exit code 0 on success, 1 on failure. */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    ObjectMapper json = new ObjectMapper();
    int code = 0;
    ObjectNode reply;
    try {
      reply = run(json, json.readTree(System.in.readAllBytes()), out);
      if (reply.has("error")) code = 1;
    } catch (Throwable t) {
      reply = json.createObjectNode();
      reply.put(
          "error",
          t.getMessage() == null
              ? t.toString()
              : t.getMessage() + " (" + t.getClass().getName() + ")");
      code = 1;
    }
    out.println(LlamaGeneration.RESULT_PREFIX + reply);
    out.flush();
    System.exit(code);
  }

  private static ObjectNode run(ObjectMapper json, JsonNode input, PrintStream out) {
    LlamaModel.setLogger(LogFormat.TEXT, (level, message) -> {});
    int contextSize = input.get("contextSize").asInt();
    ModelParameters params =
        new ModelParameters()
            .setModel(input.get("model").asText())
            .setCtxSize(contextSize)
            .setThreads(input.get("threads").asInt())
            // Prompt processing gets the same thread count: llama.cpp's batch default (all cores)
            // oversubscribes a
            // shared machine, where spinning threads slow it down many times.
            .setThreadsBatch(input.get("threads").asInt())
            .setGpuLayers(input.get("gpuLayers").asInt());
    String bosText = input.get("bosText").asText();
    long loadStart = System.nanoTime();
    // No try-with-resources: close() only stops the task loop and the process exits right after
    // anyway.
    LlamaModel model;
    try {
      model = new LlamaModel(params);
    } catch (RuntimeException e) {
      ObjectNode failed = json.createObjectNode();
      failed.put("error", "llama.cpp could not load the model: " + e.getMessage());
      failed.put("reason", LlamaBridgeException.Reason.MODEL_LOAD_FAILED.name());
      return failed;
    }
    ObjectNode loaded = json.createObjectNode();
    loaded.put("millis", (System.nanoTime() - loadStart) / 1_000_000);
    out.println(LlamaGeneration.LOADED_PREFIX + loaded);
    int index = 0;
    for (JsonNode r : input.get("requests")) {
      String prompt = r.get("prompt").asText();
      if (r.get("chat").asBoolean()) {
        String templated =
            model.applyTemplate(
                new InferenceParameters("").setMessages(null, List.of(new Pair<>("user", prompt))));
        // complete() adds BOS itself when the vocabulary does: a template that writes it too would
        // double it.
        prompt =
            !bosText.isEmpty() && templated.startsWith(bosText)
                ? templated.substring(bosText.length())
                : templated;
      }
      int promptTokens = model.encode(prompt).length;
      // One slot of contextSize tokens holds BOS, the prompt and the generated tokens: cap the
      // latter so llama.cpp
      // never has to shift or truncate the context silently.
      int room = contextSize - promptTokens - 1;
      if (room < 1) {
        ObjectNode failed = json.createObjectNode();
        failed.put(
            "error",
            "the prompt of request "
                + index
                + " has "
                + promptTokens
                + " tokens, which leaves no room in the context of "
                + contextSize
                + " tokens (raise the context size)");
        failed.put("reason", LlamaBridgeException.Reason.TEXT_TOO_LONG.name());
        failed.put("index", index);
        return failed;
      }
      InferenceParameters inference =
          new InferenceParameters(prompt)
              .setNPredict(Math.min(r.get("maxTokens").asInt(), room))
              .setTemperature((float) r.get("temperature").asDouble())
              .setSeed(r.get("seed").asInt())
              .setCachePrompt(false);
      if (r.hasNonNull("grammar")) inference.setGrammar(r.get("grammar").asText());
      long start = System.nanoTime();
      StringBuilder text = new StringBuilder();
      int outputs = 0;
      // generate() streams one output per token and a last, empty one that carries the stop flag.
      for (LlamaOutput o : model.generate(inference)) {
        text.append(o.text);
        outputs++;
      }
      ObjectNode n = json.createObjectNode();
      n.put("index", index);
      n.put("text", text.toString());
      n.put("prompt", prompt);
      n.put("millis", (System.nanoTime() - start) / 1_000_000);
      n.put("promptTokens", promptTokens);
      n.put("generatedTokens", Math.max(0, outputs - 1));
      out.println(LlamaGeneration.ITEM_PREFIX + n);
      index++;
    }
    ObjectNode done = json.createObjectNode();
    done.put("done", index);
    return done;
  }
}
