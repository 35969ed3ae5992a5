package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The version layer, each case in its own JVM (a process opens one llama.cpp library): libraries
 * that are not a supported llama.cpp are refused with one message naming the supported releases,
 * and llama.cpp 0.5.0, as the npm package {@value #PACKAGE} ships it prebuilt, loads, scores and
 * generates like the bundled b4916. The package is installed once into {@code
 * target/llama-current}; without the registry that case is skipped with the reason.
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

  /** Where the npm registry serves the package's tarball, and the tarball's SHA-256. */
  static final String TARBALL =
      "https://registry.npmjs.org/@node-llama-cpp/linux-x64/-/linux-x64-3.22.1.tgz";

  static final String TARBALL_SHA256 =
      "0d953e1503d5ab4608d8ed5b739132308c81ac05ffeb760d2a7f30e08a9f90e0";

  /**
   * Installs the npm package once (the registry's tarball, checked against its SHA-256, unpacked
   * with tar; npm itself is not needed); null, with the reason printed, when it cannot be.
   */
  static Path currentRelease() throws IOException, InterruptedException {
    Path root = Path.of("target", "llama-current").toAbsolutePath();
    Path libs = root.resolve("package").resolve("bins").resolve("linux-x64");
    if (Files.isRegularFile(libs.resolve("libllama.v0.5.0.so"))) return libs;
    Files.createDirectories(root);
    Path tgz = root.resolve("linux-x64-3.22.1.tgz");
    try {
      URLConnection connection = URI.create(TARBALL).toURL().openConnection();
      connection.setConnectTimeout(20_000);
      connection.setReadTimeout(120_000);
      try (InputStream in = connection.getInputStream()) {
        Files.copy(in, tgz, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      System.out.println("LlamaReleasesTest: skipped, cannot download " + TARBALL + ": " + e);
      return null;
    }
    String sha256 = sha256(tgz);
    if (!sha256.equals(TARBALL_SHA256)) {
      Files.delete(tgz);
      throw new AssertionError(TARBALL + " has SHA-256 " + sha256 + ", expected " + TARBALL_SHA256);
    }
    Process tar = new ProcessBuilder("tar", "-xzf", tgz.toString(), "-C", root.toString()).start();
    assertTrue(tar.waitFor(120, TimeUnit.SECONDS) && tar.exitValue() == 0, "tar -xzf " + tgz);
    Files.delete(tgz);
    return libs;
  }

  private static String sha256(Path file) throws IOException {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      try (InputStream in = Files.newInputStream(file)) {
        byte[] buffer = new byte[1 << 16];
        for (int n = in.read(buffer); n > 0; n = in.read(buffer)) digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void llamaCpp050FromTheNpmPackageScoresAndGeneratesLikeB4916() throws Exception {
    Path libs = currentRelease();
    assumeTrue(
        libs != null,
        "llama.cpp 0.5.0 could not be installed from the npm registry (see the output)");
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
