package dev.amalgam.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file opened for reading through memory mappings: its path, its channel and whether it has been
 * closed. The safetensors and GGUF readers share it so that opening, the closed check and closing
 * behave the same for both.
 *
 * <p>Instances are thread-safe.
 */
public final class MappedFile {
  private final Path path;
  private final FileChannel channel;
  private volatile boolean closed;

  private MappedFile(Path path, FileChannel channel) {
    this.path = path;
    this.channel = channel;
  }

  /** Builds a reader's view of a freshly opened file, typically by parsing its header. */
  @FunctionalInterface
  public interface Parser<T> {
    /**
     * Reads what is needed from {@code file} and returns the result.
     *
     * @throws IOException if the file cannot be read or breaks a rule of its format
     */
    T parse(MappedFile file) throws IOException;
  }

  /**
   * Opens {@code path} for reading and hands it to {@code parser}. If the parser fails in any way
   * the channel is closed before the failure propagates, so a bad file never leaks an open
   * descriptor.
   *
   * @throws IOException if the file cannot be opened, or as thrown by the parser
   */
  public static <T> T open(Path path, Parser<T> parser) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      return parser.parse(new MappedFile(path, channel));
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

  /** The open channel, for reading the header and mapping the data. */
  public FileChannel channel() {
    return channel;
  }

  /**
   * Fails once the file is closed, so that no new mapping is made of a closed channel.
   *
   * @throws IllegalStateException if {@link #close} has been called
   */
  public void ensureOpen() {
    if (closed) throw new IllegalStateException(path + ": file is closed");
  }

  /**
   * Marks the file closed, runs {@code releaseMappings} (which should release every {@link
   * MappedRegion} handed out, so their resident pages are dropped) and closes the channel. Closing
   * twice does nothing.
   *
   * @throws IOException if closing the channel fails
   */
  public void close(Runnable releaseMappings) throws IOException {
    if (closed) return;
    closed = true;
    releaseMappings.run();
    channel.close();
  }
}
