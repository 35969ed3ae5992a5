package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.testing.TestAssets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching and prefix sharing: the same greedy outputs with N sequences side by side as
 * with one, and with a shared few-shot prefix as with every prompt decoded alone.
 */
class BatchedGenerationTest {
  private static final Duration TIMEOUT = Duration.ofMinutes(5);

  /** Story-like prompts of varied length and budget, so sequences finish at different steps. */
  static List<GenerationRequest> storyPrompts(int count, int maxTokens) {
    String[] subjects = {"Lily", "Tom", "The little dog", "A big bird", "Mom", "The cat", "Ben"};
    String[] verbs = {"went to the", "saw a", "wanted to", "was very", "found a", "said"};
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String prompt =
          (i % 3 == 0 ? "Once upon a time, " : "")
              + subjects[i % subjects.length]
              + " "
              + verbs[(i / subjects.length) % verbs.length]
              + (i % 5 == 0 ? " park" : "");
      requests.add(
          GenerationRequest.builder()
              .prompt(prompt)
              .maxTokens(maxTokens + i % 7)
              .threads(2)
              .contextSize(256)
              .build());
    }
    return requests;
  }

  private static List<String> texts(List<GenerationResult> results) {
    List<String> texts = new ArrayList<>();
    for (GenerationResult r : results) texts.add(r.text());
    return texts;
  }

  @Test
  void batchedGreedyOutputsEqualOneSequencesAndSlotsAreReused() {
    Path model = TestAssets.stories260K();
    List<GenerationRequest> requests = storyPrompts(30, 16);
    BatchedGenerator.Outcome one =
        BatchedGenerator.run(model, requests, 1, TIMEOUT, false, LlamaGeneration.Listener.NONE);
    assertEquals(1, one.parallel());
    for (int n : new int[] {4, 7}) {
      BatchedGenerator.Outcome many =
          BatchedGenerator.run(model, requests, n, TIMEOUT, false, LlamaGeneration.Listener.NONE);
      assertEquals(n, many.parallel());
      assertEquals(texts(one.results()), texts(many.results()), n + " sequences");
      for (int i = 0; i < requests.size(); i++) {
        assertEquals(
            one.results().get(i).generatedTokens(), many.results().get(i).generatedTokens());
        assertEquals(one.results().get(i).promptTokens(), many.results().get(i).promptTokens());
      }
    }
  }

  @Test
  void fewShotPromptsShareTheirPrefixAndKeepTheirOutputs() {
    Path model = TestAssets.stories260K();
    String shots =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the"
            + " park. One day, she saw a big, red ball.\n";
    List<GenerationRequest> requests = new ArrayList<>();
    for (String tail : List.of("Tom", "The dog", "Mom said", "Ben saw", "A bird", "The cat")) {
      requests.add(
          GenerationRequest.builder()
              .prompt(shots + tail)
              .maxTokens(12)
              .threads(2)
              .contextSize(256)
              .build());
    }
    BatchedGenerator.Outcome shared =
        BatchedGenerator.run(model, requests, 3, TIMEOUT, false, LlamaGeneration.Listener.NONE);
    assertTrue(
        shared.promptTokensShared() > shared.promptTokensDecoded(),
        "most prompt tokens come from the cache: " + shared);
    for (int i = 0; i < requests.size(); i++) {
      assertEquals(
          LlamaGeneration.generate(model, requests.get(i)).text(),
          shared.results().get(i).text(),
          "request " + i + " against a fresh load");
    }
  }

  @Test
  void stopStringsEndTheTextBeforeThem() {
    Path model = TestAssets.stories260K();
    GenerationRequest free =
        GenerationRequest.builder()
            .prompt("Once upon a time")
            .maxTokens(40)
            .threads(2)
            .contextSize(256)
            .build();
    String full = LlamaGeneration.generate(model, free).text();
    int at = full.indexOf(" girl");
    assertTrue(at > 0, full);
    GenerationResult stopped =
        LlamaGeneration.generate(model, free.toBuilder().stop(List.of("zzz", " girl")).build());
    assertEquals(full.substring(0, at), stopped.text());
    assertTrue(stopped.generatedTokens() < 40);
  }

  @Test
  void theAutomaticChoiceWeighsTheSharedCachesAttentionAgainstTheWeights() {
    try (NativeModel model = NativeModel.load(TestAssets.stories260K(), 0, false)) {
      GenerationRequest r = GenerationRequest.of("x");
      List<BatchedGenerator.Prepared> shortOnes = new ArrayList<>();
      List<BatchedGenerator.Prepared> longOnes = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        shortOnes.add(new BatchedGenerator.Prepared(r, "x", new int[20], 16));
        longOnes.add(new BatchedGenerator.Prepared(r, "x", new int[900], 64));
      }
      // 260K parameters: 36-token sequences may share the cache 16 at a time, 964-token ones not.
      BatchedGenerator.Plan few = BatchedGenerator.automatic(model, 2048, shortOnes);
      assertEquals(BatchedGenerator.MAX_AUTO_PARALLEL, few.parallel(), few.reason());
      BatchedGenerator.Plan many = BatchedGenerator.automatic(model, 2048, longOnes);
      assertEquals(1, many.parallel(), many.reason());
      assertTrue(many.reason().contains("attention allows 1"), many.reason());
      assertEquals(3, BatchedGenerator.automatic(model, 2048, shortOnes.subList(0, 3)).parallel());
    }
  }
}
