package dev.amalgam.kernels;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;

/**
 * One single-threaded implementation of the kernels over validated arguments. Offsets are in bytes
 * from each buffer's position; {@link ParallelKernels} splits calls into ranges and checks every
 * bound first.
 */
interface KernelBackend {
  String name();

  boolean isNative();

  /** Whether this backend can work on the given buffer (the native one needs direct memory). */
  boolean accepts(ByteBuffer buffer);

  void convert(
      ByteBuffer src,
      long srcOffset,
      DType srcType,
      ByteBuffer dst,
      long dstOffset,
      DType dstType,
      long n,
      int flags);

  void weightedSum(
      ByteBuffer[] inputs,
      long[] inputOffsets,
      DType[] inputTypes,
      float[] coefficients,
      ByteBuffer out,
      long outOffset,
      DType outType,
      long n,
      int flags);

  /** n is a whole number of blocks; dstOffset is in bytes (34 per block). */
  void quantizeQ8_0(
      ByteBuffer src, long srcOffset, DType srcType, ByteBuffer dst, long dstOffset, long n);

  /** n is a whole number of blocks; srcOffset is in bytes (whole blocks). */
  void dequantize(
      ByteBuffer src,
      long srcOffset,
      BlockFormat format,
      ByteBuffer dst,
      long dstOffset,
      DType dstType,
      long n);

  /** Adds nothing: writes x.y, x.x, y.y of the range into result[0..2]. */
  void dot3(
      ByteBuffer x,
      long xOffset,
      DType xType,
      ByteBuffer y,
      long yOffset,
      DType yType,
      long n,
      double[] result);

  /** Adds the high 16 bits of each |values[i]|, i < n, to the 65536 counters. */
  void magnitudeHistogramHigh(float[] values, int n, long[] histogram);

  /** Adds the low 16 bits of each |values[i]| whose high 16 bits equal {@code high}. */
  void magnitudeHistogramLow(float[] values, int n, int high, long[] histogram);

  /** {@code out[i]} = the Philox uniform of element {@code first + i}. */
  void philoxUniforms(long seed, long streamHash, long first, float[] out, int n);

  /**
   * Zeroes {@code values[i]} unless the Bernoulli(p) draw of element {@code first + i} keeps it.
   */
  void bernoulliKeep(long seed, long streamHash, long first, double p, float[] values, int n);

  /** The Gram sums of the spherical methods (amalgam.h contract point 9); base may be null. */
  void gram(
      ByteBuffer[] inputs, DType[] types, ByteBuffer base, DType baseType, long n, double[] acc);

  /** DELLA's ranked drop over whole rows (amalgam.h contract point 9). */
  void dellaMask(
      long seed,
      long streamHash,
      long first,
      double density,
      double epsilon,
      float[] values,
      int n,
      int rowLength,
      long[] keys,
      float[] uniforms);

  /** TIES sign consensus and disjoint merge (amalgam.h contract point 8). */
  void disjointMerge(
      float[] w,
      int stride,
      int models,
      float[] weights,
      int n,
      boolean normalize,
      float[] base,
      float lambda,
      float[] out);

  /**
   * A task vector {@code d = round(x) - b} (see {@link Kernels#taskVector}); x from {@code xOffset}
   * bytes.
   */
  void taskVector(
      ByteBuffer x, long xOffset, DType xType, DType roundType, float[] b, float[] d, int n);

  /** The magnitude top-k masks in element order (see {@link Kernels#magnitudeMask}). */
  void magnitudeMask(
      float[] values,
      int n,
      int keepBits,
      long keepEqual,
      int dropBits,
      long dropEqual,
      long[] seen);

  /** Adds the NaNs of the range to counts[0] and its infinities to counts[1]. */
  void countNonFinite(ByteBuffer src, long srcOffset, DType type, long n, long[] counts);

  /** arcee_fusion's top-16 key histogram (see {@link Kernels#fusionHistogramHigh}). */
  void fusionHistogramHigh(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      long[] histogram);

  /** arcee_fusion's low-16 key histograms (see {@link Kernels#fusionHistogramLow}). */
  void fusionHistogramLow(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      int[] buckets,
      long[] histograms);

  /** arcee_fusion's output (see {@link Kernels#fusionSelect}). */
  void fusionSelect(
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
      DType outType);

  /** nearswap over a range, the offsets in bytes from each buffer's position. */
  void nearSwap(
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
      int flags);

  /** The merge without consensus (amalgam.h contract point 8). */
  void plainMerge(
      float[] w,
      int stride,
      int models,
      int n,
      float divisor,
      float[] base,
      float lambda,
      float[] out);

  /** SCE variance keys (see {@link Kernels#sceVarianceKeys}). */
  void sceVarianceKeys(float[] x, int stride, int models, float[] base, int n, int[] keys);

  /**
   * Adds the SCE keys' high halves and the non-zero keys (see {@link Kernels#sceHistogramHigh}).
   */
  void sceHistogramHigh(
      float[] x,
      int stride,
      int models,
      float[] base,
      int n,
      long[] histogram,
      long[] nonzero,
      int[] keys);

  /** Adds the SCE keys' low halves within a bucket (see {@link Kernels#sceHistogramLow}). */
  void sceHistogramLow(
      float[] x, int stride, int models, float[] base, int n, int high, long[] histogram);

  /** Adds the kept elements' squared deltas (see {@link Kernels#sceSquareSums}). */
  void sceSquareSums(
      float[] x,
      int stride,
      int models,
      float[] base,
      int[] keys,
      int n,
      int threshold,
      long equalKept,
      long[] seen,
      double[] sums);

  /** The SCE merge (see {@link Kernels#sceMerge}). */
  void sceMerge(
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
      float[] out);
}
