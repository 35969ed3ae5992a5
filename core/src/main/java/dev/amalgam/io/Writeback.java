package dev.amalgam.io;

import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.kernels.jni.NativeLibrary;
import java.nio.file.Path;

/**
 * Starts the disk writing a file's new bytes back in steps while a writer is still producing them,
 * so the disk works while the caller computes and the writer's final sync has little left (on a 16
 * GB output the difference is many seconds). Needs the native library; without it, or if the native
 * call fails, nothing happens, since this is only a hint.
 *
 * <p>Not thread-safe: one {@link AtomicFileWriter} owns it.
 */
final class Writeback {
  /** Bytes between two write-back starts. */
  static final long STEP = 64L << 20;

  private final Path file;
  private long startedUpTo; // file offset up to which write-back has been started

  /** Write-back for {@code file}, which the writer writes sequentially from offset 0. */
  Writeback(Path file) {
    this.file = file;
  }

  /**
   * Starts write-back of the bytes written since the last start, once they reach {@link #STEP}
   * bytes, or whatever is left when {@code force} (before the final sync).
   *
   * @param end the file offset up to which the writer has written
   */
  void advance(long end, boolean force) {
    if (!NativeLibrary.isLoaded()) return;
    if (end - startedUpTo < STEP && !(force && end > startedUpTo)) return;
    AmalgamNative.amalgam_start_writeback(file.toString(), startedUpTo, end - startedUpTo);
    startedUpTo = end;
  }
}
