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

/** In-process generation against stories260K. */
class LlamaGenerationTest {
  @Test
  void greedyGenerationIsDeterministicAndSeveralPromptsShareOneLoad() {
    Path model = TestAssets.stories260K();
    GenerationRequest once =
        GenerationRequest.builder().prompt("Once upon a time").maxTokens(12).threads(2).build();
    GenerationRequest lily =
        once.toBuilder().prompt("Lily and Tom went to the").gpuLayers(0).build();
    List<GenerationResult> results = LlamaGeneration.generateAll(model, List.of(once, lily, once));
    assertEquals(3, results.size());
    assertTrue(
        results.get(0).text().startsWith(", there was a little girl"), results.get(0).text());
    assertEquals(results.get(0).text(), results.get(2).text(), "greedy: same prompt, same text");
    assertNotEquals(results.get(0).text(), results.get(1).text());
    assertEquals("Once upon a time", results.get(0).prompt());
    // A fresh model load gives the same text.
    assertEquals(results.get(0).text(), LlamaGeneration.generate(model, once).text());
  }

  @Test
  void chatModeHasNoDoubleBosAndAcceptsGpuLayers() {
    Path model = TestAssets.stories260K();
    GenerationRequest chat =
        GenerationRequest.builder()
            .prompt("Tell me a story.")
            .chat(true)
            .maxTokens(4)
            .threads(2)
            .gpuLayers(99)
            .contextSize(256)
            .build();
    GenerationResult r = LlamaGeneration.generate(model, chat);
    // stories260K has no chat template: java-llama.cpp falls back to chatml.
    assertTrue(r.prompt().contains("<|im_start|>user\nTell me a story.<|im_end|>"), r.prompt());
    assertTrue(r.prompt().contains("<|im_start|>assistant"), r.prompt());
    try (LlamaScorer scorer = LlamaScorer.open(model, ScorerOptions.builder().threads(1).build())) {
      int[] tokens = scorer.tokenize(r.prompt(), true, true);
      assertEquals(scorer.bosToken(), tokens[0]);
      assertNotEquals(scorer.bosToken(), tokens[1], "double BOS");
      // A template that starts with BOS text would be stripped: "<s>" itself tokenizes to BOS with
      // parse_special.
      assertEquals(scorer.bosToken(), scorer.tokenize("<s>", false, true)[0]);
      try (NativeModel loaded = NativeModel.load(model, 0, false)) {
        assertEquals("<s>", loaded.bosTextIfAdded());
      }
    }
  }

  @Test
  void failuresCarryTheReason(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("missing.gguf");
    assertEquals(
        Reason.MODEL_NOT_FOUND,
        assertThrows(
                LlamaBridgeException.class,
                () -> LlamaGeneration.generate(missing, GenerationRequest.of("x")))
            .reason());
    Path garbage = dir.resolve("garbage.gguf");
    Files.write(garbage, "GGUF this is not a model".getBytes());
    LlamaBridgeException e =
        assertThrows(
            LlamaBridgeException.class,
            () ->
                LlamaGeneration.generate(
                    garbage, GenerationRequest.builder().prompt("x").threads(1).build()));
    assertEquals(Reason.MODEL_LOAD_FAILED, e.reason());
    assertTrue(e.getMessage().contains("garbage.gguf"), e.getMessage());
    assertFalse(e.getMessage().isBlank());

    assertEquals(
        Reason.BAD_ARGUMENT,
        assertThrows(
                LlamaBridgeException.class, () -> LlamaGeneration.generateAll(garbage, List.of()))
            .reason());
    GenerationRequest a = GenerationRequest.of("a");
    assertEquals(
        Reason.BAD_ARGUMENT,
        assertThrows(
                LlamaBridgeException.class,
                () ->
                    LlamaGeneration.generateAll(
                        garbage, List.of(a, a.toBuilder().contextSize(512).build())))
            .reason());
    assertThrows(LlamaBridgeException.class, () -> a.toBuilder().maxTokens(0).build());
    assertThrows(LlamaBridgeException.class, () -> a.toBuilder().temperature(Float.NaN).build());
    assertThrows(LlamaBridgeException.class, () -> a.toBuilder().temperature(-1).build());
  }

  @Test
  void aRunPastItsTimeoutFails() {
    Path model = TestAssets.stories260K();
    LlamaBridgeException e =
        assertThrows(
            LlamaBridgeException.class,
            () ->
                LlamaGeneration.generateAll(
                    model,
                    List.of(GenerationRequest.builder().prompt("Once").threads(1).build()),
                    Duration.ofMillis(1)));
    assertEquals(Reason.TIMEOUT, e.reason());
  }
}
