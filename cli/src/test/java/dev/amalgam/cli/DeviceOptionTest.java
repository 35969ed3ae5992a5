package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernels.Cuda;
import dev.amalgam.kernels.CudaDevice;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * merge --device: auto falls back to the CPU with one line and the CPU's bytes; cuda fails with the
 * reason and leaves nothing behind; a bad value is a usage error. On a machine with a usable GPU,
 * --device cuda writes the CPU's bytes.
 */
class DeviceOptionTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a;
  static Path b;

  @BeforeAll
  static void generate() throws Exception {
    a = model(models.resolve("a"), CliHarness.TINY, DType.BF16, 1, 0, 0);
    b = model(models.resolve("b"), CliHarness.TINY, DType.BF16, 1, 0.4, 2);
  }

  private Path slerp() throws Exception {
    return config(
        tmp,
        "m.yml",
        "merge_method: slerp\nbase_model: "
            + a
            + "\nmodels:\n  - model: "
            + a
            + "\n  - model: "
            + b
            + "\nparameters:\n  t: 0.3\ndtype: bfloat16\n");
  }

  private static boolean gpu() {
    return Cuda.probe().devices().stream().anyMatch(CudaDevice::isUsable);
  }

  @Test
  void autoWithoutAGpuFallsBackWithOneLineAndTheCpuBytes() throws Exception {
    Assumptions.assumeFalse(gpu(), "a usable GPU is present");
    Path cpu = tmp.resolve("cpu");
    Path auto = tmp.resolve("auto");
    run("merge", slerp().toString(), cpu.toString(), "--no-progress").assertOk();
    CliHarness.Run r =
        run("merge", slerp().toString(), auto.toString(), "--no-progress", "--device", "auto");
    r.assertOk();
    long lines = r.err().lines().filter(l -> l.startsWith("amalgam: device auto:")).count();
    assertEquals(1, lines, r.err());
    assertTrue(r.err().contains("running on the CPU"), r.err());
    assertArrayEquals(
        Files.readAllBytes(cpu.resolve("model.safetensors")),
        Files.readAllBytes(auto.resolve("model.safetensors")));
  }

  @Test
  void anExplicitCudaWithoutAGpuFailsWithTheReasonAndWritesNothing() throws Exception {
    Assumptions.assumeFalse(gpu(), "a usable GPU is present");
    for (String device : new String[] {"cuda", "cuda:3"}) {
      Path out = tmp.resolve("out-" + device.replace(':', '-'));
      CliHarness.Run r =
          run("merge", slerp().toString(), out.toString(), "--no-progress", "--device", device);
      assertEquals(Main.EXIT_FAILURE, r.exitCode(), r.err());
      assertTrue(r.err().startsWith("amalgam: error: no usable CUDA device"), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertFalse(Files.exists(out), "nothing written for " + device);
    }
  }

  @Test
  void aBadDeviceIsAUsageError() throws Exception {
    run("merge", slerp().toString(), tmp.resolve("x").toString(), "--device", "gpu")
        .assertInvalid("--device", "expected cpu, cuda, cuda:N");
    run("sweep", "nonexistent.yml", "--device", "tpu").assertInvalid("--device", "'tpu'");
  }

  @Test
  void onAGpuTheMergeHasTheCpuBytes() throws Exception {
    Assumptions.assumeTrue(gpu(), "no usable CUDA device: " + Cuda.probe().problem().orElse(""));
    Path cpu = tmp.resolve("cpu");
    Path gpu = tmp.resolve("gpu");
    run("merge", slerp().toString(), cpu.toString(), "--no-progress").assertOk();
    run("merge", slerp().toString(), gpu.toString(), "--no-progress", "--device", "cuda")
        .assertOk();
    assertArrayEquals(
        Files.readAllBytes(cpu.resolve("model.safetensors")),
        Files.readAllBytes(gpu.resolve("model.safetensors")));
  }
}
