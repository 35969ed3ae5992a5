package dev.amalgam.merge.plan;

/** Receives a merge's progress in bytes written. Called from the writer thread. */
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
