package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fifty model loads in one JVM, each generating with four sequences: resident memory and the thread
 * count stay flat, because every load frees its model, context and samplers (the binding this
 * replaced leaked a context and a thread per load).
 */
class ModelReloadLeakTest {
  private static long status(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    throw new IllegalStateException("no " + field + " in /proc/self/status");
  }

  @Test
  void fiftyLoadsKeepMemoryAndThreadsFlat() throws IOException {
    Path model = TestAssets.stories260K();
    List<GenerationRequest> requests = BatchedGenerationTest.storyPrompts(4, 8);
    List<GenerationRequest> large =
        requests.stream().map(r -> r.toBuilder().contextSize(512).build()).toList();
    String first = null;
    long rssAfterWarmUp = 0;
    long threadsAfterWarmUp = 0;
    for (int load = 0; load < 50; load++) {
      List<GenerationResult> results =
          LlamaGeneration.generateAll(model, large, 4, LlamaGeneration.DEFAULT_TIMEOUT);
      if (first == null) first = results.get(0).text();
      assertEquals(first, results.get(0).text(), "load " + load);
      if (load == 9) {
        System.gc();
        rssAfterWarmUp = status("VmRSS");
        threadsAfterWarmUp = status("Threads");
      }
    }
    System.gc();
    long rssGrowthKb = status("VmRSS") - rssAfterWarmUp;
    long threads = status("Threads");
    System.out.printf(
        "ModelReloadLeakTest: RSS growth over 40 loads %d kB, threads %d -> %d%n",
        rssGrowthKb, threadsAfterWarmUp, threads);
    assertTrue(rssGrowthKb < 16 * 1024, "resident memory grew by " + rssGrowthKb + " kB");
    assertTrue(
        threads <= threadsAfterWarmUp + 1, threadsAfterWarmUp + " -> " + threads + " threads");
  }
}
