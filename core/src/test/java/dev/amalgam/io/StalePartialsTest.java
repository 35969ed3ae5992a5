package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stale partial outputs: recognised by their owner process, removed per target and per tree. */
class StalePartialsTest {
  /** The owner tag of a process that has exited. */
  private static String deadOwner;

  @BeforeAll
  static void startAndEndAProcess() throws Exception {
    Process p = new ProcessBuilder("sleep", "0.3").start();
    long start = p.info().startInstant().map(Instant::getEpochSecond).orElseThrow();
    String tag = Long.toHexString(p.pid()) + "-" + Long.toHexString(start);
    p.waitFor();
    deadOwner = tag;
  }

  private static Path file(Path path, int bytes) throws IOException {
    Files.write(path, new byte[bytes]);
    return path;
  }

  @Test
  void partialsOfGoneProcessesAndOldUnownedOnesAreStale(@TempDir Path dir) throws IOException {
    Path dead = file(dir.resolve(".out.gguf.amalgam-partial-" + deadOwner + "-0a1b2c3d"), 100);
    Path live = AtomicFiles.hiddenSibling(dir.resolve("out.gguf"), "partial");
    file(live, 10);
    Path oldUnowned = file(dir.resolve(".out.gguf.amalgam-partial-9f8e7d6c"), 50);
    Files.setLastModifiedTime(oldUnowned, FileTime.from(Instant.now().minusSeconds(7200)));
    Path freshUnowned = file(dir.resolve(".out.gguf.amalgam-partial-12345678"), 5);
    Path other = file(dir.resolve(".other.gguf.amalgam-partial-" + deadOwner + "-0a1b2c3d"), 7);
    assertTrue(StalePartials.isStale(dead));
    assertFalse(StalePartials.isStale(live), "this process still writes it");
    assertTrue(StalePartials.isStale(oldUnowned));
    assertFalse(StalePartials.isStale(freshUnowned));

    List<StalePartials.Partial> removed = StalePartials.removeStaleOf(dir.resolve("out.gguf"));
    assertEquals(2, removed.size(), removed.toString());
    assertEquals(150, removed.stream().mapToLong(StalePartials.Partial::bytes).sum());
    assertTrue(Files.notExists(dead) && Files.notExists(oldUnowned));
    assertTrue(Files.exists(live) && Files.exists(freshUnowned));
    assertTrue(Files.exists(other), "another target's partial is not this target's business");
  }

  @Test
  void aPreviousOutputSetAsideByAKilledReplacementIsPutBackOrDropped(@TempDir Path dir)
      throws IOException {
    // killed between "set the old model aside" and "rename the new one in": OUT is missing
    Path out = dir.resolve("out");
    Path setAside = dir.resolve(".out.amalgam-old-" + deadOwner + "-0a1b2c3d");
    Files.createDirectories(setAside);
    file(setAside.resolve("model.safetensors"), 64);
    List<StalePartials.Partial> fixed = StalePartials.removeStaleOf(out);
    assertEquals(1, fixed.size(), fixed.toString());
    assertEquals(out, fixed.get(0).restoredTo().orElseThrow());
    assertEquals(64, Files.size(out.resolve("model.safetensors")), "the previous model is back");
    assertTrue(Files.notExists(setAside));

    // killed after the new model was renamed in: the old one is dropped
    Files.createDirectories(setAside);
    file(setAside.resolve("model.safetensors"), 32);
    fixed = StalePartials.removeStaleOf(out);
    assertEquals(1, fixed.size());
    assertTrue(fixed.get(0).restoredTo().isEmpty());
    assertTrue(Files.notExists(setAside));
    assertEquals(64, Files.size(out.resolve("model.safetensors")), "the newer model stays");

    // a live replacement's set-aside output is left alone
    Path live = AtomicFiles.hiddenSibling(out, "old");
    Files.createDirectories(live);
    assertTrue(StalePartials.removeStaleOf(out).isEmpty());
    assertTrue(Files.exists(live));

    // clean does the same across a tree
    Path nested = Files.createDirectories(dir.resolve("runs"));
    Path nestedAside = nested.resolve(".m.gguf.amalgam-old-" + deadOwner + "-01020304");
    file(nestedAside, 10);
    List<StalePartials.Partial> cleaned = StalePartials.clean(dir, false);
    assertEquals(nested.resolve("m.gguf"), cleaned.get(0).restoredTo().orElseThrow());
    assertEquals(10, Files.size(nested.resolve("m.gguf")));
  }

  @Test
  void cleanFindsStalePartialsAcrossATreeAndDryRunKeepsThem(@TempDir Path dir) throws IOException {
    Path nested = Files.createDirectories(dir.resolve("a/b"));
    Path partialDir =
        Files.createDirectory(nested.resolve(".merged.amalgam-partial-" + deadOwner + "-01234567"));
    file(partialDir.resolve("model-00001-of-00002.safetensors"), 300);
    Files.createDirectories(partialDir.resolve("deeper"));
    file(partialDir.resolve("deeper/x"), 20);
    Path partialFile = file(dir.resolve(".m.gguf.amalgam-partial-" + deadOwner + "-89abcdef"), 80);
    Path live = AtomicFiles.hiddenSibling(nested.resolve("live.gguf"), "partial");
    file(live, 1);
    Path unrelated = file(dir.resolve("notes.txt"), 3);

    List<StalePartials.Partial> preview = StalePartials.clean(dir, true);
    assertEquals(2, preview.size());
    assertEquals(400, preview.stream().mapToLong(StalePartials.Partial::bytes).sum());
    assertTrue(Files.exists(partialDir) && Files.exists(partialFile), "a dry run removes nothing");

    List<StalePartials.Partial> removed = StalePartials.clean(dir, false);
    assertEquals(2, removed.size());
    assertTrue(Files.notExists(partialDir) && Files.notExists(partialFile));
    assertTrue(Files.exists(live) && Files.exists(unrelated));
  }

  @Test
  void aNewWriteToATargetRemovesItsStalePartials(@TempDir Path dir) throws IOException {
    Path target = dir.resolve("out.gguf");
    Path stale = file(dir.resolve(".out.gguf.amalgam-partial-" + deadOwner + "-0a1b2c3d"), 1000);
    try (AtomicFileWriter w =
        AtomicFileWriter.create(target, AtomicFileWriter.Temporary.UNIQUE, false)) {
      assertTrue(Files.notExists(stale), "removed when the write starts");
      w.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
      w.finish(3);
    }
    assertEquals(3, Files.size(target));
    Path modelDir = dir.resolve("merged");
    Path staleDir =
        Files.createDirectory(dir.resolve(".merged.amalgam-partial-" + deadOwner + "-0a1b2c3e"));
    file(staleDir.resolve("f"), 10);
    try (ModelOutput out = ModelOutput.create(modelDir, false)) {
      assertTrue(Files.notExists(staleDir));
      file(out.directory().resolve("config.json"), 2);
      out.commit();
    }
    assertTrue(Files.exists(modelDir.resolve("config.json")));
  }
}
