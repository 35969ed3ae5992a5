package dev.amalgam.eval.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.Pair;
import de.kherud.llama.args.LogFormat;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The child-JVM side of {@link LlamaGeneration}: reads the requests (JSON) from stdin, loads the model once with
 * java-llama.cpp, generates each completion and prints one line {@code amalgam-generation-result {...}} with either
 * {@code results} or {@code error}. Always ends with {@code System.exit}, because the binding's native thread would
 * keep the JVM alive. Not meant to be started by hand.
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
      reply = run(json, json.readTree(System.in.readAllBytes()));
      if (reply.has("error")) code = 1;
    } catch (Throwable t) {
      reply = json.createObjectNode();
      reply.put("error", t.getMessage() == null ? t.toString() : t.getMessage() + " (" + t.getClass().getName() + ")");
      code = 1;
    }
    out.println(LlamaGeneration.RESULT_PREFIX + reply);
    out.flush();
    System.exit(code);
  }

  private static ObjectNode run(ObjectMapper json, JsonNode input) {
    LlamaModel.setLogger(LogFormat.TEXT, (level, message) -> { });
    ModelParameters params = new ModelParameters()
        .setModel(input.get("model").asText())
        .setCtxSize(input.get("contextSize").asInt())
        .setThreads(input.get("threads").asInt())
        .setGpuLayers(input.get("gpuLayers").asInt());
    String bosText = input.get("bosText").asText();
    ObjectNode reply = json.createObjectNode();
    ArrayNode results = reply.putArray("results");
    // No try-with-resources: close() only stops the task loop and the process exits right after anyway.
    LlamaModel model;
    try {
      model = new LlamaModel(params);
    } catch (RuntimeException e) {
      ObjectNode failed = json.createObjectNode();
      failed.put("error", "llama.cpp could not load the model: " + e.getMessage());
      failed.put("reason", LlamaBridgeException.Reason.MODEL_LOAD_FAILED.name());
      return failed;
    }
    for (JsonNode r : input.get("requests")) {
      String prompt = r.get("prompt").asText();
      if (r.get("chat").asBoolean()) {
        String templated = model.applyTemplate(
            new InferenceParameters("").setMessages(null, List.of(new Pair<>("user", prompt))));
        // complete() adds BOS itself when the vocabulary does: a template that writes it too would double it.
        prompt = !bosText.isEmpty() && templated.startsWith(bosText) ? templated.substring(bosText.length()) : templated;
      }
      long start = System.nanoTime();
      String text = model.complete(new InferenceParameters(prompt)
          .setNPredict(r.get("maxTokens").asInt())
          .setTemperature((float) r.get("temperature").asDouble())
          .setSeed(r.get("seed").asInt())
          .setCachePrompt(false));
      ObjectNode n = results.addObject();
      n.put("text", text);
      n.put("prompt", prompt);
      n.put("millis", (System.nanoTime() - start) / 1_000_000);
    }
    return reply;
  }
}
