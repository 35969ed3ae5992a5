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
 */
public record MergeResult(
    Path outputDirectory,
    int tensors,
    long bytesRead,
    long bytesWritten,
    double seconds,
    List<String> shardFiles,
    String kernels) {
  /** (bytes read + bytes written) per second, in GB/s (1e9). */
  public double gigabytesPerSecond() {
    return seconds > 0 ? (bytesRead + bytesWritten) / seconds / 1e9 : 0;
  }
}
