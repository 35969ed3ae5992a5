package dev.amalgam.kernels;

import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.kernels.jni.NativeLibrary;
import dev.amalgam.tensor.DType;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * The native kernels of one ISA path, or of one CUDA device (amalgam.h point 10: the same functions
 * with another isa value), over direct buffers. Arguments arrive validated by ParallelKernels.
 */
final class NativeKernels implements KernelBackend {
  /** amalgam.h's AMALGAM_ISA_CUDA_FIRST: isa values from here on name CUDA devices. */
  static final int CUDA_FIRST = 64;

  /** amalgam.h's AMALGAM_ERR_CUDA. */
  static final int ERR_CUDA = -10;

  private final Isa isa;
  private final int code;
  private final String name;

  NativeKernels(Isa isa) {
    if (!NativeLibrary.isLoaded()) {
      throw new IllegalStateException("native kernels unavailable: " + NativeLibrary.detail());
    }
    Isa best = bestIsa();
    if (isa.compareTo(best) > 0) {
      throw new IllegalArgumentException(
          "ISA " + isa.label() + " is not supported here; best is " + best.label());
    }
    this.isa = isa;
    this.code = isa.code();
    this.name = "native " + isa.label();
  }

  /** The kernels of CUDA device {@code device}; the caller checked that it is usable. */
  NativeKernels(CudaDevice device) {
    this.isa = null;
    this.code = CUDA_FIRST + device.index();
    this.name = "cuda:" + device.index() + " (" + device.name() + ")";
  }

  /** Best ISA of this CPU and build; requires the library to be loaded. */
  static Isa bestIsa() {
    return Isa.fromCode(AmalgamNative.amalgam_isa_best());
  }

