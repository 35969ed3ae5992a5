package dev.amalgam.bench;

import dev.amalgam.kernels.Dot3;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.kernels.Slerp;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongBinaryOperator;
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
 * The merge kernels over bf16 tensors against memory-bandwidth references measured in the same run.
 *
 * <p>Kernels: {@code lerp} (one weighted sum of two bf16 inputs into bf16; 6 bytes per element) and
 * {@code slerp} (dot3, {@link Slerp#coefficients}, then the weighted sum; 10 bytes per element);
 * {@code quantizeQ8_0} (bf16 to ggml Q8_0 blocks, 2 + 34/32 bytes per element). References over the
 * same bytes and thread count: {@code copyNative} and {@code copyBuffer} copy one bf16 array (2 x
 * its bytes moved): the first through the native kernels as an f32 -> f32 conversion, which writes
 * with the same non-temporal stores as the merge kernels; the second with {@link
 * ByteBuffer#put(ByteBuffer)}. {@code readDot3} reads one array through {@code dot3(a, a)} and
 * {@code readLongSum} sums it as longs in Java (1 x its bytes). Run {@code benchmarks/kernels.sh}
 * to get GB/s and the kernel/reference ratios ({@link BandwidthTable}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:MaxDirectMemorySize=4g"})
public class KernelBench {
  /**
   * Elements per bf16 array: 64Mi (128 MiB) and 512Mi (1 GiB, the largest tensors of 8B-70B
   * models).
   */
  @Param({"67108864", "536870912"})
  public long n;

  /** Threads per call, including the caller's. */
  @Param({"1", "2"})
  public int threads;

  private ByteBuffer a;
  private ByteBuffer b;
  private ByteBuffer out;
  private Kernels kernels;
  private ExecutorService pool;

  private static final DType[] BF16_PAIR = {DType.BF16, DType.BF16};

  @Setup(Level.Trial)
  public void setUp() {
    kernels = Kernels.best(threads);
    if (!kernels.isNative())
      throw new IllegalStateException("native kernels did not load: " + kernels.description());
    pool = threads > 1 ? Executors.newFixedThreadPool(threads - 1) : null;
    long bytes = 2 * n;
    // allocateDirect zeroes the memory, so every page is touched (and resident) before the first
    // measurement.
    a = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    b = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    out = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    fillWeights(a, 1);
    fillWeights(b, 2);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kernels.close();
    if (pool != null) pool.shutdownNow();
  }

  /**
   * bf16 values of weight-like magnitude (2^-9 .. 2^-3, random sign and mantissa), four per long.
   */
  private static void fillWeights(ByteBuffer buffer, long seed) {
    LongBuffer longs = buffer.asLongBuffer();
    long state = seed * 0x9E3779B97F4A7C15L;
    for (int i = 0; i < longs.capacity(); i++) {
      long word = 0;
      for (int k = 0; k < 4; k++) {
        state ^= state << 13;
        state ^= state >>> 7;
        state ^= state << 17;
        long sign = (state >>> 63) << 15;
        long exponent = 118 + Math.floorMod(state >>> 8, 7);
        long bf16 = sign | exponent << 7 | (state & 0x7f);
        word |= bf16 << (16 * k);
      }
      longs.put(i, word);
    }
  }

  @Benchmark
  public void lerp() {
    kernels.weightedSum(
        new ByteBuffer[] {a, b}, BF16_PAIR, new float[] {0.6f, 0.4f}, out, DType.BF16, n);
  }

  @Benchmark
  public Slerp.Coefficients slerp() {
    Dot3 d = kernels.dot3(a, DType.BF16, b, DType.BF16, n);
    Slerp.Coefficients c = Slerp.coefficients(d, 0.4);
    kernels.weightedSum(
        new ByteBuffer[] {a, b}, BF16_PAIR, new float[] {c.s0(), c.s1()}, out, DType.BF16, n);
    return c;
  }

  @Benchmark
  public void copyNative() {
    kernels.convert(a, DType.F32, out, DType.F32, n / 2); // f32 -> f32 copies bits exactly
  }

  @Benchmark
  public void copyBuffer() {
    split(
        (from, to) -> {
          ByteBuffer src = a.duplicate().limit(Math.toIntExact(to)).position(Math.toIntExact(from));
          out.duplicate().position(Math.toIntExact(from)).put(src);
          return 0;
        });
  }

  /**
   * bf16 -> Q8_0 (ggml's reference quantizer): reads 2 bytes and writes 34/32 bytes per element
   * into {@code out}.
   */
  @Benchmark
  public void quantizeQ8_0() {
    kernels.quantizeQ8_0(a, DType.BF16, out, n);
  }

  @Benchmark
  public Dot3 readDot3() {
    return kernels.dot3(a, DType.BF16, a, DType.BF16, n);
  }

  @Benchmark
  public long readLongSum() {
    return split(
        (from, to) -> {
          LongBuffer longs = a.asLongBuffer();
          long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (int i = Math.toIntExact(from / 8), end = Math.toIntExact(to / 8); i < end; i += 4) {
            s0 += longs.get(i);
            s1 += longs.get(i + 1);
            s2 += longs.get(i + 2);
            s3 += longs.get(i + 3);
          }
          return s0 + s1 + s2 + s3;
        });
  }

  /**
   * Runs {@code range} over [0, 2n) bytes cut into {@code threads} parts of whole 64-byte lines,
   * the caller taking the first; returns the sum of the results.
   */
  private long split(LongBinaryOperator range) {
    long bytes = 2 * n;
    long part = (bytes / threads + 63) / 64 * 64;
    List<Future<Long>> futures = new ArrayList<>();
    for (int t = 1; t < threads; t++) {
      long from = t * part, to = Math.min(bytes, from + part);
      futures.add(pool.submit(() -> range.applyAsLong(from, to)));
    }
    long total = range.applyAsLong(0, Math.min(bytes, part));
    try {
      for (Future<Long> f : futures) total += f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
    return total;
  }
}
