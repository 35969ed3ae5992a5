package dev.amalgam.io;

/**
 * Receives the progress of a merge or conversion in bytes written (for a merge, from its writer
 * thread).
 */
public interface ProgressListener {
  /** Ignores everything. */
  ProgressListener NONE = new ProgressListener() {};

  /** The merge starts; {@code totalBytes} will be written. */
  default void start(long totalBytes) {}

  /** {@code bytes} more were written. */
  default void advance(long bytes) {}

  /** The merge ended, successfully or not. */
  default void finish() {}
}
