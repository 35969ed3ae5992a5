package dev.amalgam.kernels.jni;

import java.nio.ByteBuffer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Hand-written JavaCPP peer of native/include/amalgam.h; each method mirrors the C function of the
 * same name.
 *
 * <p>There is no static initialiser: {@link NativeLibrary} loads the library once and the rest of
 * Amalgam calls these methods only after that succeeded. The native code never throws (status codes
 * carry errors), hence {@code @NoException}. Nothing here validates arguments: use {@link
 * dev.amalgam.kernels.Kernels}, which checks every buffer bound before it calls down.
 */
@Platform(include = "amalgam.h", link = "amalgam")
@NoException
public final class AmalgamNative {
  private AmalgamNative() {}

  /** See {@code amalgam_abi_version}. */
  public static native int amalgam_abi_version();

  /** See {@code amalgam_isa_best}. */
  public static native int amalgam_isa_best();

  /** See {@code amalgam_isa_name}. */
  public static native @Cast("const char*") String amalgam_isa_name(int isa);

  /** See {@code amalgam_status_message}. */
  public static native @Cast("const char*") String amalgam_status_message(int status);

  /**
   * Address of a direct buffer's current position; meaningless for heap buffers (JavaCPP copies
   * those).
   */
  public static native @Cast("int64_t") long amalgam_address_of(
      @Cast("const void*") ByteBuffer buffer);

  /** See {@code amalgam_convert}. */
  public static native int amalgam_convert(
      int isa,
      @Cast("int64_t") long src,
      int srcDtype,
      @Cast("int64_t") long dst,
      int dstDtype,
      @Cast("int64_t") long n,
      int flags);

  /** See {@code amalgam_weighted_sum}. */
  public static native int amalgam_weighted_sum(
      int isa,
      int count,
      @Cast("const int64_t*") long[] inputs,
      @Cast("const int32_t*") int[] inputDtypes,
      @Cast("const float*") float[] coefficients,
      @Cast("int64_t") long out,
      int outDtype,
      @Cast("int64_t") long n,
      int flags);

  /** See {@code amalgam_dot3}. */
  public static native int amalgam_dot3(
      int isa,
      @Cast("int64_t") long x,
      int xDtype,
      @Cast("int64_t") long y,
      int yDtype,
      @Cast("int64_t") long n,
      @Cast("double*") double[] result);

  /** See {@code amalgam_quantize_q8_0}. */
  public static native int amalgam_quantize_q8_0(
      int isa,
      @Cast("int64_t") long src,
      int srcDtype,
      @Cast("int64_t") long dst,
      @Cast("int64_t") long n);

  /** See {@code amalgam_dequantize}. */
  public static native int amalgam_dequantize(
      int isa,
      @Cast("int64_t") long src,
      int format,
      @Cast("int64_t") long dst,
      int dstDtype,
      @Cast("int64_t") long n);

  // The task-arithmetic kernels take Java arrays, pinned for the call (GetPrimitiveArrayCritical,
  // no copy): they
  // run over one work block of the merge and never block.

  /** See {@code amalgam_magnitude_histogram_high}. */
  @CriticalRegion
  public static native int amalgam_magnitude_histogram_high(
      int isa,
      @Cast("const float*") float[] values,
      @Cast("int64_t") long n,
      @Cast("int64_t*") long[] histogram);

  /** See {@code amalgam_magnitude_histogram_low}. */
  @CriticalRegion
  public static native int amalgam_magnitude_histogram_low(
      int isa,
      @Cast("const float*") float[] values,
      @Cast("int64_t") long n,
      int high,
      @Cast("int64_t*") long[] histogram);

  /** See {@code amalgam_philox_uniforms}. */
  @CriticalRegion
  public static native int amalgam_philox_uniforms(
      int isa,
      @Cast("uint64_t") long seed,
      @Cast("uint64_t") long streamHash,
      @Cast("int64_t") long first,
      @Cast("int64_t") long n,
      float[] out);

  /** See {@code amalgam_philox_keep}. */
  @CriticalRegion
  public static native int amalgam_philox_keep(
      int isa,
      @Cast("uint64_t") long seed,
      @Cast("uint64_t") long streamHash,
      @Cast("int64_t") long first,
      @Cast("int64_t") long n,
      double p,
      float[] values);

  /** See {@code amalgam_gram}. */
  public static native int amalgam_gram(
      int isa,
      int count,
      @Cast("const int64_t*") long[] inputs,
      @Cast("const int32_t*") int[] inputDtypes,
      @Cast("int64_t") long base,
      int baseDtype,
      @Cast("int64_t") long n,
      double[] acc);

  /** See {@code amalgam_della_mask}. */
  @CriticalRegion
  public static native int amalgam_della_mask(
      int isa,
      @Cast("uint64_t") long seed,
      @Cast("uint64_t") long streamHash,
      @Cast("int64_t") long first,
      @Cast("int64_t") long n,
      @Cast("int64_t") long rowLength,
      double density,
      double epsilon,
      float[] values,
      @Cast("int64_t*") long[] keys,
      float[] uniforms);

