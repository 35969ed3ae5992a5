package dev.amalgam.eval.llama;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Child-JVM probe of {@link LlamaReleasesTest}: opens the llama.cpp library that {@code
 * -Damalgam.llama.lib} names (one library per process), then prints one JSON line with its
 * description, exact log-probabilities of a text and greedy generations, or with the refusal.
 */
public final class LlamaReleaseProbe {
  private LlamaReleaseProbe() {}

  static final String TEXT =
      "Once upon a time, there was a little girl named Lily. She loved to play outside.";
  static final List<String> PROMPTS =
      List.of("Once upon a time", "Lily and Tom went to the", "The little dog was sad because");

  /** args[0]: the model; exit 0 with results, 3 with a refusal. */
  public static void main(String[] args) throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode out = json.createObjectNode();
    int code = 0;
    try {
      out.put("description", LlamaLibrary.describe());
      out.put("release", LlamaLibrary.release());
      fill(out, Path.of(args[0]));
    } catch (LlamaBridgeException e) {
      out.put("reason", e.reason().name());
      out.put("error", e.getMessage());
      code = 3;
    }
    System.out.println("probe " + out);
    System.out.flush();
    System.exit(code);
  }

  /** The results the releases are compared on; the same calls run in the parent on b4916. */
  static void fill(ObjectNode out, Path model) {
    try (LlamaScorer scorer = LlamaScorer.open(model, ScorerOptions.builder().threads(2).build())) {
      ArrayNode logProbs = out.putArray("logProbs");
      for (double d : scorer.tokenLogProbs(TEXT)) logProbs.add(d);
    }
    for (int parallel : new int[] {1, 3}) {
      ArrayNode texts = out.putArray("greedy" + parallel);
      for (GenerationResult r :
          LlamaGeneration.generateAll(
              model, requests(), parallel, LlamaGeneration.DEFAULT_TIMEOUT)) {
        texts.add(r.text());
      }
    }
  }

  static List<GenerationRequest> requests() {
    List<GenerationRequest> requests = new ArrayList<>();
    for (String p : PROMPTS) {
      requests.add(
          GenerationRequest.builder().prompt(p).maxTokens(32).threads(2).contextSize(256).build());
    }
    return requests;
  }
}
