package dev.amalgam.kernels;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Validates every call, then cuts it into ranges run on a fixed pool (the caller runs the first
 * range). Element-wise kernels are split evenly; reductions always cut at {@link
 * Kernels#DOT_SEGMENT} boundaries and add the segment results in order, so results never depend on
 * the thread count.
 */
final class ParallelKernels implements Kernels {
  /** Below this many elements per thread, splitting costs more than it saves. */
  private static final long MIN_ELEMENTS_PER_TASK = 1L << 18;

  /**
   * Range boundaries fall on multiples of this many elements (one cache line of f32, and two whole
   * blocks of the block formats, so the block kernels split on block boundaries).
   */
  private static final long SPLIT_ALIGNMENT = 64;

  /**
   * Outputs at least this large are written with non-temporal stores. Measured
   * (benchmarks/RESULTS.md): at 64Mi bf16 elements NT stores made lerp 25-30% faster even on a VM
   * with a 480 MiB L3, while the merge's 8 MB staging chunks stay below it and in cache for the
   * write() that follows.
   */
  private static final long STREAM_THRESHOLD_BYTES =
      Long.getLong("amalgam.kernels.streamThresholdBytes", 64L << 20);

  private static final int FLAG_STREAM_STORES = 1;

  private final KernelBackend backend;
  private final int threads;
  private final ExecutorService pool;

  ParallelKernels(KernelBackend backend, int threads) {
    this.backend = backend;
    this.threads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    this.pool =
        this.threads > 1 ? Executors.newFixedThreadPool(this.threads - 1, new Daemon()) : null;
  }

  @Override
  public String description() {
    return backend.name() + ", " + threads + (threads == 1 ? " thread" : " threads");
  }

  @Override
  public boolean isNative() {
    return backend.isNative();
  }

  @Override
  public int threads() {
    return threads;
  }

  @Override
  public void close() {
    if (pool != null) pool.shutdownNow();
  }

  @Override
  public void convert(ByteBuffer src, DType srcType, ByteBuffer dst, DType dstType, long n) {
    checkCount(n);
    checkBuffer("src", src, srcType, n, false);
    checkBuffer("dst", dst, dstType, n, true);
    KernelBackend b = backendFor(src, dst);
    int flags = streamFlags(dstType, n);
    runSplit(
        n,
        (from, count) ->
            b.convert(
                src,
                from * srcType.byteSize(),
                srcType,
                dst,
                from * dstType.byteSize(),
                dstType,
                count,
                flags));
  }

  @Override
  public void weightedSum(
      ByteBuffer[] inputs,
      DType[] inputTypes,
      float[] coefficients,
      ByteBuffer out,
      DType outType,
      long n) {
    checkCount(n);
    Objects.requireNonNull(inputs, "inputs");
    Objects.requireNonNull(inputTypes, "inputTypes");
    Objects.requireNonNull(coefficients, "coefficients");
    int count = inputs.length;
    if (count < 1) throw new IllegalArgumentException("weightedSum needs at least one input");
    if (inputTypes.length != count || coefficients.length != count) {
      throw new IllegalArgumentException(
          "weightedSum: "
              + count
              + " inputs but "
              + inputTypes.length
              + " types and "
              + coefficients.length
              + " coefficients");
    }
    for (int k = 0; k < count; k++)
      checkBuffer("inputs[" + k + "]", inputs[k], inputTypes[k], n, false);
    checkBuffer("out", out, outType, n, true);
    ByteBuffer[] all = new ByteBuffer[count + 1];
    System.arraycopy(inputs, 0, all, 0, count);
    all[count] = out;
    KernelBackend b = backendFor(all);
    ByteBuffer[] ins = inputs.clone();
    DType[] types = inputTypes.clone();
    float[] coeffs = coefficients.clone();
    int flags = streamFlags(outType, n);
    runSplit(
        n,
        (from, len) -> {
          long[] offsets = new long[count];
          for (int k = 0; k < count; k++) offsets[k] = from * types[k].byteSize();
          b.weightedSum(
              ins, offsets, types, coeffs, out, from * outType.byteSize(), outType, len, flags);
        });
  }

  @Override
  public void countNonFinite(ByteBuffer src, DType type, long n, long[] counts) {
    checkCount(n);
    Objects.requireNonNull(counts, "counts");
    if (counts.length < 2) {
      throw new IllegalArgumentException("countNonFinite: counts holds " + counts.length + " < 2");
    }
    checkBuffer("src", src, type, n, false);
    // On the calling thread: one compare per element runs at the cache's bandwidth, so handing half
    // of a chunk
    // to a pool thread (which the merge's writer may be holding a core from) costs more than it
    // saves.
    backendFor(src).countNonFinite(src, 0, type, n, counts);
  }

  @Override
  public void dot3(
      ByteBuffer x, DType xType, ByteBuffer y, DType yType, long n, Dot3.Accumulator sums) {
    checkCount(n);
    Objects.requireNonNull(sums, "sums");
    checkBuffer("x", x, xType, n, false);
    checkBuffer("y", y, yType, n, false);
    KernelBackend b = backendFor(x, y);
    int segments = Math.toIntExact((n + DOT_SEGMENT - 1) / DOT_SEGMENT);
    double[] partial = new double[3 * Math.max(segments, 1)];
    AtomicInteger next = new AtomicInteger();
    Runnable worker =
        () -> {
          double[] r = new double[3];
          for (int s; (s = next.getAndIncrement()) < segments; ) {
            long from = (long) s * DOT_SEGMENT;
            long len = Math.min(DOT_SEGMENT, n - from);
            b.dot3(x, from * xType.byteSize(), xType, y, from * yType.byteSize(), yType, len, r);
            System.arraycopy(r, 0, partial, 3 * s, 3);
          }
        };
    runOnAll(Math.min(threads, segments), worker);
    for (int s = 0; s < segments; s++)
      sums.add(partial[3 * s], partial[3 * s + 1], partial[3 * s + 2]);
  }

  @Override
  public void quantizeQ8_0(ByteBuffer src, DType srcType, ByteBuffer dst, long n) {
    checkCount(n);
    long dstBytes = checkBlocks("quantizeQ8_0", BlockFormat.Q8_0, n);
    checkBuffer("src", src, srcType, n, false);
    checkBytes("dst", dst, dstBytes, n + " elements as " + BlockFormat.Q8_0, true);
    KernelBackend b = backendFor(src, dst);
    int block = BlockFormat.Q8_0.blockBytes();
    runSplit(
        n,
        (from, count) ->
            b.quantizeQ8_0(
                src,
                from * srcType.byteSize(),
                srcType,
                dst,
                from / BlockFormat.BLOCK_ELEMENTS * block,
                count));
  }

  @Override
  public void dequantize(
      ByteBuffer src, BlockFormat format, ByteBuffer dst, DType dstType, long n) {
    checkCount(n);
    Objects.requireNonNull(format, "format");
    long srcBytes = checkBlocks("dequantize", format, n);
    checkBytes("src", src, srcBytes, n + " elements of " + format, false);
    checkBuffer("dst", dst, dstType, n, true);
    KernelBackend b = backendFor(src, dst);
    runSplit(
        n,
        (from, count) ->
            b.dequantize(
                src,
                from / BlockFormat.BLOCK_ELEMENTS * format.blockBytes(),
                format,
                dst,
                from * dstType.byteSize(),
                dstType,
                count));
  }

  // The task-arithmetic kernels run on the calling thread: the merge calls them per work block from
  // its own
  // workers. Every bound is checked here, so native code only ever sees arrays large enough.

  @Override
  public void magnitudeHistogramHigh(float[] values, int n, long[] histogram) {
    checkArrays("magnitudeHistogramHigh", values, n, histogram);
    backend.magnitudeHistogramHigh(values, n, histogram);
  }

  @Override
  public void magnitudeHistogramLow(float[] values, int n, int high, long[] histogram) {
    checkArrays("magnitudeHistogramLow", values, n, histogram);
    if (high < 0 || high >= MAGNITUDE_BUCKETS) {
      throw new IllegalArgumentException(
          "magnitudeHistogramLow: bucket " + high + " outside [0, " + MAGNITUDE_BUCKETS + ")");
    }
    backend.magnitudeHistogramLow(values, n, high, histogram);
  }

  @Override
  public void taskVector(ByteBuffer x, DType xType, DType roundType, float[] b, float[] d, int n) {
    Objects.requireNonNull(b, "b");
    Objects.requireNonNull(d, "d");
    Objects.requireNonNull(roundType, "roundType");
    checkLength("taskVector", "b", b.length, n);
    checkLength("taskVector", "d", d.length, n);
    checkBuffer("x", x, xType, n, false);
    if (!roundType.isMergeable()) {
      throw new IllegalArgumentException(
          "taskVector: " + roundType + " is not a kernel type (F32, F16, BF16)");
    }
    backendFor(x).taskVector(x, 0, xType, roundType, b, d, n);
  }

  @Override
  public void magnitudeMask(
      float[] values,
      int n,
      int keepBits,
      long keepEqual,
      int dropBits,
      long dropEqual,
      long[] seen) {
    Objects.requireNonNull(values, "values");
    Objects.requireNonNull(seen, "seen");
    checkLength("magnitudeMask", "values", values.length, n);
    if (seen.length < 2)
      throw new IllegalArgumentException(
          "magnitudeMask: seen needs 2 counters, has " + seen.length);
    if (keepEqual < 0 || dropEqual < 0) {
      throw new IllegalArgumentException(
          "magnitudeMask: negative equal-kept counts " + keepEqual + ", " + dropEqual);
    }
    backend.magnitudeMask(values, n, keepBits, keepEqual, dropBits, dropEqual, seen);
  }

  @Override
  public void philoxUniforms(long seed, long streamHash, long first, float[] out, int n) {
    checkPhilox("philoxUniforms", first, out, n);
    backend.philoxUniforms(seed, streamHash, first, out, n);
  }

  @Override
  public void bernoulliKeep(
      long seed, long streamHash, long first, double p, float[] values, int n) {
    checkPhilox("bernoulliKeep", first, values, n);
    backend.bernoulliKeep(seed, streamHash, first, p, values, n);
  }

  @Override
  public void disjointMerge(
      float[] w,
      int stride,
      int models,
      float[] weights,
      int n,
      boolean normalize,
      float[] base,
      float lambda,
      float[] out) {
    checkMerge("disjointMerge", w, stride, models, n, base, out);
    Objects.requireNonNull(weights, "weights");
    if (weights.length < models) {
      throw new IllegalArgumentException(
          "disjointMerge: " + weights.length + " weights for " + models + " models");
    }
    backend.disjointMerge(w, stride, models, weights, n, normalize, base, lambda, out);
  }

  @Override
  public void plainMerge(
      float[] w,
      int stride,
      int models,
      int n,
      float divisor,
      float[] base,
      float lambda,
      float[] out) {
    checkMerge("plainMerge", w, stride, models, n, base, out);
    backend.plainMerge(w, stride, models, n, divisor, base, lambda, out);
  }

  @Override
  public void fusionHistogramHigh(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      long[] histogram) {
    checkFusion("fusionHistogramHigh", a, aType, b, bType, n, first, rowLength, kl);
    Objects.requireNonNull(histogram, "histogram");
    if (histogram.length != MAGNITUDE_BUCKETS) {
      throw new IllegalArgumentException(
          "fusionHistogramHigh: histogram has "
              + histogram.length
              + " counters, expected "
              + MAGNITUDE_BUCKETS);
    }
    backendFor(a, b).fusionHistogramHigh(a, aType, b, bType, n, first, rowLength, kl, histogram);
  }

  @Override
  public void fusionHistogramLow(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      int[] buckets,
      long[] histograms) {
    checkFusion("fusionHistogramLow", a, aType, b, bType, n, first, rowLength, kl);
    Objects.requireNonNull(buckets, "buckets");
    Objects.requireNonNull(histograms, "histograms");
    if (buckets.length < 1)
      throw new IllegalArgumentException("fusionHistogramLow: no bucket to count");
    for (int bucket : buckets) {
      if (bucket < 0 || bucket >= MAGNITUDE_BUCKETS) {
        throw new IllegalArgumentException(
            "fusionHistogramLow: bucket " + bucket + " outside [0, " + MAGNITUDE_BUCKETS + ")");
      }
    }
    if (histograms.length != (long) buckets.length * MAGNITUDE_BUCKETS) {
      throw new IllegalArgumentException(
          "fusionHistogramLow: histograms has "
              + histograms.length
              + " counters, expected "
              + MAGNITUDE_BUCKETS
              + " per bucket for "
              + buckets.length
              + " buckets");
    }
    backendFor(a, b)
        .fusionHistogramLow(
            a, aType, b, bType, n, first, rowLength, kl, buckets.clone(), histograms);
  }

  @Override
  public void fusionSelect(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      float threshold,
      ByteBuffer out,
      DType outType) {
    checkFusion("fusionSelect", a, aType, b, bType, n, first, rowLength, kl);
    checkBuffer("out", out, outType, n, true);
    backendFor(a, b, out)
        .fusionSelect(a, aType, b, bType, n, first, rowLength, kl, threshold, out, outType);
  }

  @Override
  public void nearSwap(
      ByteBuffer base,
      DType baseType,
      ByteBuffer other,
      DType otherType,
      float t,
      ByteBuffer out,
      DType outType,
      long n) {
    checkCount(n);
    checkBuffer("base", base, baseType, n, false);
    checkBuffer("other", other, otherType, n, false);
    checkBuffer("out", out, outType, n, true);
    KernelBackend k = backendFor(base, other, out);
    int flags = streamFlags(outType, n);
    runSplit(
        n,
        (from, count) ->
            k.nearSwap(
                base,
                from * baseType.byteSize(),
                baseType,
                other,
                from * otherType.byteSize(),
                otherType,
                t,
                out,
                from * outType.byteSize(),
                outType,
                count,
                flags));
  }

  /**
   * The checks every fusion kernel shares: both inputs hold {@code n} elements and {@code kl} a
   * value for every row of tensor elements {@code [first, first + n)}.
   */
  private static void checkFusion(
      String operation,
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl) {
    if (n < 0) throw new IllegalArgumentException(operation + ": negative element count " + n);
    checkBuffer("a", a, aType, n, false);
    checkBuffer("b", b, bType, n, false);
    Objects.requireNonNull(kl, "kl");
    if (first < 0)
      throw new IllegalArgumentException(operation + ": negative first element " + first);
    if (rowLength < 1)
      throw new IllegalArgumentException(operation + ": row length " + rowLength + " < 1");
    if (first > Long.MAX_VALUE - n) {
      throw new IllegalArgumentException(
          operation + ": elements " + first + " + " + n + " overflow a long");
    }
    if (n > 0 && (first + n - 1) / rowLength >= kl.length) {
      throw new IllegalArgumentException(
          operation
              + ": elements up to "
              + (first + n)
              + " in rows of "
              + rowLength
              + " need more than the "
              + kl.length
              + " KL values given");
    }
  }

  @Override
  public void sceVarianceKeys(float[] x, int stride, int models, float[] base, int n, int[] keys) {
    checkSceRows("sceVarianceKeys", x, stride, models, base, n);
    Objects.requireNonNull(keys, "keys");
    checkLength("sceVarianceKeys", "keys", keys.length, n);
    backend.sceVarianceKeys(x, stride, models, base, n, keys);
  }

  @Override
  public void sceHistogramHigh(
      float[] x,
      int stride,
      int models,
      float[] base,
      int n,
      long[] histogram,
      long[] nonzero,
      int[] keys) {
    checkSceRows("sceHistogramHigh", x, stride, models, base, n);
    checkKeys("sceHistogramHigh", keys, n);
    checkHistogram("sceHistogramHigh", histogram);
    Objects.requireNonNull(nonzero, "nonzero");
    if (nonzero.length < 1)
      throw new IllegalArgumentException("sceHistogramHigh: nonzero needs 1 counter, has 0");
    backend.sceHistogramHigh(x, stride, models, base, n, histogram, nonzero, keys);
  }

  @Override
  public void sceHistogramLow(
      float[] x, int stride, int models, float[] base, int n, int high, long[] histogram) {
    checkSceRows("sceHistogramLow", x, stride, models, base, n);
    checkHistogram("sceHistogramLow", histogram);
    if (high < 0 || high >= MAGNITUDE_BUCKETS) {
      throw new IllegalArgumentException(
          "sceHistogramLow: bucket " + high + " outside [0, " + MAGNITUDE_BUCKETS + ")");
    }
    backend.sceHistogramLow(x, stride, models, base, n, high, histogram);
  }

  @Override
  public void sceSquareSums(
      float[] x,
      int stride,
      int models,
      float[] base,
      int[] keys,
      int n,
      int threshold,
      long equalKept,
      long[] seen,
      double[] sums) {
    checkSceRows("sceSquareSums", x, stride, models, base, n);
    checkKeys("sceSquareSums", keys, n);
    checkSceSelection("sceSquareSums", equalKept, seen);
    checkPerModel("sceSquareSums", "sums", sums, models);
    backend.sceSquareSums(x, stride, models, base, keys, n, threshold, equalKept, seen, sums);
  }

  @Override
  public void sceMerge(
      float[] x,
      int stride,
      int models,
      float[] base,
      int[] keys,
      int n,
      int threshold,
      long equalKept,
      long[] seen,
      double[] weights,
      float[] out) {
    checkSceRows("sceMerge", x, stride, models, base, n);
    checkKeys("sceMerge", keys, n);
    checkSceSelection("sceMerge", equalKept, seen);
    checkPerModel("sceMerge", "weights", weights, models);
    Objects.requireNonNull(out, "out");
    checkLength("sceMerge", "out", out.length, n);
    if (out == x)
      throw new IllegalArgumentException("sceMerge: out must not be the task-vector array");
    backend.sceMerge(x, stride, models, base, keys, n, threshold, equalKept, seen, weights, out);
  }

  /** The rows every SCE kernel reads: {@code models} of {@code stride >= n} floats, and a base. */
  private static void checkSceRows(
      String operation, float[] x, int stride, int models, float[] base, int n) {
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(base, "base");
    if (models < 1)
      throw new IllegalArgumentException(
          operation + ": " + models + " models, expected at least 1");
    checkLength(operation, "base", base.length, n);
    if (stride < n) {
      throw new IllegalArgumentException(
          operation + ": stride " + stride + " is shorter than " + n + " elements");
    }
    long needed = (long) (models - 1) * stride + n; // at most 2^31 * 2^31: fits a long
    if (x.length < needed) {
      throw new IllegalArgumentException(
          operation
              + ": "
              + models
              + " models of stride "
              + stride
              + " need "
              + needed
              + " values but x has "
              + x.length);
    }
  }

  /** Keys are optional: null, or at least one per element. */
  private static void checkKeys(String operation, int[] keys, int n) {
    if (keys != null) checkLength(operation, "keys", keys.length, n);
  }

  private static void checkSceSelection(String operation, long equalKept, long[] seen) {
    Objects.requireNonNull(seen, "seen");
    if (seen.length < 1)
      throw new IllegalArgumentException(operation + ": seen needs 1 counter, has 0");
    if (equalKept < 0)
      throw new IllegalArgumentException(operation + ": negative equal-kept count " + equalKept);
  }

  private static void checkPerModel(String operation, String name, double[] values, int models) {
    Objects.requireNonNull(values, name);
    if (values.length < models) {
      throw new IllegalArgumentException(
          operation + ": " + name + " has " + values.length + " values for " + models + " models");
    }
  }

  private static void checkHistogram(String operation, long[] histogram) {
    Objects.requireNonNull(histogram, "histogram");
    if (histogram.length != MAGNITUDE_BUCKETS) {
      throw new IllegalArgumentException(
          operation
              + ": histogram has "
              + histogram.length
              + " counters, expected "
              + MAGNITUDE_BUCKETS);
    }
  }

  @Override
  public void forEachTask(int tasks, TaskBody body) {
    Objects.requireNonNull(body, "body");
    if (tasks < 0) throw new IllegalArgumentException("forEachTask: negative task count " + tasks);
    int workers = Math.min(threads, tasks);
    if (workers <= 1) {
      for (int t = 0; t < tasks; t++) body.run(0, t);
      return;
    }
    AtomicInteger next = new AtomicInteger();
    List<Runnable> loops = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      int worker = w;
      loops.add(
          () -> {
            for (int t; (t = next.getAndIncrement()) < tasks; ) body.run(worker, t);
          });
    }
    runAll(loops);
  }

  private static void checkArrays(String operation, float[] values, int n, long[] histogram) {
    Objects.requireNonNull(values, "values");
    Objects.requireNonNull(histogram, "histogram");
    checkLength(operation, "values", values.length, n);
    if (histogram.length != MAGNITUDE_BUCKETS) {
      throw new IllegalArgumentException(
          operation
              + ": histogram has "
              + histogram.length
              + " counters, expected "
              + MAGNITUDE_BUCKETS);
    }
  }

  @Override
  public void gram(
      ByteBuffer[] inputs, DType[] types, ByteBuffer base, DType baseType, long n, double[] acc) {
    checkCount(n);
    Objects.requireNonNull(inputs, "inputs");
    Objects.requireNonNull(types, "types");
    Objects.requireNonNull(acc, "acc");
    int count = inputs.length;
    if (count < 1 || count > GRAM_MAX_INPUTS) {
      throw new IllegalArgumentException(
          "gram takes 1 to " + GRAM_MAX_INPUTS + " inputs, got " + count);
    }
    if (types.length != count) {
      throw new IllegalArgumentException(
          "gram: " + count + " inputs but " + types.length + " types");
    }
    int sums = count * (count + 1) / 2;
    if (acc.length < sums) {
      throw new IllegalArgumentException(
          "gram: acc holds " + acc.length + " sums, " + sums + " needed");
    }
    ByteBuffer[] all = new ByteBuffer[base == null ? count : count + 1];
    for (int k = 0; k < count; k++) {
      checkBuffer("inputs[" + k + "]", inputs[k], types[k], n, false);
      all[k] = inputs[k];
    }
    if (base != null) {
      checkBuffer("base", base, baseType, n, false);
      all[count] = base;
    }
    // on the calling thread: every sum is one chain of additions in element order
    backendFor(all).gram(inputs.clone(), types.clone(), base, baseType, n, acc);
  }

  @Override
  public void dellaMask(
      long seed,
      long streamHash,
      long first,
      double density,
      double epsilon,
      float[] values,
      int n,
      int rowLength,
      long[] keys,
      float[] uniforms) {
    checkPhilox("dellaMask", first, values, n);
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(uniforms, "uniforms");
    if (rowLength < 1 || n % rowLength != 0) {
      throw new IllegalArgumentException(
          "dellaMask: " + n + " elements are not whole rows of " + rowLength);
    }
    if (keys.length < 3L * rowLength) {
      throw new IllegalArgumentException(
          "dellaMask: keys has " + keys.length + " elements, " + 3L * rowLength + " needed");
    }
    checkLength("dellaMask", "uniforms", uniforms.length, rowLength);
    backend.dellaMask(
        seed, streamHash, first, density, epsilon, values, n, rowLength, keys, uniforms);
  }

  private static void checkPhilox(String operation, long first, float[] values, int n) {
    Objects.requireNonNull(values, "values");
    checkLength(operation, "values", values.length, n);
    if (first < 0)
      throw new IllegalArgumentException(operation + ": negative first element " + first);
    if (first > Long.MAX_VALUE - n) {
      throw new IllegalArgumentException(
          operation + ": elements " + first + " + " + n + " overflow a long");
    }
  }

  private static void checkMerge(
      String operation, float[] w, int stride, int models, int n, float[] base, float[] out) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(out, "out");
    if (models < 1)
      throw new IllegalArgumentException(
          operation + ": " + models + " models, expected at least 1");
    checkLength(operation, "base", base.length, n);
    checkLength(operation, "out", out.length, n);
    if (stride < n) {
      throw new IllegalArgumentException(
          operation + ": stride " + stride + " is shorter than " + n + " elements");
    }
    long needed = (long) (models - 1) * stride + n; // at most 2^31 * 2^31: fits a long
    if (w.length < needed) {
      throw new IllegalArgumentException(
          operation
              + ": "
              + models
              + " models of stride "
              + stride
              + " need "
              + needed
              + " values but w has "
              + w.length);
    }
    if (out == w)
      throw new IllegalArgumentException(operation + ": out must not be the task-vector array");
  }

  private static void checkLength(String operation, String name, int length, int n) {
    if (n < 0) throw new IllegalArgumentException(operation + ": negative element count " + n);
    if (length < n) {
      throw new IllegalArgumentException(
          operation + ": " + name + " has " + length + " elements, " + n + " needed");
    }
  }

  /**
   * Bytes of {@code n} elements of a block format; n must be whole blocks (ranges split on whole
   * blocks too).
   */
  private static long checkBlocks(String operation, BlockFormat format, long n) {
    if (n % BlockFormat.BLOCK_ELEMENTS != 0) {
      throw new IllegalArgumentException(
          operation
              + ": "
              + n
              + " elements are not a whole number of "
              + format
              + " blocks of "
              + BlockFormat.BLOCK_ELEMENTS);
    }
    try {
      return format.byteCount(n);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          operation + ": " + n + " elements of " + format + " overflow a byte count", e);
    }
  }

  private static void checkBytes(
      String name, ByteBuffer buffer, long needed, String what, boolean output) {
    Objects.requireNonNull(buffer, name);
    if (buffer.remaining() < needed) {
      throw new IllegalArgumentException(
          name
              + ": "
              + what
              + " need "
              + needed
              + " bytes but the buffer has "
              + buffer.remaining()
              + " remaining");
    }
    if (output && buffer.isReadOnly()) {
      throw new IllegalArgumentException(name + ": output buffer is read-only");
    }
  }

  private int streamFlags(DType outType, long n) {
    return outType.byteCount(n) >= STREAM_THRESHOLD_BYTES ? FLAG_STREAM_STORES : 0;
  }

  private KernelBackend backendFor(ByteBuffer... buffers) {
    for (ByteBuffer buffer : buffers) {
      if (!backend.accepts(buffer))
        return JavaKernels.INSTANCE; // heap memory: same bits, no native pointer
    }
    return backend;
  }

  private static void checkCount(long n) {
    if (n < 0) throw new IllegalArgumentException("negative element count " + n);
  }

  private static void checkBuffer(
      String name, ByteBuffer buffer, DType type, long n, boolean output) {
    Objects.requireNonNull(buffer, name);
    Objects.requireNonNull(type, name + " type");
    if (!type.isMergeable()) {
      throw new IllegalArgumentException(
          name + ": " + type + " is not a kernel type (F32, F16, BF16)");
    }
    long needed;
    try {
      needed = type.byteCount(n);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          name + ": " + n + " elements of " + type + " overflow a byte count", e);
    }
    if (buffer.remaining() < needed) {
      throw new IllegalArgumentException(
          name
              + ": "
              + n
              + " elements of "
              + type
              + " need "
              + needed
              + " bytes but the buffer has "
              + buffer.remaining()
              + " remaining");
    }
    if (output && buffer.isReadOnly()) {
      throw new IllegalArgumentException(name + ": output buffer is read-only");
    }
  }

  private interface RangeTask {
    void run(long from, long count);
  }

  private void runSplit(long n, RangeTask task) {
    long parts = Math.min(threads, Math.max(1, n / MIN_ELEMENTS_PER_TASK));
    if (parts <= 1) {
      if (n > 0) task.run(0, n);
      return;
    }
    long per = (n + parts - 1) / parts;
    long step = (per + SPLIT_ALIGNMENT - 1) / SPLIT_ALIGNMENT * SPLIT_ALIGNMENT;
    List<Runnable> ranges = new ArrayList<>();
    for (long from = 0; from < n; from += step) {
      long f = from;
      long len = Math.min(step, n - from);
      ranges.add(() -> task.run(f, len));
    }
    runAll(ranges);
  }

  private void runOnAll(int workers, Runnable worker) {
    List<Runnable> tasks = new ArrayList<>();
    for (int i = 0; i < Math.max(workers, 1); i++) tasks.add(worker);
    runAll(tasks);
  }

  private void runAll(List<Runnable> tasks) {
    if (tasks.size() == 1 || pool == null) {
      for (Runnable t : tasks) t.run();
      return;
    }
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 1; i < tasks.size(); i++) futures.add(pool.submit(tasks.get(i)));
    RuntimeException failure = null;
    try {
      tasks.get(0).run();
    } catch (RuntimeException e) {
      failure = e;
    }
    boolean interrupted = false;
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (failure == null) {
          failure =
              cause instanceof RuntimeException
                  ? (RuntimeException) cause
                  : new IllegalStateException(cause);
        }
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    if (failure != null) throw failure;
  }

  private static final class Daemon implements ThreadFactory {
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "amalgam-kernel-" + COUNTER.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  }
}
