package dev.amalgam.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.harness.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Content keys: what changes a merge or an evaluation changes its key, and what does not (where the
 * files lie) leaves it alone; the hash memo; the clean-up of what killed runs left behind; and the
 * squeue task counts of the Slurm executor.
 */
class ContentKeyTest {
  @TempDir Path dir;

  private SweepSpec spec(Path folder, String t, String limit) throws IOException {
    Files.createDirectories(folder);
    Files.writeString(folder.resolve("a.gguf"), "model a");
    Files.writeString(folder.resolve("b.gguf"), "model b");
    Files.writeString(folder.resolve("notes.jsonl"), "{\"input\": \"x\", \"reference\": \"y\"}\n");
    Path file = folder.resolve("sweep.yml");
    Files.writeString(
        file,
        String.join(
            "\n",
            "models: [{name: a, path: a.gguf}, {name: b, path: b.gguf}]",
            "grid: {methods: [slerp], t: [" + t + "]}",
            "evaluation:",
            "  tasks: [{task: jsonl, data: notes.jsonl, limit: " + limit + "}]",
            ""));
    return SweepReader.read(file, new ArrayList<>());
  }

  private static String mergeKey(SweepSpec spec, SweepCache cache) {
    return MergeStep.key(spec, Grid.expand(spec).get(2), cache);
  }

  private static String evalKey(SweepSpec spec, SweepCache cache, String modelKey) {
    try (EvaluationStep step =
        new EvaluationStep(spec.evaluation(), Generator.IN_PROCESS, w -> {})) {
      return step.key(spec.evaluation().tasks().get(0), modelKey, cache);
    }
  }

  @Test
  void keysFollowTheContentNotThePaths() throws IOException {
    SweepCache cache = new SweepCache(dir.resolve("cache"));
    SweepSpec here = spec(dir.resolve("here"), "0.5", "3");
    SweepSpec there = spec(dir.resolve("there"), "0.5", "3");
    assertEquals(mergeKey(here, cache), mergeKey(there, cache));
    assertEquals(evalKey(here, cache, "m"), evalKey(there, cache, "m"));
    assertEquals(64, mergeKey(here, cache).length());

    assertNotEquals(mergeKey(here, cache), mergeKey(spec(dir.resolve("t"), "0.6", "3"), cache));
    assertNotEquals(evalKey(here, cache, "m"), evalKey(here, cache, "other model"));
    assertNotEquals(
        evalKey(here, cache, "m"), evalKey(spec(dir.resolve("l"), "0.5", "4"), cache, "m"));
    Files.writeString(dir.resolve("there").resolve("b.gguf"), "model b, retrained");
    assertNotEquals(mergeKey(here, cache), mergeKey(there, cache));
  }

  @Test
  void theHashMemoNoticesAChangedFile() throws IOException {
    SweepCache cache = new SweepCache(dir.resolve("cache"));
    Path f = Files.writeString(dir.resolve("model.gguf"), "one");
    String first = cache.hash(f);
    assertEquals(first, cache.hash(f));
    try (var memo = Files.list(dir.resolve("cache").resolve("hashes"))) {
      assertEquals(1, memo.count());
    }
    Files.writeString(f, "two!");
    assertNotEquals(first, cache.hash(f));
  }

  @Test
  void abandonedTemporaryFilesGoAndFreshOnesStay() throws IOException {
    SweepCache cache = new SweepCache(dir.resolve("cache"));
    Path merges = Files.createDirectories(dir.resolve("cache").resolve("merges"));
    Path old =
        Files.writeString(merges.resolve(".k1.gguf.amalgam-partial-1234abcd"), "x".repeat(100));
    Files.setLastModifiedTime(old, FileTime.fromMillis(System.currentTimeMillis() - 7_200_000L));
    Path fresh = Files.writeString(merges.resolve(".k2.gguf.amalgam-partial-5678abcd"), "y");
    Path done = Files.writeString(merges.resolve("k3.gguf"), "z");
    Files.setLastModifiedTime(done, FileTime.fromMillis(0));
    assertEquals(100, cache.removeAbandoned(Sweep.ABANDONED_AFTER_MILLIS));
    assertFalse(Files.exists(old));
    assertTrue(Files.exists(fresh) && Files.exists(done));
  }

  @Test
  void squeueTaskListsAreCounted() {
    assertEquals(1, SlurmExecutor.count("4"));
    assertEquals(4, SlurmExecutor.count("[5-7,9%2]"));
    assertEquals(2, SlurmExecutor.count("[0,3]"));
  }
}
