package dev.amalgam.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * An input file opened for positional reads: its path, its channel, and its size, modification time
 * and identity as they were when it was opened. The safetensors and GGUF readers share it so that
 * opening, reading, the closed check and closing behave the same for both.
 *
 * <p>Tensor data is read with positional reads into buffers of the caller's, never through memory
 * mappings: a mapped file that another process truncates makes the next touch of a lost page a bus
 * error, which in native code kills the JVM. A positional read of a truncated file simply ends
 * early, and {@link #read} turns that into an {@link InputChangedException} naming the file. (It is
 * also faster here: docs/performance.md §9.)
 *
 * <p>Instances are thread-safe: positional reads do not share a file position.
 */
public final class InputFile {
  private final Path path;
  private final FileChannel channel;
  private final Snapshot opened;
  private volatile boolean closed;

  /** What identifies a file's content cheaply: size, modification time and file key. */
  private record Snapshot(long size, FileTime modified, Object key) {
    static Snapshot of(Path path) throws IOException {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      return new Snapshot(a.size(), a.lastModifiedTime(), a.fileKey());
    }
  }

  private InputFile(Path path, FileChannel channel, Snapshot opened) {
    this.path = path;
    this.channel = channel;
    this.opened = opened;
  }

  /** Builds a reader's view of a freshly opened file, typically by parsing its header. */
  @FunctionalInterface
  public interface Parser<T> {
    /**
     * Reads what is needed from {@code file} and returns the result.
     *
     * @throws IOException if the file cannot be read or breaks a rule of its format
     */
    T parse(InputFile file) throws IOException;
  }

  /**
   * Opens {@code path} for reading, notes its size, modification time and identity, and hands it to
   * {@code parser}. If the parser fails in any way the channel is closed before the failure
   * propagates, so a bad file never leaks an open descriptor.
   *
   * @throws IOException if the file cannot be opened, or as thrown by the parser
   */
  public static <T> T open(Path path, Parser<T> parser) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      return parser.parse(new InputFile(path, channel, Snapshot.of(path)));
    } catch (IOException | RuntimeException | Error e) {
      try {
        channel.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** The file's path, as given to {@link #open}. */
  public Path path() {
    return path;
  }

  /** The open channel, for reading the header. */
  public FileChannel channel() {
    return channel;
  }

  /**
   * Fills {@code dst} from its position to its limit with the bytes at {@code position}, advancing
   * its position.
   *
   * @param what what is being read, for the message if the file ended early (for example {@code
   *     "tensor 'lm_head.weight'"})
   * @throws InputChangedException if the file ends before the range does: it was truncated after it
   *     was opened (the readers check every range against the size at open)
   * @throws IllegalStateException if the file has been closed
   * @throws IOException if reading fails; the message names the file
   */
  public void read(ByteBuffer dst, long position, String what) throws IOException {
    ensureOpen();
    long start = position;
    long end = position + dst.remaining();
    long at = position;
    try {
      while (dst.hasRemaining()) {
        int n = channel.read(dst, at);
        if (n < 0) {
          throw new InputChangedException(
              path,
              "it ended at byte "
                  + Math.max(at, channel.size())
                  + " while bytes ["
                  + start
                  + ", "
                  + end
                  + ") of "
                  + what
                  + " were read; it had "
                  + opened.size()
                  + " bytes when opened");
        }
        at += n;
      }
    } catch (ClosedChannelException e) {
      throw new IllegalStateException(path + ": file is closed", e);
    } catch (InputChangedException e) {
      throw e;
    } catch (IOException e) {
      String m = e.getMessage();
      throw new IOException(path + ": reading " + what + " failed: " + (m != null ? m : e), e);
    }
  }

  /**
   * Checks that the file at {@link #path()} is still the one opened, with the same size and
   * modification time, and that the open file has not shrunk. Callers check each input when their
   * work is done and before they commit its output, so a file that was written while it was read
   * never yields an output.
   *
   * @throws InputChangedException naming the file and what changed
   */
  public void checkUnchanged() throws InputChangedException {
    Snapshot now;
    try {
      now = Snapshot.of(path);
    } catch (NoSuchFileException e) {
      throw new InputChangedException(path, "it was deleted or moved");
    } catch (IOException e) {
      throw new InputChangedException(path, "its attributes cannot be read: " + e.getMessage());
    }
    if (now.size() != opened.size()) {
      throw new InputChangedException(
          path, "its size went from " + opened.size() + " to " + now.size() + " bytes");
    }
    if (!Objects.equals(now.key(), opened.key())) {
      throw new InputChangedException(path, "it was replaced by another file");
    }
    if (!now.modified().equals(opened.modified())) {
      throw new InputChangedException(
          path, "its modification time went from " + opened.modified() + " to " + now.modified());
    }
    try {
      long size = channel.size();
      if (size != opened.size()) {
        throw new InputChangedException(
            path, "its size went from " + opened.size() + " to " + size + " bytes");
      }
    } catch (ClosedChannelException e) {
      // closed: whatever was read from it was checked by read()
    } catch (InputChangedException e) {
      throw e;
    } catch (IOException e) {
      throw new InputChangedException(path, "its size cannot be read: " + e.getMessage());
    }
  }

  /**
   * Fails once the file is closed.
   *
   * @throws IllegalStateException if {@link #close} has been called
   */
  public void ensureOpen() {
    if (closed) throw new IllegalStateException(path + ": file is closed");
  }

  /**
   * Marks the file closed, runs {@code releaseBuffers} (which should release every {@link
   * StoredTensorData} handed out, so their read buffers go back to the pool) and closes the
   * channel. Closing twice does nothing.
   *
   * @throws IOException if closing the channel fails
   */
  public void close(Runnable releaseBuffers) throws IOException {
    if (closed) return;
    closed = true;
    releaseBuffers.run();
    channel.close();
  }
}
