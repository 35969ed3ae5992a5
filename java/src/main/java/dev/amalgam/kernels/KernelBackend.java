package dev.amalgam.kernels;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;

/**
 * One single-threaded implementation of the kernels over validated arguments. Offsets are in bytes from each
 * buffer's position; {@link ParallelKernels} splits calls into ranges and checks every bound first.
 */
interface KernelBackend {
  String name();

  boolean isNative();

  /** Whether this backend can work on the given buffer (the native one needs direct memory). */
  boolean accepts(ByteBuffer buffer);

  void convert(ByteBuffer src, long srcOffset, DType srcType, ByteBuffer dst, long dstOffset, DType dstType, long n,
      int flags);

  void weightedSum(ByteBuffer[] inputs, long[] inputOffsets, DType[] inputTypes, float[] coefficients,
      ByteBuffer out, long outOffset, DType outType, long n, int flags);

  /** n is a whole number of blocks; dstOffset is in bytes (34 per block). */
  void quantizeQ8_0(ByteBuffer src, long srcOffset, DType srcType, ByteBuffer dst, long dstOffset, long n);

  /** n is a whole number of blocks; srcOffset is in bytes (whole blocks). */
  void dequantize(ByteBuffer src, long srcOffset, BlockFormat format, ByteBuffer dst, long dstOffset, DType dstType,
      long n);

  /** Adds nothing: writes x.y, x.x, y.y of the range into result[0..2]. */
  void dot3(ByteBuffer x, long xOffset, DType xType, ByteBuffer y, long yOffset, DType yType, long n,
      double[] result);
}