  /** The CPU path, or null for a CUDA device. */
  Isa isa() {
    return isa;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean isNative() {
    return true;
  }

  @Override
  public boolean accepts(ByteBuffer buffer) {
    return buffer.isDirect();
  }

  private static long address(ByteBuffer buffer, long offset) {
    return AmalgamNative.amalgam_address_of(buffer) + offset;
  }

  /**
   * Turns a native status into a KernelException (a CUDA error with its name); shared with Cuda.
   */
  static void check(String operation, int status) {
    if (status == ERR_CUDA) {
      throw new KernelException(
          operation, status, Cuda.explain(AmalgamNative.amalgam_cuda_last_error()));
    }
    if (status != 0) {
      throw new KernelException(operation, status, AmalgamNative.amalgam_status_message(status));
    }
  }

  @Override
  public void convert(
      ByteBuffer src,
      long srcOffset,
      DType srcType,
      ByteBuffer dst,
      long dstOffset,
      DType dstType,
      long n,
      int flags) {
    try {
      check(
          "convert",
          AmalgamNative.amalgam_convert(
              code,
              address(src, srcOffset),
              srcType.kernelCode(),
              address(dst, dstOffset),
              dstType.kernelCode(),
              n,
              flags));
    } finally {
      Reference.reachabilityFence(src);
      Reference.reachabilityFence(dst);
    }
  }

  @Override
  public void weightedSum(
      ByteBuffer[] inputs,
      long[] inputOffsets,
      DType[] inputTypes,
      float[] coefficients,
      ByteBuffer out,
      long outOffset,
      DType outType,
      long n,
      int flags) {
    int count = inputs.length;
    long[] addresses = new long[count];
    int[] codes = new int[count];
    for (int k = 0; k < count; k++) {
      addresses[k] = address(inputs[k], inputOffsets[k]);
      codes[k] = inputTypes[k].kernelCode();
    }
    try {
      check(
          "weighted_sum",
          AmalgamNative.amalgam_weighted_sum(
              code,
              count,
              addresses,
              codes,
              coefficients,
              address(out, outOffset),
              outType.kernelCode(),
              n,
              flags));
    } finally {
      Reference.reachabilityFence(inputs);
      Reference.reachabilityFence(out);
    }
  }

  @Override
  public void countNonFinite(ByteBuffer src, long srcOffset, DType type, long n, long[] counts) {
    try {
      check(
          "count_nonfinite",
          AmalgamNative.amalgam_count_nonfinite(
              code, address(src, srcOffset), type.kernelCode(), n, counts));
    } finally {
      Reference.reachabilityFence(src);
    }
  }

  @Override
  public void quantizeQ8_0(
      ByteBuffer src, long srcOffset, DType srcType, ByteBuffer dst, long dstOffset, long n) {
    try {
      check(
          "quantize_q8_0",
          AmalgamNative.amalgam_quantize_q8_0(
              code, address(src, srcOffset), srcType.kernelCode(), address(dst, dstOffset), n));
    } finally {
      Reference.reachabilityFence(src);
      Reference.reachabilityFence(dst);
    }
  }

  @Override
  public void dequantize(
      ByteBuffer src,
      long srcOffset,
      BlockFormat format,
      ByteBuffer dst,
      long dstOffset,
      DType dstType,
      long n) {
    try {
      check(
          "dequantize",
          AmalgamNative.amalgam_dequantize(
              code,
              address(src, srcOffset),
              format.ggmlId(),
              address(dst, dstOffset),
              dstType.kernelCode(),
              n));
    } finally {
      Reference.reachabilityFence(src);
      Reference.reachabilityFence(dst);
    }
  }

  @Override
  public void dot3(
      ByteBuffer x,
      long xOffset,
      DType xType,
      ByteBuffer y,
      long yOffset,
      DType yType,
      long n,
      double[] result) {
    try {
      check(
          "dot3",
          AmalgamNative.amalgam_dot3(
              code,
              address(x, xOffset),
              xType.kernelCode(),
              address(y, yOffset),
              yType.kernelCode(),
              n,
              result));
    } finally {
      Reference.reachabilityFence(x);
      Reference.reachabilityFence(y);
    }
  }

  @Override
  public void magnitudeHistogramHigh(float[] values, int n, long[] histogram) {
    check(
        "magnitude_histogram_high",
        AmalgamNative.amalgam_magnitude_histogram_high(code, values, n, histogram));
  }

  @Override
  public void magnitudeHistogramLow(float[] values, int n, int high, long[] histogram) {
    check(
        "magnitude_histogram_low",
        AmalgamNative.amalgam_magnitude_histogram_low(code, values, n, high, histogram));
  }

  @Override
  public void philoxUniforms(long seed, long streamHash, long first, float[] out, int n) {
    check(
        "philox_uniforms",
        AmalgamNative.amalgam_philox_uniforms(code, seed, streamHash, first, n, out));
  }

  @Override
  public void bernoulliKeep(
      long seed, long streamHash, long first, double p, float[] values, int n) {
    check(
        "philox_keep",
        AmalgamNative.amalgam_philox_keep(code, seed, streamHash, first, n, p, values));
  }

  @Override
  public void gram(
      ByteBuffer[] inputs, DType[] types, ByteBuffer base, DType baseType, long n, double[] acc) {
    int count = inputs.length;
    long[] addresses = new long[count];
    int[] codes = new int[count];
    for (int k = 0; k < count; k++) {
      addresses[k] = address(inputs[k], 0);
      codes[k] = types[k].kernelCode();
    }
    try {
      check(
          "gram",
          AmalgamNative.amalgam_gram(
              code,
              count,
              addresses,
              codes,
              base == null ? 0 : address(base, 0),
              base == null ? 0 : baseType.kernelCode(),
              n,
              acc));
    } finally {
      Reference.reachabilityFence(inputs);
      Reference.reachabilityFence(base);
    }
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
    check(
        "della_mask",
        AmalgamNative.amalgam_della_mask(
            code, seed, streamHash, first, n, rowLength, density, epsilon, values, keys, uniforms));
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
    check(
        "disjoint_merge",
        AmalgamNative.amalgam_disjoint_merge(
            code, models, w, stride, weights, n, normalize ? 1 : 0, base, lambda, out));
  }

  @Override
  public void taskVector(
      ByteBuffer x, long xOffset, DType xType, DType roundType, float[] b, float[] d, int n) {
    try {
      check(
          "task_vector",
          AmalgamNative.amalgam_task_vector(
              code, address(x, xOffset), xType.kernelCode(), roundType.kernelCode(), b, n, d));
    } finally {
      Reference.reachabilityFence(x);
    }
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
    check(
        "magnitude_mask",
        AmalgamNative.amalgam_magnitude_mask(
            code, values, n, keepBits, keepEqual, dropBits, dropEqual, seen));
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
    check(
        "plain_merge",
        AmalgamNative.amalgam_plain_merge(code, models, w, stride, n, divisor, base, lambda, out));
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
    try {
      check(
          "fusion_histogram_high",
          AmalgamNative.amalgam_fusion_histogram_high(
              code,
              address(a, 0),
              aType.kernelCode(),
              address(b, 0),
              bType.kernelCode(),
              n,
              first,
              rowLength,
              kl,
              kl.length,
              histogram));
    } finally {
      Reference.reachabilityFence(a);
      Reference.reachabilityFence(b);
    }
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
    try {
      check(
          "fusion_histogram_low",
          AmalgamNative.amalgam_fusion_histogram_low(
              code,
              address(a, 0),
              aType.kernelCode(),
              address(b, 0),
              bType.kernelCode(),
              n,
              first,
              rowLength,
              kl,
              kl.length,
              buckets.length,
              buckets,
              histograms));
    } finally {
      Reference.reachabilityFence(a);
      Reference.reachabilityFence(b);
    }
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
    try {
      check(
          "fusion_select",
          AmalgamNative.amalgam_fusion_select(
              code,
              address(a, 0),
              aType.kernelCode(),
              address(b, 0),
              bType.kernelCode(),
              n,
              first,
              rowLength,
              kl,
              kl.length,
              threshold,
              address(out, 0),
              outType.kernelCode()));
    } finally {
      Reference.reachabilityFence(a);
      Reference.reachabilityFence(b);
      Reference.reachabilityFence(out);
    }
  }

  @Override
  public void nearSwap(
      ByteBuffer base,
      long baseOffset,
      DType baseType,
      ByteBuffer other,
      long otherOffset,
      DType otherType,
      float t,
      ByteBuffer out,
      long outOffset,
      DType outType,
      long n,
      int flags) {
    try {
      check(
          "nearswap",
          AmalgamNative.amalgam_nearswap(
              code,
              address(base, baseOffset),
              baseType.kernelCode(),
              address(other, otherOffset),
              otherType.kernelCode(),
              t,
              address(out, outOffset),
              outType.kernelCode(),
              n,
              flags));
    } finally {
      Reference.reachabilityFence(base);
      Reference.reachabilityFence(other);
      Reference.reachabilityFence(out);
    }
  }

  @Override
  public void sceVarianceKeys(float[] x, int stride, int models, float[] base, int n, int[] keys) {
    check(
        "sce_variance_keys",
        AmalgamNative.amalgam_sce_variance_keys(code, models, x, stride, base, n, keys));
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
    check(
        "sce_histogram_high",
        AmalgamNative.amalgam_sce_histogram_high(
            code, models, x, stride, base, n, histogram, nonzero, keys));
  }

  @Override
  public void sceHistogramLow(
      float[] x, int stride, int models, float[] base, int n, int high, long[] histogram) {
    check(
        "sce_histogram_low",
        AmalgamNative.amalgam_sce_histogram_low(code, models, x, stride, base, n, high, histogram));
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
    check(
        "sce_square_sums",
        AmalgamNative.amalgam_sce_square_sums(
            code, models, x, stride, base, keys, n, threshold, equalKept, seen, sums));
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
    check(
        "sce_merge",
        AmalgamNative.amalgam_sce_merge(
            code, models, x, stride, base, keys, n, threshold, equalKept, seen, weights, out));
  }
}
