package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.Pair;
import de.kherud.llama.args.LogFormat;
import dev.amalgam.testing.TestAssets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bridge's generation against java-llama.cpp 4.2.0 itself (the binding that generated before
 * the bridge did), both in this JVM on the same llama.cpp build: greedy and seeded texts, chat
 * prompts and grammars must come out the same. The binding is loaded once (it leaks a context per
 * load).
 */
class JavaLlamaParityTest {
  private static final int CONTEXT = 512;
  private static final List<String> PROMPTS =
      List.of(
          "Once upon a time",
          "Lily and Tom went to the",
          "The little dog was sad because",
          "One day, a big bird",
          "Mom said");
  private static LlamaModel binding;

  @BeforeAll
  static void loadBinding() {
    LlamaModel.setLogger(LogFormat.TEXT, (level, message) -> {});
    binding =
        new LlamaModel(
            new ModelParameters()
                .setModel(TestAssets.stories260K().toString())
                .setCtxSize(CONTEXT)
                .setThreads(2)
                .setThreadsBatch(2)
                .setGpuLayers(0));
  }

  @AfterAll
  static void closeBinding() {
    if (binding != null) binding.close();
  }

  private static String viaBinding(
      String prompt, int maxTokens, float temperature, int seed, String grammar) {
    InferenceParameters inference =
        new InferenceParameters(prompt)
            .setNPredict(maxTokens)
            .setTemperature(temperature)
            .setSeed(seed)
            .setCachePrompt(false);
    if (grammar != null) inference.setGrammar(grammar);
    StringBuilder text = new StringBuilder();
    for (LlamaOutput o : binding.generate(inference)) text.append(o.text);
    return text.toString();
  }

  private static List<String> viaBridge(
      List<String> prompts, int maxTokens, float temperature, int seed, String grammar) {
    List<GenerationRequest> requests = new ArrayList<>();
    for (String p : prompts) {
      requests.add(
          GenerationRequest.builder()
              .prompt(p)
              .maxTokens(maxTokens)
              .temperature(temperature)
              .seed(seed)
              .grammar(grammar)
              .threads(2)
              .contextSize(CONTEXT)
              .build());
    }
    List<String> texts = new ArrayList<>();
    for (GenerationResult r :
        LlamaGeneration.generateAll(
            TestAssets.stories260K(), requests, 1, LlamaGeneration.DEFAULT_TIMEOUT)) {
      texts.add(r.text());
    }
    return texts;
  }

  @Test
  void greedyTextsEqualTheBindings() {
    List<String> ours = viaBridge(PROMPTS, 48, 0f, 42, null);
    for (int i = 0; i < PROMPTS.size(); i++) {
      assertEquals(viaBinding(PROMPTS.get(i), 48, 0f, 42, null), ours.get(i), PROMPTS.get(i));
    }
  }

  @Test
  void seededSamplingEqualsTheBindings() {
    for (int seed : new int[] {42, 7}) {
      List<String> ours = viaBridge(PROMPTS, 40, 0.8f, seed, null);
      for (int i = 0; i < PROMPTS.size(); i++) {
        assertEquals(
            viaBinding(PROMPTS.get(i), 40, 0.8f, seed, null),
            ours.get(i),
            PROMPTS.get(i) + " seed " + seed);
      }
    }
  }

  @Test
  void grammarOutputsEqualTheBindingsAndFollowTheGrammar() {
    String grammar = "root ::= \"yes\" | \"no\" | \"maybe\"";
    for (float temperature : new float[] {0f, 0.8f}) {
      List<String> ours = viaBridge(PROMPTS, 8, temperature, 42, grammar);
      for (int i = 0; i < PROMPTS.size(); i++) {
        assertTrue(Set.of("yes", "no", "maybe").contains(ours.get(i)), ours.get(i));
        assertEquals(
            viaBinding(PROMPTS.get(i), 8, temperature, 42, grammar),
            ours.get(i),
            PROMPTS.get(i) + " at temperature " + temperature);
      }
    }
  }

  @Test
  void chatPromptsEqualTheBindings() {
    String templated =
        binding.applyTemplate(
            new InferenceParameters("")
                .setMessages(null, List.of(new Pair<>("user", "Tell me a story."))));
    GenerationResult r =
        LlamaGeneration.generate(
            TestAssets.stories260K(),
            GenerationRequest.builder()
                .prompt("Tell me a story.")
                .chat(true)
                .maxTokens(16)
                .threads(2)
                .contextSize(CONTEXT)
                .build());
    String bos = "<s>";
    assertEquals(
        templated.startsWith(bos) ? templated.substring(bos.length()) : templated, r.prompt());
    assertEquals(viaBinding(r.prompt(), 16, 0f, 42, null), r.text());
  }
}
