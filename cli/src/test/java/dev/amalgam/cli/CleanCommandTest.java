package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.AtomicFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code amalgam clean DIR}: stale partial outputs go, live ones and everything else stay. */
class CleanCommandTest {
  @Test
  void removesStalePartialsAndReportsTheBytes(@TempDir Path dir) throws Exception {
    Process p = new ProcessBuilder("sleep", "0.2").start();
    long start = p.info().startInstant().map(Instant::getEpochSecond).orElseThrow();
    String dead = Long.toHexString(p.pid()) + "-" + Long.toHexString(start);
    p.waitFor();
    Path staleDir =
        Files.createDirectories(dir.resolve("runs/.merged.amalgam-partial-" + dead + "-0a0b0c0d"));
    Files.write(staleDir.resolve("model.safetensors"), new byte[1500]);
    Path staleFile =
        Files.write(dir.resolve(".m.gguf.amalgam-partial-" + dead + "-01020304"), new byte[500]);
    Path live = AtomicFiles.hiddenSibling(dir.resolve("live.gguf"), "partial");
    Files.write(live, new byte[1]);

    CliHarness.Run preview = run("clean", dir.toString(), "--dry-run");
    preview.assertOk();
    assertTrue(preview.out().contains("found 2 stale partial outputs"), preview.out());
    assertTrue(preview.out().contains("2.0 kB would be freed"), preview.out());
    assertTrue(Files.exists(staleDir) && Files.exists(staleFile));

    CliHarness.Run clean = run("clean", dir.toString());
    clean.assertOk();
    assertTrue(clean.out().contains("removed 2 stale partial outputs"), clean.out());
    assertTrue(clean.out().contains("2.0 kB freed"), clean.out());
    assertTrue(Files.notExists(staleDir) && Files.notExists(staleFile));
    assertTrue(Files.exists(live), "this process still owns it");

    run("clean", dir.resolve("missing").toString()).assertInvalid("not a directory");
  }
}
