package dev.amalgam.io;

import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.kernels.jni.NativeLibrary;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Starts the disk writing a file's new bytes back in steps while a writer is still producing them, so the disk
 * works while the caller computes and the writer's final sync has little left (on a 16 GB output the difference is
 * many seconds). Needs the native library; without it, or if the native call fails, nothing happens, since this
 * is only a hint.
 *
 * <p>Not thread-safe: one writer owns it.
 */
public final class Writeback {
  /** Bytes between two write-back starts. */
  public static final long STEP = 64L << 20;

  private final Path file;
  private long startedUpTo; // file offset up to which write-back has been started

  /** Write-back for {@code file}, which the writer writes sequentially from offset 0. */
  public Writeback(Path file) {
    this.file = file;
  }

  /**
   * Starts write-back of the bytes written since the last start, once they reach {@link #STEP} bytes, or whatever
   * is left when {@code force} (before the final sync).
   *
   * @param channel the writer's channel, whose position is the end of what has been written
   * @throws IOException if the channel's position cannot be read
   */
  public void advance(FileChannel channel, boolean force) throws IOException {
    if (!NativeLibrary.isLoaded()) return;
    long end = channel.position();
    if (end - startedUpTo < STEP && !(force && end > startedUpTo)) return;
    AmalgamNative.amalgam_start_writeback(file.toString(), startedUpTo, end - startedUpTo);
    startedUpTo = end;
  }
}
