package dev.amalgam.kernels;

/**
 * A CUDA device as the runtime reports it.
 *
 * @param index the device's index (cuda:N)
 * @param name the product name, e.g. "NVIDIA RTX 6000 Ada Generation"
 * @param computeMajor compute capability, major
 * @param computeMinor compute capability, minor
 * @param multiprocessors streaming multiprocessors
 * @param totalBytes device memory
 * @param freeBytes device memory free when it was queried
 * @param driverVersion the driver's CUDA version, 1000 * major + 10 * minor
 * @param runtimeVersion the linked CUDA runtime's version, same encoding
 */
public record CudaDevice(
    int index,
    String name,
    int computeMajor,
    int computeMinor,
    int multiprocessors,
    long totalBytes,
    long freeBytes,
    int driverVersion,
    int runtimeVersion) {

  /**
   * Whether merges may run here: compute capability 7.5 (sm_75) or newer, the oldest this build has
   * code for, and at least {@link Cuda#MIN_FREE_BYTES} free.
   */
  public boolean isUsable() {
    return computeMajor * 10 + computeMinor >= 75 && freeBytes >= Cuda.MIN_FREE_BYTES;
  }

  /**
   * One line for logs: "cuda:0 NVIDIA H100 (sm_90, 132 SMs, 79.2 of 79.6 GiB free, driver 13.0)".
   */
  public String describe() {
    return String.format(
        java.util.Locale.ROOT,
        "cuda:%d %s (sm_%d%d, %d SMs, %.1f of %.1f GiB free, driver %s, runtime %s)",
        index,
        name,
        computeMajor,
        computeMinor,
        multiprocessors,
        freeBytes / (double) (1L << 30),
        totalBytes / (double) (1L << 30),
        version(driverVersion),
        version(runtimeVersion));
  }

  private static String version(int v) {
    return (v / 1000) + "." + (v % 1000) / 10;
  }
}
