package dev.amalgam.bench;

import dev.amalgam.kernels.Cuda;
import dev.amalgam.kernels.CudaDevice;
import dev.amalgam.kernels.Dot3;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CUDA path on the first usable device (amalgam.h point 10), beside a device-to-device copy of
 * the same run.
 *
 * <p>On device memory ({@link Cuda}'s device-pointer kernels, each call waited for): {@code
 * deviceCopy} copies one bf16 array (4 bytes per element moved), {@code deviceLerp} is the weighted
 * sum of two bf16 arrays into bf16 (6), {@code deviceSlerp} is dot3, the coefficients on the host
 * and the weighted sum (10), {@code deviceDot3} reads two arrays (4). Targets: lerp and SLERP at >=
 * 0.8 of the copy's GB/s.
 *
 * <p>From host memory through the staging pipeline ({@code Kernels.cuda}, as a merge calls it):
 * {@code hostLerp} with {@code pipeline} true (pieces overlap) and false (each piece finishes
 * first), beside {@code hostCopy}, the CPU kernels' copy of the same bytes. Run {@code
 * benchmarks/cuda.sh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:MaxDirectMemorySize=8g"})
public class CudaBench {
  /** Elements per bf16 array: 64Mi (128 MiB) and 512Mi (1 GiB, an 8B-70B embedding). */
  @Param({"67108864", "536870912"})
  public long n;

  /** Whether the staged host calls overlap their pieces. */
  @Param({"true", "false"})
  public boolean pipeline;

  private int device;
  private Cuda.DeviceBuffer a;
  private Cuda.DeviceBuffer b;
  private Cuda.DeviceBuffer out;
  private ByteBuffer hostA;
  private ByteBuffer hostB;
  private ByteBuffer hostOut;
  private Kernels cuda;
  private Kernels cpu;

  private static final DType[] BF16_PAIR = {DType.BF16, DType.BF16};

  @Setup(Level.Trial)
  public void setUp() {
    CudaDevice d =
        Cuda.probe().devices().stream()
            .filter(x -> x.freeBytes() >= 6 * 2 * n)
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "no CUDA device with room for the benchmark: "
                            + Cuda.probe().problem().orElse(Cuda.probe().devices().toString())));
    device = d.index();
    System.out.println("# device: " + d.describe());
    AmalgamNative.amalgam_cuda_set_pipelining(pipeline ? 1 : 0);
    long bytes = 2 * n;
    hostA = random(n, 1);
    hostB = random(n, 2);
    hostOut = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    a = Cuda.allocate(device, bytes);
    b = Cuda.allocate(device, bytes);
    out = Cuda.allocate(device, bytes);
    a.upload(hostA);
    b.upload(hostB);
    cuda = Kernels.forDevice(dev.amalgam.kernels.Device.cuda(device), 4, line -> {});
    cpu = Kernels.best(4);
  }

  private static ByteBuffer random(long n, long seed) {
    ByteBuffer buf =
        ByteBuffer.allocateDirect(Math.toIntExact(2 * n)).order(ByteOrder.LITTLE_ENDIAN);
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    for (long i = 0; i < n; i++) buf.putShort((short) (0x3c00 + r.nextInt(0x0800) - 0x0400));
    buf.clear();
    return buf;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    AmalgamNative.amalgam_cuda_set_pipelining(1);
    a.close();
    b.close();
    out.close();
    cuda.close();
    cpu.close();
  }

  @Benchmark
  public void deviceCopy() {
    Cuda.copy(device, 0, out.address(), a.address(), 2 * n);
    Cuda.synchronize(device, 0);
  }

  @Benchmark
  public void deviceLerp() {
    Cuda.weightedSum(
        device,
        0,
        new long[] {a.address(), b.address()},
        BF16_PAIR,
        new float[] {0.6f, 0.4f},
        out.address(),
        DType.BF16,
        n);
    Cuda.synchronize(device, 0);
  }

  @Benchmark
  public Dot3 deviceDot3() {
    return Cuda.dot3(device, 0, a.address(), DType.BF16, b.address(), DType.BF16, n);
  }

  @Benchmark
  public void deviceSlerp() {
    Dot3 d = Cuda.dot3(device, 0, a.address(), DType.BF16, b.address(), DType.BF16, n);
    dev.amalgam.kernels.Slerp.Coefficients c = dev.amalgam.kernels.Slerp.coefficients(d, 0.4);
    Cuda.weightedSum(
        device,
        0,
        new long[] {a.address(), b.address()},
        BF16_PAIR,
        new float[] {c.s0(), c.s1()},
        out.address(),
        DType.BF16,
        n);
    Cuda.synchronize(device, 0);
  }

  @Benchmark
  public void hostLerp() {
    cuda.weightedSum(
        new ByteBuffer[] {hostA, hostB},
        BF16_PAIR,
        new float[] {0.6f, 0.4f},
        hostOut,
        DType.BF16,
        n);
  }

  @Benchmark
  public void hostCopy() {
    cpu.convert(hostA, DType.BF16, hostOut, DType.BF16, n);
  }
}