  /** See {@code amalgam_disjoint_merge}. */
  @CriticalRegion
  public static native int amalgam_disjoint_merge(
      int isa,
      int models,
      @Cast("const float*") float[] w,
      @Cast("int64_t") long stride,
      @Cast("const float*") float[] weights,
      @Cast("int64_t") long n,
      int normalize,
      @Cast("const float*") float[] base,
      float lambda,
      float[] out);

  /** See {@code amalgam_plain_merge}. */
  @CriticalRegion
  public static native int amalgam_plain_merge(
      int isa,
      int models,
      @Cast("const float*") float[] w,
      @Cast("int64_t") long stride,
      @Cast("int64_t") long n,
      float divisor,
      @Cast("const float*") float[] base,
      float lambda,
      float[] out);

  /** See {@code amalgam_task_vector}. */
  @CriticalRegion
  public static native int amalgam_task_vector(
      int isa,
      @Cast("int64_t") long x,
      int xDtype,
      int roundDtype,
      @Cast("const float*") float[] b,
      @Cast("int64_t") long n,
      float[] d);

  /** See {@code amalgam_magnitude_mask}. */
  @CriticalRegion
  public static native int amalgam_magnitude_mask(
      int isa,
      float[] values,
      @Cast("int64_t") long n,
      int keepBits,
      @Cast("int64_t") long keepEqual,
      int dropBits,
      @Cast("int64_t") long dropEqual,
      @Cast("int64_t*") long[] seen);

  // The method kernels (contract point 9) read their inputs and write their output at addresses;
  // only
  // the per-row KL values and the histograms are Java arrays, pinned as above.

  /** See {@code amalgam_fusion_histogram_high}. */
  @CriticalRegion
  public static native int amalgam_fusion_histogram_high(
      int isa,
      @Cast("int64_t") long a,
      int aDtype,
      @Cast("int64_t") long b,
      int bDtype,
      @Cast("int64_t") long n,
      @Cast("int64_t") long first,
      @Cast("int64_t") long rowLength,
      @Cast("const float*") float[] kl,
      @Cast("int64_t") long klRows,
      @Cast("int64_t*") long[] histogram);

  /** See {@code amalgam_fusion_histogram_low}. */
  @CriticalRegion
  public static native int amalgam_fusion_histogram_low(
      int isa,
      @Cast("int64_t") long a,
      int aDtype,
      @Cast("int64_t") long b,
      int bDtype,
      @Cast("int64_t") long n,
      @Cast("int64_t") long first,
      @Cast("int64_t") long rowLength,
      @Cast("const float*") float[] kl,
      @Cast("int64_t") long klRows,
      int bucketCount,
      @Cast("const int32_t*") int[] buckets,
      @Cast("int64_t*") long[] histograms);

  /** See {@code amalgam_fusion_select}. */
  @CriticalRegion
  public static native int amalgam_fusion_select(
      int isa,
      @Cast("int64_t") long a,
      int aDtype,
      @Cast("int64_t") long b,
      int bDtype,
      @Cast("int64_t") long n,
      @Cast("int64_t") long first,
      @Cast("int64_t") long rowLength,
      @Cast("const float*") float[] kl,
      @Cast("int64_t") long klRows,
      float threshold,
      @Cast("int64_t") long out,
      int outDtype);

  /** See {@code amalgam_nearswap}. */
  public static native int amalgam_nearswap(
      int isa,
      @Cast("int64_t") long base,
      int baseDtype,
      @Cast("int64_t") long other,
      int otherDtype,
      float t,
      @Cast("int64_t") long out,
      int outDtype,
      @Cast("int64_t") long n,
      int flags);

  // The SCE kernels likewise pin their arrays for one work block.

  /** See {@code amalgam_sce_variance_keys}. */
  @CriticalRegion
  public static native int amalgam_sce_variance_keys(
      int isa,
      int models,
      @Cast("const float*") float[] x,
      @Cast("int64_t") long stride,
      @Cast("const float*") float[] b,
      @Cast("int64_t") long n,
      @Cast("int32_t*") int[] keys);

  /** See {@code amalgam_sce_histogram_high}. */
  @CriticalRegion
  public static native int amalgam_sce_histogram_high(
      int isa,
      int models,
      @Cast("const float*") float[] x,
      @Cast("int64_t") long stride,
      @Cast("const float*") float[] b,
      @Cast("int64_t") long n,
      @Cast("int64_t*") long[] histogram,
      @Cast("int64_t*") long[] nonzero,
      @Cast("int32_t*") int[] keys);

  /** See {@code amalgam_sce_histogram_low}. */
  @CriticalRegion
  public static native int amalgam_sce_histogram_low(
      int isa,
      int models,
      @Cast("const float*") float[] x,
      @Cast("int64_t") long stride,
      @Cast("const float*") float[] b,
      @Cast("int64_t") long n,
      int high,
      @Cast("int64_t*") long[] histogram);

