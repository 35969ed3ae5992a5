package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.assertNoOutput;
import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.safetensors.SafetensorsFile;
import dev.amalgam.tensor.DType;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --on-nonfinite on merge, and check's refusal of a finite parameter that overflows f32. */
class NonFiniteCliTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a;
  static Path b;
  static final String TENSOR = "model.layers.1.self_attn.q_proj.weight";

  @BeforeAll
  static void generate() throws Exception {
    a = model(models.resolve("a"), CliHarness.TINY, DType.BF16, 1, 0, 0);
    b = model(models.resolve("b"), CliHarness.TINY, DType.BF16, 1, 0.3, 2);
    Path file = b.resolve("model.safetensors");
    long offset;
    try (SafetensorsFile st = SafetensorsFile.open(file)) {
      offset = st.dataOffset(TENSOR);
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      for (int i = 0; i < 3; i++) {
        raf.seek(offset + 2L * (11 * i + 1));
        raf.write(i == 0 ? new byte[] {(byte) 0x80, 0x7f} : new byte[] {(byte) 0xc0, 0x7f});
      }
    }
  }

  private Path slerp(String t) throws Exception {
    return config(
        tmp,
        "s.yml",
        "merge_method: slerp\nbase_model: "
            + a
            + "\nmodels:\n  - model: "
            + b
            + "\nparameters:\n  t: "
            + t
            + "\n");
  }

  @Test
  void warnByDefaultListsTheTensorItsInputAndTheCounts() throws Exception {
    CliHarness.Run r =
        run("merge", slerp("0.5").toString(), tmp.resolve("out").toString(), "--no-progress");
    r.assertOk();
    assertTrue(r.err().contains("1 tensor met non-finite values: 3 in the inputs"), r.err());
    assertTrue(
        r.err().contains("tensor '" + TENSOR + "': " + b + " holds 2 NaN and 1 infinite values"),
        r.err());
    assertTrue(r.err().contains("SLERP took the linear path"), r.err());
  }

  @Test
  void errorExitsTwoWithOneLineAndNoOutput() throws Exception {
    Path out = tmp.resolve("out");
    run(
            "merge",
            slerp("0.5").toString(),
            out.toString(),
            "--no-progress",
            "--on-nonfinite",
            "error")
        .assertInvalid(TENSOR, "2 NaN and 1 infinite", "--on-nonfinite error");
    assertNoOutput(out);
  }

  @Test
  void ignoreSaysNothingAndABadPolicyIsAUsageError() throws Exception {
    CliHarness.Run r =
        run(
            "merge",
            slerp("0.5").toString(),
            tmp.resolve("out").toString(),
            "--no-progress",
            "--on-nonfinite",
            "ignore");
    r.assertOk();
    assertTrue(!r.err().contains("non-finite"), r.err());
    run(
            "merge",
            slerp("0.5").toString(),
            tmp.resolve("o2").toString(),
            "--on-nonfinite",
            "sometimes")
        .assertInvalid("--on-nonfinite", "error, warn or ignore");
  }

  @Test
  void checkRefusesAParameterThatWouldOverflowTheKernels() throws Exception {
    run("check", slerp("-1e308").toString()).assertInvalid("parameters.t", "within");
  }
}
