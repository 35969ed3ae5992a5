package dev.amalgam.merge.plan;

import java.nio.file.Path;
import java.util.List;

/**
 * What a merge did.
 *
 * @param outputDirectory the finished model directory
 * @param tensors output tensors written
 * @param bytesRead bytes of input tensor data (each input tensor counted once)
 * @param bytesWritten bytes of output tensor data
 * @param seconds wall time of the tensor phase
 * @param shardFiles the safetensors files written
 * @param kernels the kernels used, e.g. "native avx512_bf16, 2 threads"
 * @param nonFinite the NaN and infinite values met, by tensor and input (empty when there were
 *     none, or under {@link NonFinitePolicy#IGNORE})
 */
public record MergeResult(
    Path outputDirectory,
    int tensors,
    long bytesRead,
    long bytesWritten,
    double seconds,
    List<String> shardFiles,
    String kernels,
    List<NonFiniteCount> nonFinite) {
  /** Copies the list. */
  public MergeResult {
    nonFinite = List.copyOf(nonFinite);
  }

  /** (bytes read + bytes written) per second, in GB/s (1e9). */
  public double gigabytesPerSecond() {
    return seconds > 0 ? (bytesRead + bytesWritten) / seconds / 1e9 : 0;
  }
}
