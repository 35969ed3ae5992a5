package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.harness.EvalSettings;
import dev.amalgam.eval.harness.Evaluator;
import dev.amalgam.eval.harness.Generator;
import dev.amalgam.eval.harness.McMode;
import dev.amalgam.eval.harness.Progress;
import dev.amalgam.eval.harness.PromptTemplate;
import dev.amalgam.eval.harness.Tasks;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming protocol: results arrive one by one; a child that dies mid-run gives a clear error.
 */
class GenerationStreamingTest {
  @Test
  void resultsStreamOneByOneWithTokenCounts() {
    Path model = TestAssets.stories260K();
    GenerationRequest once =
        GenerationRequest.builder().prompt("Once upon a time").maxTokens(8).threads(2).build();
    List<Integer> seen = new ArrayList<>();
    long[] load = {-1};
    List<GenerationResult> results =
        LlamaGeneration.generateStreaming(
            model,
            List.of(
                once,
                once.toBuilder().prompt("Lily").build(),
                once.toBuilder().maxTokens(3).build()),
            Duration.ofMinutes(2),
            new LlamaGeneration.Listener() {
              @Override
              public void loaded(long millis) {
                load[0] = millis;
              }

              @Override
              public void result(int index, GenerationResult r) {
                seen.add(index);
              }
            });
    assertEquals(List.of(0, 1, 2), seen);
    assertTrue(load[0] >= 0, "load event");
    assertEquals(8, results.get(0).generatedTokens());
    assertEquals(3, results.get(2).generatedTokens());
    assertTrue(results.get(0).promptTokens() > 0);
    assertTrue(results.get(2).text().length() < results.get(0).text().length());
    assertTrue(
        results.get(0).text().startsWith(results.get(2).text()),
        "greedy: a prefix of the longer run");
  }

  @Test
  void aFailureMidRunNamesTheModelAfterTheEarlierResultsStreamed(@TempDir Path dir)
      throws IOException {
    Path model = TestAssets.stories260K();
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      requests.add(
          GenerationRequest.builder()
              .prompt("p" + i)
              .maxTokens(4)
              .threads(1)
              .contextSize(256)
              .grammar(i == 2 ? "root ::= answer" : null)
              .build());
    }
    List<Integer> seen = new ArrayList<>();
    LlamaGeneration.Listener listener =
        new LlamaGeneration.Listener() {
          @Override
          public void loaded(long millis) {}

          @Override
          public void result(int index, GenerationResult r) {
            seen.add(index);
          }
        };
    LlamaBridgeException e =
        assertThrows(
            LlamaBridgeException.class,
            () ->
                LlamaGeneration.generateStreaming(
                    model, requests, 1, Duration.ofMinutes(1), listener));
    assertEquals(LlamaBridgeException.Reason.BAD_ARGUMENT, e.reason());
    assertEquals(List.of(0, 1), seen, "the results before the failure were streamed");
    assertTrue(e.getMessage().startsWith(model + ": "), e.getMessage());
    assertTrue(e.getMessage().contains("'answer'"), "llama.cpp's reason: " + e.getMessage());

    // Through the harness, the message names the example index and id of the split.
    Generator dying =
        (m, r, l) -> {
          l.loaded(1);
          l.result(0, new GenerationResult(" text 0", "p", 5, 3, 2));
          l.result(1, new GenerationResult(" text 1", "p", 5, 3, 2));
          throw new LlamaBridgeException(
              LlamaBridgeException.Reason.NATIVE_ERROR, m + ": llama_decode returned -3");
        };
    Path data = dir.resolve("d.jsonl");
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      lines.append("{\"id\":\"ex").append(i).append("\",\"input\":\"a\",\"reference\":\"b\"}\n");
    }
    Files.writeString(data, lines);
    EvalSettings settings =
        new EvalSettings(
            "all",
            null,
            0,
            1234,
            4,
            false,
            McMode.LOGLIK,
            PromptTemplate.parse("{input}", "t"),
            0,
            256,
            1);
    Evaluator.Selection selection =
        Evaluator.select(Tasks.jsonl("input", "reference"), data, settings);
    Evaluator evaluator =
        new Evaluator(
            (p, r) -> {
              throw new AssertionError("not reached");
            },
            null,
            null,
            dying,
            Progress.NONE);
    Path out = dir.resolve("out");
    LlamaBridgeException h =
        assertThrows(
            LlamaBridgeException.class, () -> evaluator.evaluate(model, selection, settings, out));
    assertTrue(
        h.getMessage().startsWith("example 2 (id ex2, split all): " + model), h.getMessage());
    assertTrue(Files.notExists(out), "no output after a failure");
    try (var s = Files.list(dir)) {
      assertTrue(
          s.noneMatch(p -> p.getFileName().toString().contains("amalgam-partial")),
          "no temporary folder");
    }
  }
}
