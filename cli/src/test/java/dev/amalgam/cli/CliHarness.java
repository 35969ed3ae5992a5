package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.kernels.JavaKernels;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Runs the CLI in-process on models generated in a temporary directory. */
final class CliHarness {
  /** Result of one CLI run. */
  record Run(int exitCode, String out, String err) {
    void assertOk() {
      assertEquals(0, exitCode, () -> "exit code; stderr:\n" + err + "\nstdout:\n" + out);
    }

    void assertInvalid(String... fragments) {
      assertEquals(Main.EXIT_INVALID, exitCode, () -> "exit code; stderr:\n" + err);
      assertTrue(err.startsWith("amalgam: error: "), err);
      assertEquals(1, err.strip().lines().count(), () -> "one line, no stack trace:\n" + err);
      for (String f : fragments)
        assertTrue(err.contains(f), () -> "stderr should contain '" + f + "':\n" + err);
    }
  }

  static final SyntheticLlama.Shape TINY = new SyntheticLlama.Shape(4, 64, 96, 128, 4, 2, false);

  private CliHarness() {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  static Path model(
      Path dir, SyntheticLlama.Shape shape, DType dtype, long seed, double noise, long variantSeed)
      throws IOException {
    SyntheticLlama.write(dir, shape, dtype, seed, noise, variantSeed, 5_000_000_000L);
    return dir;
  }

  static Path config(Path dir, String name, String yaml) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, yaml, StandardCharsets.UTF_8);
    return p;
  }

  /** Every element of a tensor widened to float. */
  static float[] floats(Path model, String tensor) throws IOException {
    try (SafetensorsModel m = SafetensorsModel.open(model)) {
      TensorInfo info = m.tensor(tensor).orElseThrow();
      ByteBuffer b = m.data(tensor).slice(0, info.elementCount());
      float[] f = new float[Math.toIntExact(info.elementCount())];
      for (int i = 0; i < f.length; i++) f[i] = JavaKernels.load(b, info.dtype(), i);
      return f;
    }
  }

  /** The raw bytes of a tensor. */
  static byte[] bytes(Path model, String tensor) throws IOException {
    try (SafetensorsModel m = SafetensorsModel.open(model)) {
      TensorInfo info = m.tensor(tensor).orElseThrow();
      ByteBuffer b = m.data(tensor).slice(0, info.elementCount());
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    }
  }

  /** Asserts that a failed run left neither the output nor a temporary directory beside it. */
  static void assertNoOutput(Path out) throws IOException {
    assertFalse(Files.exists(out), out + " must not exist after a failure");
    try (Stream<Path> s = Files.list(out.toAbsolutePath().getParent())) {
      assertTrue(
          s.noneMatch(p -> p.getFileName().toString().contains(".amalgam-partial-")),
          "no temporary directory may remain");
    }
  }
}