  /** See {@code amalgam_sce_square_sums}. */
  @CriticalRegion
  public static native int amalgam_sce_square_sums(
      int isa,
      int models,
      @Cast("const float*") float[] x,
      @Cast("int64_t") long stride,
      @Cast("const float*") float[] b,
      @Cast("const int32_t*") int[] keys,
      @Cast("int64_t") long n,
      int threshold,
      @Cast("int64_t") long equalKept,
      @Cast("int64_t*") long[] seen,
      double[] sums);

  /** See {@code amalgam_sce_merge}. */
  @CriticalRegion
  public static native int amalgam_sce_merge(
      int isa,
      int models,
      @Cast("const float*") float[] x,
      @Cast("int64_t") long stride,
      @Cast("const float*") float[] b,
      @Cast("const int32_t*") int[] keys,
      @Cast("int64_t") long n,
      int threshold,
      @Cast("int64_t") long equalKept,
      @Cast("int64_t*") long[] seen,
      @Cast("const double*") double[] weights,
      float[] out);

  /** See {@code amalgam_advise}. */
  public static native int amalgam_advise(
      @Cast("int64_t") long address, @Cast("int64_t") long length, int advice);

  /** See {@code amalgam_count_nonfinite}. */
  public static native int amalgam_count_nonfinite(
      int isa,
      @Cast("int64_t") long src,
      int dtype,
      @Cast("int64_t") long n,
      @Cast("int64_t*") long[] counts);

  /** See {@code amalgam_advise_file}. */
  public static native int amalgam_advise_file(
      @Cast("const char*") String path,
      @Cast("int64_t") long offset,
      @Cast("int64_t") long length,
      int advice);

  /** See {@code amalgam_start_writeback}. */
  public static native int amalgam_start_writeback(
      @Cast("const char*") String path, @Cast("int64_t") long offset, @Cast("int64_t") long length);

  // ------------------------------------------------------------------------ CUDA (amalgam.h point
  // 10)

  /** See {@code amalgam_cuda_attach}. */
  public static native int amalgam_cuda_attach(@Cast("int64_t") long entryFunction);

  /** See {@code amalgam_cuda_device_count}. */
  public static native int amalgam_cuda_device_count(
      @Cast("int32_t*") int[] count, @Cast("int32_t*") int[] cudaError);

  /** See {@code amalgam_cuda_device_info}. */
  public static native int amalgam_cuda_device_info(
      int device,
      @Cast("char*") byte[] name,
      int nameCapacity,
      @Cast("int64_t*") long[] memory,
      @Cast("int32_t*") int[] numbers,
      @Cast("int32_t*") int[] cudaError);

  /** See {@code amalgam_cuda_last_error}. */
  public static native int amalgam_cuda_last_error();

  /** See {@code amalgam_cuda_error_name}. */
  public static native @Cast("const char*") String amalgam_cuda_error_name(int cudaError);

  /** See {@code amalgam_cuda_error_string}. */
  public static native @Cast("const char*") String amalgam_cuda_error_string(int cudaError);

  /** See {@code amalgam_cuda_set_staging_bytes}. */
  public static native int amalgam_cuda_set_staging_bytes(@Cast("int64_t") long bytes);

  /** See {@code amalgam_cuda_device_convert}. */
  public static native int amalgam_cuda_device_convert(
      int device,
      @Cast("int64_t") long stream,
      @Cast("int64_t") long src,
      int srcDtype,
      @Cast("int64_t") long dst,
      int dstDtype,
      @Cast("int64_t") long n);

  /** See {@code amalgam_cuda_device_weighted_sum}. */
  public static native int amalgam_cuda_device_weighted_sum(
      int device,
      @Cast("int64_t") long stream,
      int count,
      @Cast("const int64_t*") long[] inputs,
      @Cast("const int32_t*") int[] inputDtypes,
      @Cast("const float*") float[] coefficients,
      @Cast("int64_t") long out,
      int outDtype,
      @Cast("int64_t") long n);

  /** See {@code amalgam_cuda_device_dot3}. */
  public static native int amalgam_cuda_device_dot3(
      int device,
      @Cast("int64_t") long stream,
      @Cast("int64_t") long x,
      int xDtype,
      @Cast("int64_t") long y,
      int yDtype,
      @Cast("int64_t") long n,
      @Cast("double*") double[] result);

  /** See {@code amalgam_cuda_malloc}. */
  public static native int amalgam_cuda_malloc(
      int device, @Cast("int64_t") long bytes, @Cast("int64_t*") long[] address);

  /** See {@code amalgam_cuda_free}. */
  public static native int amalgam_cuda_free(int device, @Cast("int64_t") long address);

  /** See {@code amalgam_cuda_copy}. */
  public static native int amalgam_cuda_copy(
      int device,
      @Cast("int64_t") long stream,
      @Cast("int64_t") long dst,
      @Cast("int64_t") long src,
      @Cast("int64_t") long bytes,
      int kind);

  /** See {@code amalgam_cuda_synchronize}. */
  public static native int amalgam_cuda_synchronize(int device, @Cast("int64_t") long stream);

  /** See {@code amalgam_cuda_set_pipelining}. */
  public static native int amalgam_cuda_set_pipelining(int on);
}
