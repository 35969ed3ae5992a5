package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernels.jni.CudaLibrary;
import dev.amalgam.kernels.jni.NativeLibrary;
import dev.amalgam.tensor.DType;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The CUDA path on any machine: the library is built and packaged wherever nvcc exists, loads
 * without a driver, and a merge that asks for {@code auto} falls back to the CPU with one line,
 * while {@code cuda} fails with the reason. The GPU's own results are CudaMirrorTest's.
 */
class CudaDeviceTest {
  /** nvcc on the PATH or at the CUDA toolkit's standard place: then the build makes the library. */
  static boolean nvccExists() {
    if (Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"))) return true;
    String path = System.getenv("PATH");
    if (path == null) return false;
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) return true;
    }
    return false;
  }

  private static boolean cudaBuildWanted() {
    return !"OFF".equalsIgnoreCase(System.getProperty("amalgam.cuda", "ON"));
  }

  @Test
  void theCudaLibraryIsBuiltPackagedAndLoadsWithoutADriver() throws Exception {
    Assumptions.assumeTrue(NativeLibrary.isLoaded(), "native kernels not loaded");
    Assumptions.assumeTrue(nvccExists(), "no nvcc here: the build makes no CUDA library");
    Assumptions.assumeTrue(cudaBuildWanted(), "built with -Damalgam.cuda=OFF");
    // packaged beside the CPU library, where CudaLibrary looks for it
    assertTrue(
        dev.amalgam.kernels.jni.AmalgamNative.class.getResource(
                org.bytedeco.javacpp.Loader.getPlatform() + "/" + CudaLibrary.FILE_NAME)
            != null,
        CudaLibrary.FILE_NAME + " is not beside libamalgam.so on the class path");
    assertTrue(CudaLibrary.locate().isPresent());
    // it links the CUDA runtime statically and not the driver, so it loads here whatever the
    // machine
    assertTrue(CudaLibrary.isAttached(), CudaLibrary.status().detail());
    Cuda.Probe probe = Cuda.probe();
    if (probe.devices().isEmpty()) {
      String problem = probe.problem().orElseThrow();
      assertFalse(problem.isBlank());
      assertTrue(problem.contains("cudaError"), problem);
    } else {
      for (CudaDevice d : probe.devices()) {
        assertTrue(d.totalBytes() > 0 && d.computeMajor() >= 7, d.describe());
      }
    }
  }

  @Test
  void autoFallsBackToTheCpuWithOneLine() {
    Assumptions.assumeTrue(
        KernelTestSupport.usableCudaDevices().isEmpty(), "a usable CUDA device is present");
    List<String> lines = new ArrayList<>();
    try (Kernels k = Kernels.forDevice(Device.AUTO, 1, lines::add)) {
      assertEquals(Kernels.best(1).description(), k.description());
    }
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).startsWith("device auto: no usable CUDA device"), lines.get(0));
    assertTrue(lines.get(0).endsWith("running on the CPU (" + Kernels.best(1).description() + ")"));
  }

  @Test
  void anExplicitCudaRequestFailsWithTheReason() {
    Assumptions.assumeTrue(
        KernelTestSupport.usableCudaDevices().isEmpty(), "a usable CUDA device is present");
    List<String> lines = new ArrayList<>();
    DeviceUnavailableException e =
        assertThrows(
            DeviceUnavailableException.class, () -> Kernels.forDevice(Device.CUDA, 1, lines::add));
    assertTrue(e.getMessage().startsWith("no usable CUDA device"), e.getMessage());
    assertEquals(dev.amalgam.diagnostic.FailureReason.ENVIRONMENT, e.failureReason());
    assertThrows(
        DeviceUnavailableException.class, () -> Kernels.forDevice(Device.cuda(7), 1, lines::add));
    assertTrue(lines.isEmpty(), "an explicit request says nothing before failing");
  }

  @Test
  void theCpuIsTheCpu() {
    List<String> lines = new ArrayList<>();
    try (Kernels k = Kernels.forDevice(Device.CPU, 1, lines::add)) {
      assertEquals(Kernels.best(1).description(), k.description());
    }
    assertTrue(lines.isEmpty());
  }

  @Test
  void devicesParseAndPrint() {
    assertEquals(Device.CPU, Device.parse("cpu"));
    assertEquals(Device.AUTO, Device.parse(" Auto "));
    assertEquals(Device.CUDA, Device.parse("CUDA"));
    assertEquals(Device.cuda(2), Device.parse("cuda:2"));
    for (String s : new String[] {"cpu", "auto", "cuda", "cuda:0", "cuda:13"}) {
      assertEquals(s, Device.parse(s).toString());
    }
    for (String bad :
        new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1234", "", "cpu:0"}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
      assertTrue(e.getMessage().contains("expected cpu, cuda, cuda:N"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
    assertThrows(IllegalArgumentException.class, () -> new Device(Device.Kind.CPU, 0));
  }

  @Test
  void deviceKernelsCheckTheirArgumentsBeforeAnyNativeCall() {
    long[] eight = new long[33];
    java.util.Arrays.fill(eight, 4096);
    DType[] types = new DType[33];
    java.util.Arrays.fill(types, DType.BF16);
    assertThrows(
        IllegalArgumentException.class,
        () -> Cuda.weightedSum(0, 0, eight, types, new float[33], 4096, DType.BF16, 10));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Cuda.weightedSum(
                0,
                0,
                new long[] {1, 2},
                new DType[] {DType.BF16},
                new float[2],
                4096,
                DType.BF16,
                10));
    assertThrows(
        IllegalArgumentException.class,
        () -> Cuda.convert(0, 0, 4096, DType.BF16, 8192, DType.F32, -1));
    assertThrows(
        IllegalArgumentException.class,
        () -> Cuda.dot3(0, 0, 4096, DType.BF16, 8192, DType.BF16, -5));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Cuda.convert(
                0, null, new org.bytedeco.javacpp.Pointer(), DType.BF16, null, DType.F32, 1));
  }

  @Test
  void withoutADeviceTheDeviceKernelsFailCleanly() {
    Assumptions.assumeTrue(
        KernelTestSupport.usableCudaDevices().isEmpty(), "a usable CUDA device is present");
    Assumptions.assumeTrue(NativeLibrary.isLoaded(), "native kernels not loaded");
    // valid-looking arguments reach the runtime, which reports the missing driver or device as an
    // exception, never a crash
    RuntimeException e =
        assertThrows(
            RuntimeException.class,
            () -> Cuda.convert(0, 0, 4096, DType.BF16, 8192, DType.F32, 16));
    assertTrue(
        e instanceof DeviceUnavailableException || e instanceof KernelException, e.toString());
  }
}
