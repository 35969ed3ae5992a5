package dev.amalgam.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One file written sequentially under a temporary name beside its target and renamed into place
 * only when complete, so a reader never sees a half-written file. This is the shell the safetensors
 * and GGUF writers share; they add only their header and layout.
 *
 * <p>Bytes reach the file in the order they are given. Direct buffers go to the file as they are,
 * without a copy; heap buffers and small encoded values ({@link #room}) are collected in a direct
 * staging buffer first, so they are copied once, as the JDK would copy them anyway. With sync on
 * (the default), write-back of the new bytes is started behind the writer ({@link Writeback}) and
 * {@link #finishData} forces them to the device before the rename. {@link #close()} without a
 * successful {@link #commit()} closes and deletes the temporary file.
 *
 * <pre>{@code
 * try (AtomicFileWriter out = AtomicFileWriter.create(target, AtomicFileWriter.Temporary.UNIQUE, false)) {
 *   out.write(header);
 *   out.write(data);
 *   out.finish(expectedSize);
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one writer owns it.
 */
public final class AtomicFileWriter implements Closeable {
  /** Size of the staging buffer for heap buffers and encoded values. */
  static final int STAGING_BYTES = 4 << 20;

  /** How the temporary file beside the target is named and opened. */
  public enum Temporary {
    /**
     * {@code .<name>.partial}, truncated if an earlier run left one behind: for files in a
     * directory that this writer's owner controls (the shards of a model directory).
     */
    FIXED,
    /**
     * {@code .<name>.amalgam-partial-<random>} ({@link AtomicFiles#hiddenSibling}), created new:
     * for a file beside files of others, where two runs may write at once.
     */
    UNIQUE
  }

  private enum State {
    OPEN,
    DATA_DONE,
    COMMITTED,
    CLOSED
  }

  private final Path target;
  private final Path temp;
  private final boolean overwrite;
  private final FileChannel channel;
  private final Writeback writeback;
  // Deletes a UNIQUE temporary file if the JVM is stopped (SIGTERM, Ctrl-C) before the commit; null
  // for FIXED ones, whose directory's owner cleans up.
  private final Thread cleanupHook;
  private ByteBuffer staging; // created on first use
  private long
      written; // bytes handed to the channel: its position, since writing is sequential from 0
  private State state = State.OPEN;
  private boolean failed;
  private boolean sync = true;

  private AtomicFileWriter(
      Path target, Path temp, boolean overwrite, FileChannel channel, boolean cleanUpAtExit) {
    this.target = target;
    this.temp = temp;
    this.overwrite = overwrite;
    this.channel = channel;
    this.writeback = new Writeback(temp);
    this.cleanupHook = cleanUpAtExit ? new Thread(this::deleteAtExit, "amalgam-cleanup") : null;
    if (cleanupHook != null) Runtime.getRuntime().addShutdownHook(cleanupHook);
  }

  /**
   * Creates the temporary file for {@code target}.
   *
   * @param target the file {@link #commit()} creates
   * @param temporary how the temporary file is named
   * @param overwrite whether {@link #commit()} may replace an existing target; without it an
   *     existing target is refused now and again at the rename (atomically where the file system
   *     supports hard links)
   * @throws IllegalArgumentException if {@code target} has no file name
   * @throws FileAlreadyExistsException if {@code target} exists and {@code overwrite} is false
   * @throws IOException if the temporary file cannot be created
   */
  public static AtomicFileWriter create(Path target, Temporary temporary, boolean overwrite)
      throws IOException {
    Path name = target.getFileName();
    if (name == null) throw new IllegalArgumentException("not a file path: " + target);
    if (!overwrite && Files.exists(target)) throw alreadyExists(target);
    Path temp;
    FileChannel channel;
    if (temporary == Temporary.FIXED) {
      temp = target.resolveSibling("." + name + ".partial");
      channel =
          FileChannel.open(
              temp,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING);
    } else {
      // Debris of interrupted runs on the same target goes first, so disk use stays bounded.
      StalePartials.removeStaleOf(target);
      temp = AtomicFiles.hiddenSibling(target, "partial");
      channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
    return new AtomicFileWriter(target, temp, overwrite, channel, temporary == Temporary.UNIQUE);
  }

  /** The file {@link #commit()} creates. */
  public Path target() {
    return target;
  }

  /** The temporary file the bytes go to until {@link #commit()}. */
  public Path temporary() {
    return temp;
  }

  /**
   * Whether write-back is started behind the writer and {@link #finishData} forces the data to the
   * device before the rename, so that a crash cannot leave a renamed but incomplete file (default
   * true). Turn it off for throwaway output or benchmarks of warm runs.
   */
  public void setSync(boolean sync) {
    this.sync = sync;
  }

  /** Bytes written so far, staged ones included: the offset the next byte will have in the file. */
  public long position() {
    return written + (staging == null ? 0 : staging.position());
  }

  /**
   * Fails unless bytes may still be written: the owner checks this before its own checks, so that a
   * finished, closed or broken writer says so first.
   *
   * @throws IllegalStateException if the data is finished, the writer is closed, or an earlier
   *     write failed
   */
  public void ensureWritable() {
    if (state != State.OPEN) {
      throw new IllegalStateException(
          target + ": writer is " + (state == State.CLOSED ? "closed" : "finished"));
    }
    if (failed)
      throw new IllegalStateException(target + ": an earlier write failed; close the writer");
  }

  /**
   * Appends {@code src}'s remaining bytes and advances its position to its limit. A direct buffer
   * goes to the file in one call, after anything staged; a heap buffer is copied through the
   * staging buffer.
   *
   * @throws IOException if writing fails; the writer is then unusable and {@link #close()} deletes
   *     the file
   */
  public void write(ByteBuffer src) throws IOException {
    if (src.isDirect()) {
      flush();
      writeFully(src);
      return;
    }
    while (src.hasRemaining()) {
      ByteBuffer b = room(1);
      int n = Math.min(b.remaining(), src.remaining());
      b.put(b.position(), src, src.position(), n);
      b.position(b.position() + n);
      src.position(src.position() + n);
    }
  }

  /**
   * The little-endian staging buffer with at least {@code n} bytes free at its position, for
   * encoding small values in place ({@code room(4).putInt(v)}); what is put there is written in
   * order with everything else.
   *
   * @param n at most {@link #STAGING_BYTES}
   * @throws IOException if writing staged bytes to make room fails
   */
  public ByteBuffer room(int n) throws IOException {
    if (staging == null)
      staging = ByteBuffer.allocateDirect(STAGING_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    if (staging.remaining() < n) flush();
    return staging;
  }

  /**
   * Appends {@code n} zero bytes (padding).
   *
   * @throws IOException if writing fails
   */
  public void putZeros(long n) throws IOException {
    for (long left = n; left > 0; ) {
      ByteBuffer b = room(1);
      int k = (int) Math.min(left, b.remaining());
      for (int i = 0; i < k; i++) b.put((byte) 0);
      left -= k;
    }
  }

  /**
   * Step 1 of {@link #finish}: writes what is staged, checks that the file has exactly the size its
   * owner planned, forces it to the device (see {@link #setSync}) and closes it.
   *
   * @throws IllegalStateException if the writer is not writable or the size differs (the writer
   *     stays open; close it to discard the file)
   * @throws IOException if writing or syncing fails
   */
  public void finishData(long expectedSize) throws IOException {
    ensureWritable();
    flush();
    if (written != expectedSize) {
      throw new IllegalStateException(
          target + ": wrote " + written + " bytes, expected " + expectedSize);
    }
    if (sync) {
      writeback.advance(written, true);
      // fdatasync: besides the data it flushes the file's size, the only metadata a reader of the
      // file needs.
      try {
        channel.force(false);
      } catch (IOException e) {
        throw failure(target, "flushing to the device", e);
      }
    }
    channel.close();
    state = State.DATA_DONE;
  }

  /**
   * Step 2 of {@link #finish}: renames the temporary file to the target, replacing an existing one
   * only where overwriting was allowed.
   *
   * @throws IllegalStateException if {@link #finishData} has not succeeded
   * @throws FileAlreadyExistsException if the target exists and overwriting was not allowed (close
   *     the writer to delete the temporary file)
   * @throws IOException if the rename fails
   */
  public void commit() throws IOException {
    if (state != State.DATA_DONE)
      throw new IllegalStateException(target + ": commit before finishData");
    if (overwrite) {
      AtomicFiles.moveReplacing(temp, target);
    } else if (!AtomicFiles.moveIfAbsent(temp, target)) {
      throw alreadyExists(target);
    }
    state = State.COMMITTED;
    removeCleanupHook();
  }

  /**
   * {@link #finishData}, {@link #commit()}, then (with sync on) makes the rename durable.
   *
   * @throws IllegalStateException if the file does not have {@code expectedSize} bytes
   * @throws IOException as the steps throw
   */
  public void finish(long expectedSize) throws IOException {
    finishData(expectedSize);
    commit();
    if (sync) AtomicFiles.syncDirectory(target);
  }

  /** True once the file has been renamed into place. */
  public boolean committed() {
    return state == State.COMMITTED;
  }

  /**
   * Without a successful {@link #commit()}: closes and deletes the temporary file, leaving nothing
   * behind. After it: does nothing, however often called.
   */
  @Override
  public void close() throws IOException {
    if (state == State.COMMITTED || state == State.CLOSED) return;
    state = State.CLOSED;
    removeCleanupHook();
    AtomicFiles.closeAndDelete(channel, temp);
  }

  private void removeCleanupHook() {
    if (cleanupHook == null) return;
    try {
      Runtime.getRuntime().removeShutdownHook(cleanupHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or will run; it deletes the file if it is still there
    }
  }

  /**
   * The shutdown hook: removes the temporary file. If the rename won the race the name is gone and
   * the target is complete; if not, the rename then fails and no target appears.
   */
  private void deleteAtExit() {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      // the JVM is exiting; a later run removes the stale partial
    }
  }

  private void flush() throws IOException {
    if (staging == null || staging.position() == 0) return;
    staging.flip();
    try {
      writeFully(staging);
    } finally {
      staging.clear();
    }
  }

  private void writeFully(ByteBuffer src) throws IOException {
    long n = src.remaining();
    try {
      while (src.hasRemaining()) channel.write(src);
    } catch (IOException e) {
      failed = true;
      throw failure(target, "writing", e);
    } catch (RuntimeException e) {
      failed = true;
      throw e;
    }
    written += n;
    if (sync) writeback.advance(written, false);
  }

  /**
   * An I/O failure that names the file being written, as the JDK's own messages for a failed write
   * ("No space left on device") do not; a full disk also says what to do.
   */
  public static IOException failure(Path file, String doing, IOException e) {
    if (e instanceof FileSystemException f && f.getFile() != null) return e;
    String reason = e.getMessage() != null ? e.getMessage() : e.toString();
    if (reason.contains("No space left on device") || reason.contains("Disk quota exceeded")) {
      reason += " (free space on its file system or choose another output; nothing was kept)";
    }
    FileSystemException named =
        new FileSystemException(file.toString(), null, doing + " failed: " + reason);
    named.initCause(e);
    return named;
  }

  private static FileAlreadyExistsException alreadyExists(Path target) {
    return new FileAlreadyExistsException(
        target.toString(), null, "already exists; pass overwrite to replace it");
  }

  @Override
  public String toString() {
    return "AtomicFileWriter[" + target + ", " + position() + " bytes, " + state + "]";
  }
}
