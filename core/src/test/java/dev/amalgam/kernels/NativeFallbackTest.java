package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.kernels.jni.NativeLibrary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading is once per JVM, so each case runs {@link FallbackProbe} in a child JVM. */
class NativeFallbackTest {
  @TempDir Path tmp;

  private record Child(int exitCode, String out, String err) {}

  private Child probe(String... properties) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Dorg.bytedeco.javacpp.cachedir=" + tmp.resolve("cache"));
    cmd.addAll(List.of(properties));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(FallbackProbe.class.getName());
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(tmp.resolve("out.txt").toFile())
            .redirectError(tmp.resolve("err.txt").toFile())
            .start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM timed out");
    return new Child(
        p.exitValue(),
        Files.readString(tmp.resolve("out.txt"), StandardCharsets.UTF_8),
        Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8));
  }

  @Test
  void withoutTheNativeLibraryTheJavaKernelsServeAndTheFallbackIsLoggedOnce() throws Exception {
    Child c = probe("-Damalgam.native.path=" + tmp.resolve("no-such-dir"));
    assertEquals(0, c.exitCode(), c.err());
    assertTrue(c.out().contains("loaded=false"), c.out());
    assertTrue(c.out().contains("kernels=java, 1 thread"), c.out());
    assertTrue(c.out().contains("result=2.0"), c.out());
    long warnings = c.err().lines().filter(l -> l.contains("native kernels unavailable")).count();
    assertEquals(1, warnings, "logged exactly once:\n" + c.err());
    assertTrue(c.err().contains("amalgam.native.path"), c.err());
  }

  @Test
  void disablingTheNativeLibraryWorksToo() throws Exception {
    Child c = probe("-Damalgam.native.disable=true");
    assertEquals(0, c.exitCode(), c.err());
    assertTrue(c.out().contains("kernels=java"), c.out());
  }

  @Test
  void thePathPropertyLoadsTheLibraryFromAnotherDirectory() throws Exception {
    assumeTrue(
        NativeLibrary.isLoaded(), "native library not built here: " + NativeLibrary.detail());
    Path dir =
        Path.of(Kernels.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .resolve("dev/amalgam/kernels/jni/linux-x86_64");
    assumeTrue(
        Files.isDirectory(dir), "libraries are not in a directory (running from a jar?): " + dir);
    Path copy = Files.createDirectories(tmp.resolve("libs"));
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) Files.copy(f, copy.resolve(f.getFileName()));
    }
    Child c = probe("-Damalgam.native.path=" + copy);
    assertEquals(0, c.exitCode(), c.err());
    assertTrue(c.out().contains("loaded=true"), c.out() + c.err());
    assertTrue(c.out().contains("kernels=native"), c.out());
    assertTrue(c.out().contains("result=2.0"), c.out());
  }

  @Test
  void forcingNativeWithoutTheLibraryFailsClearly() throws Exception {
    Child c = probe("-Damalgam.native.disable=true", "-Damalgam.kernels=native");
    assertTrue(c.exitCode() != 0);
    assertTrue(c.err().contains("native kernels unavailable"), c.err());
  }
}
