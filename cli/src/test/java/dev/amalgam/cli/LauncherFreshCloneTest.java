package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first step as a new user takes it: a fresh clone, with no jar and nothing beside it
 * (no external data), where {@code ./amalgam} must build the jar itself and run. The clone carries
 * this working tree's files, committed or not (ignored files excepted), so the test checks what is
 * about to be committed. It runs a whole Maven build, about two minutes.
 */
class LauncherFreshCloneTest {
  private static final long BUILD_MINUTES = 15;

  @TempDir Path tmp;

  @Test
  void launcherBuildsTheJarAndRunsOnAFreshClone() throws Exception {
    assumeFalse(
        Boolean.getBoolean("amalgam.native.skip"),
        "this build skips the native library (-Damalgam.native.skip), which the launcher's build needs");
    Path repo = TestAssets.repository();
    assumeTrue(
        Files.exists(repo.resolve(".git")), repo + " is not a git work tree; nothing to clone");
    assumeTrue(run(tmp, "git", "--version").exitCode == 0, "git is not installed");

    Path clone = tmp.resolve("amalgam");
    Result cloned = run(tmp, "git", "clone", "--quiet", repo.toString(), clone.toString());
    assertEquals(0, cloned.exitCode, cloned.output);
    overlayWorkingTree(repo, clone);
    assertFalse(Files.exists(clone.resolve("cli/target")), "a fresh clone has no build output");
    assertFalse(Files.exists(tmp.resolve("shared")), "nothing beside the clone");

    Result version = run(clone, "./amalgam", "--version");
    assertEquals(0, version.exitCode, version.output);
    assertTrue(version.output.contains("building the jar, first run only"), version.output);
    assertTrue(
        version.output.strip().lines().reduce((a, b) -> b).orElse("").startsWith("amalgam "),
        version.output);
    try (var jars = Files.list(clone.resolve("cli/target"))) {
      assertTrue(
          jars.anyMatch(p -> p.getFileName().toString().endsWith("-cli.jar")),
          "the launcher built the jar");
    }

    Result again = run(clone, "./amalgam", "--version");
    assertEquals(0, again.exitCode, again.output);
    assertFalse(again.output.contains("building"), "the second run uses the jar: " + again.output);
  }

  /**
   * Makes the clone hold the working tree: uncommitted and untracked files copied over, deleted
   * files removed.
   */
  private static void overlayWorkingTree(Path repo, Path clone)
      throws IOException, InterruptedException {
    for (String file : gitFiles(repo, "--cached", "--others", "--exclude-standard")) {
      Path source = repo.resolve(file);
      if (!Files.isRegularFile(source)) continue;
      Path target = clone.resolve(file);
      Files.createDirectories(target.getParent());
      Files.copy(
          source, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
    }
    for (String file : gitFiles(repo, "--deleted")) Files.deleteIfExists(clone.resolve(file));
  }

  private static List<String> gitFiles(Path repo, String... options)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("git", "-C", repo.toString(), "ls-files", "-z"));
    command.addAll(List.of(options));
    Result r = run(repo, command.toArray(String[]::new));
    assertEquals(0, r.exitCode, r.output);
    List<String> files = new ArrayList<>();
    for (String f : r.output.split("\0")) if (!f.isEmpty()) files.add(f);
    return files;
  }

  private record Result(int exitCode, String output) {}

  /**
   * Runs a command with stdout and stderr together in a file (nothing can block on a full pipe).
   */
  private static Result run(Path dir, String... command) throws IOException, InterruptedException {
    Path log = Files.createTempFile("amalgam-launcher", ".log");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      // The new user's environment: none of the launcher's switches, none of this Maven run's
      // variables.
      pb.environment()
          .keySet()
          .removeIf(
              k -> k.startsWith("AMALGAM_") || (k.startsWith("MAVEN_") && !k.equals("MAVEN_OPTS")));
      Process p = pb.start();
      if (!p.waitFor(BUILD_MINUTES, TimeUnit.MINUTES)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        return new Result(
            -1, "timed out after " + BUILD_MINUTES + " minutes:\n" + Files.readString(log));
      }
      return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
