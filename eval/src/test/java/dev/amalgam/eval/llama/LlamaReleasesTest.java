package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The version layer, each case in its own JVM (a process opens one llama.cpp library): libraries
 * that are not a supported llama.cpp are refused with one message naming the supported releases,
 * and llama.cpp 0.5.0, as the npm package {@value #PACKAGE} ships it prebuilt, loads, scores and
 * generates like the bundled b4916. The package is installed once into {@code
 * target/llama-current}; without npm or the registry that case is skipped with the reason.
 */
class LlamaReleasesTest {
  static final String PACKAGE = "@node-llama-cpp/linux-x64@3.22.1";
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Probe(int exit, JsonNode result, String stderr) {}

  private static Probe probe(String library) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("-D" + LlamaLibrary.LIBRARY_PROPERTY + "=" + library);
    command.add(LlamaReleaseProbe.class.getName());
    command.add(TestAssets.stories260K().toString());
    Path err = Files.createTempFile("amalgam-probe-", ".err");
    try {
      Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(180, TimeUnit.SECONDS), "probe finished");
      String stderr = Files.readString(err);
      JsonNode result = null;
      for (String line : out.split("\n")) {
        if (line.startsWith("probe ")) result = JSON.readTree(line.substring(6));
      }
      assertTrue(result != null, "no probe result; exit " + p.exitValue() + ", stderr: " + stderr);
      return new Probe(p.exitValue(), result, stderr);
    } finally {
      Files.deleteIfExists(err);
    }
  }

  private static void assertRefused(Probe probe, String found) {
    assertEquals(3, probe.exit(), "a refusal, not a crash: " + probe);
    assertEquals("LIBRARY_UNAVAILABLE", probe.result().get("reason").asText());
    String message = probe.result().get("error").asText();
    assertTrue(message.contains(found), message);
    assertTrue(message.contains("supported llama.cpp releases: b4916, 0.5.0"), message);
  }

  @Test
  void librariesThatAreNotASupportedLlamaCppAreRefused(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path zlib = Path.of("/lib/x86_64-linux-gnu/libz.so.1");
    if (Files.isRegularFile(zlib)) assertRefused(probe(zlib.toString()), "not a llama.cpp library");
    Path bridge = Path.of("target", "native", "lib", "libamalgam_llama.so").toAbsolutePath();
    assertRefused(probe(bridge.toString()), "not a llama.cpp library");
    Probe missing = probe(dir.resolve("nothing-here").toString());
    assertEquals(3, missing.exit());
    assertTrue(
        missing.result().get("error").asText().contains("does not exist"), missing.toString());
    Path text = Files.writeString(dir.resolve("libllama.so"), "not a library");
    Probe garbage = probe(dir.toString());
    assertEquals(3, garbage.exit());
    assertTrue(garbage.result().get("error").asText().contains("libllama.so"), garbage.toString());
    assertTrue(Files.exists(text));
  }

  /** Installs the npm package once; null (with the reason printed) when it cannot be. */
  static Path currentRelease() throws IOException, InterruptedException {
    Path root = Path.of("target", "llama-current").toAbsolutePath();
    Path libs = root.resolve("package").resolve("bins").resolve("linux-x64");
    if (Files.isRegularFile(libs.resolve("libllama.v0.5.0.so"))) return libs;
    Files.createDirectories(root);
    Path log = root.resolve("npm.log");
    Process npm;
    try {
      npm =
          new ProcessBuilder("npm", "pack", PACKAGE, "--pack-destination", root.toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
    } catch (IOException e) {
      System.out.println("LlamaReleasesTest: skipped, npm is not installed: " + e.getMessage());
      return null;
    }
    if (!npm.waitFor(300, TimeUnit.SECONDS) || npm.exitValue() != 0) {
      npm.destroyForcibly();
      System.out.println(
          "LlamaReleasesTest: skipped, npm pack " + PACKAGE + " failed: " + Files.readString(log));
      return null;
    }
    Path tgz;
    try (var list = Files.list(root)) {
      tgz = list.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElseThrow();
    }
    Process tar = new ProcessBuilder("tar", "-xzf", tgz.toString(), "-C", root.toString()).start();
    assertTrue(tar.waitFor(120, TimeUnit.SECONDS) && tar.exitValue() == 0, "tar -xzf " + tgz);
    Files.delete(tgz);
    return libs;
  }

  @Test
  void llamaCpp050FromTheNpmPackageScoresAndGeneratesLikeB4916() throws Exception {
    Path libs = currentRelease();
    assumeTrue(libs != null, "llama.cpp 0.5.0 could not be installed from npm (see the output)");
    Probe current = probe(libs.toString());
    assertEquals(0, current.exit(), current.toString());
    JsonNode r = current.result();
    assertEquals("0.5.0", r.get("release").asText());
    assertTrue(r.get("description").asText().startsWith("llama.cpp 0.5.0"), r.toString());
    ObjectNode bundled = JSON.createObjectNode();
    LlamaReleaseProbe.fill(bundled, TestAssets.stories260K());
    assertEquals(bundled.get("logProbs").size(), r.get("logProbs").size(), "same tokens");
    double maxDiff = 0;
    for (int i = 0; i < r.get("logProbs").size(); i++) {
      maxDiff =
          Math.max(
              maxDiff,
              Math.abs(
                  r.get("logProbs").get(i).asDouble() - bundled.get("logProbs").get(i).asDouble()));
    }
    System.out.printf(
        "LlamaReleasesTest: %s, max |log-prob difference| to b4916 %.3g%n",
        r.get("description").asText(), maxDiff);
    // Other kernels (ggml 0.25 picks a CPU variant and flash attention by itself) round
    // differently.
    assertTrue(maxDiff < 2e-2, "log-probabilities differ by " + maxDiff);
    assertEquals(bundled.get("greedy1"), r.get("greedy1"), "greedy texts, one sequence");
    assertEquals(bundled.get("greedy3"), r.get("greedy3"), "greedy texts, three sequences");
  }
}
