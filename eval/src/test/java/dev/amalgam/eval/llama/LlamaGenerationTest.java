package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generation in child JVMs against stories260K; each child costs about a second, so they are few. */
class LlamaGenerationTest {
  @Test
  void greedyGenerationIsDeterministicAndSeveralPromptsShareOneChild() {
    Path model = TestAssets.stories260K();
    GenerationRequest once = GenerationRequest.of("Once upon a time").withMaxTokens(12).withThreads(2);
    GenerationRequest lily = once.withPrompt("Lily and Tom went to the").withGpuLayers(0);
    List<GenerationResult> results = LlamaGeneration.generateAll(model, List.of(once, lily, once));
    assertEquals(3, results.size());
    assertTrue(results.get(0).text().startsWith(", there was a little girl"), results.get(0).text());
    assertEquals(results.get(0).text(), results.get(2).text(), "greedy: same prompt, same text");
    assertNotEquals(results.get(0).text(), results.get(1).text());
    assertEquals("Once upon a time", results.get(0).prompt());
    // A second child (a fresh model load) gives the same text.
    assertEquals(results.get(0).text(), LlamaGeneration.generate(model, once).text());
  }

  @Test
  void chatModeHasNoDoubleBosAndAcceptsGpuLayers() {
    Path model = TestAssets.stories260K();
    GenerationRequest chat = GenerationRequest.of("Tell me a story.").withChat(true).withMaxTokens(4)
        .withThreads(2).withGpuLayers(99).withContextSize(256);
    GenerationResult r = LlamaGeneration.generate(model, chat);
    // stories260K has no chat template: java-llama.cpp falls back to chatml.
    assertTrue(r.prompt().contains("<|im_start|>user\nTell me a story.<|im_end|>"), r.prompt());
    assertTrue(r.prompt().contains("<|im_start|>assistant"), r.prompt());
    try (LlamaScorer scorer = LlamaScorer.open(model, ScorerOptions.defaults().withThreads(1))) {
      int[] tokens = scorer.tokenize(r.prompt(), true, true);
      assertEquals(scorer.bosToken(), tokens[0]);
      assertNotEquals(scorer.bosToken(), tokens[1], "double BOS");
      // A template that starts with BOS text would be stripped: "<s>" itself tokenizes to BOS with parse_special.
      assertEquals(scorer.bosToken(), scorer.tokenize("<s>", false, true)[0]);
      assertEquals("<s>", LlamaScorer.bosTextIfAdded(model, false));
    }
  }

  @Test
  void failuresCarryTheReasonAndTheChildsStderr(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("missing.gguf");
    assertEquals(Reason.MODEL_NOT_FOUND, assertThrows(LlamaBridgeException.class,
        () -> LlamaGeneration.generate(missing, GenerationRequest.of("x"))).reason());
    Path garbage = dir.resolve("garbage.gguf");
    Files.write(garbage, "GGUF this is not a model".getBytes());
    LlamaBridgeException e = assertThrows(LlamaBridgeException.class,
        () -> LlamaGeneration.generate(garbage, GenerationRequest.of("x").withThreads(1)));
    assertEquals(Reason.MODEL_LOAD_FAILED, e.reason());
    assertTrue(e.getMessage().contains("garbage.gguf"), e.getMessage());
    assertFalse(e.getMessage().isBlank());

    assertEquals(Reason.BAD_ARGUMENT, assertThrows(LlamaBridgeException.class,
        () -> LlamaGeneration.generateAll(garbage, List.of())).reason());
    GenerationRequest a = GenerationRequest.of("a");
    assertEquals(Reason.BAD_ARGUMENT, assertThrows(LlamaBridgeException.class,
        () -> LlamaGeneration.generateAll(garbage, List.of(a, a.withContextSize(512)))).reason());
    assertThrows(LlamaBridgeException.class, () -> a.withMaxTokens(0));
    assertThrows(LlamaBridgeException.class, () -> a.withTemperature(Float.NaN));
    assertThrows(LlamaBridgeException.class, () -> a.withTemperature(-1));
  }

  @Test
  void aChildPastItsTimeoutIsKilled() {
    Path model = TestAssets.stories260K();
    LlamaBridgeException e = assertThrows(LlamaBridgeException.class, () -> LlamaGeneration.generateAll(
        model, List.of(GenerationRequest.of("Once").withThreads(1)), Duration.ofMillis(50)));
    assertEquals(Reason.TIMEOUT, e.reason());
  }
}
