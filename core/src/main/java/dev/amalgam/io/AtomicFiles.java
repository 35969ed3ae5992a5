package dev.amalgam.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * The steps that put a file or a directory in place all at once: it is written under a temporary
 * name beside the target ({@link #hiddenSibling}), then renamed ({@link #moveReplacing} or {@link
 * #moveIfAbsent}) and the rename made durable ({@link #syncDirectory}); on failure {@link
 * #closeAndDelete} removes a temporary file, so a reader never sees a half-written one. {@link
 * AtomicFileWriter} runs these steps for a streamed file, {@link ModelOutput} for a model
 * directory.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /**
   * A name {@code .<name>.amalgam-<kind>-<pid>-<start>-<8 random hex digits>} beside {@code
   * target}: hidden, recognisably ours, on the same file system (so that renaming it to the target
   * is atomic), and naming this process (pid and start time in hex), so that a run interrupted for
   * good leaves a partial that later runs recognise as stale ({@link StalePartials}). Nothing is
   * created.
   */
  public static Path hiddenSibling(Path target, String kind) {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    return target.resolveSibling(
        "."
            + target.getFileName()
            + ".amalgam-"
            + kind
            + "-"
            + StalePartials.ownerTag()
            + "-"
            + suffix);
  }

  /**
   * Renames {@code from} to {@code to} atomically where the file system can, else replaces {@code
   * to}.
   *
   * @throws IOException if the rename fails
   */
  public static void moveReplacing(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * Renames {@code from} to {@code to} unless {@code to} exists. Where the file system supports
   * hard links the check and the rename are one atomic step, so a file that appears concurrently is
   * never replaced.
   *
   * @return true if {@code from} now stands at {@code to}; false if {@code to} exists ({@code from}
   *     is left as it is)
   * @throws IOException if the rename fails for another reason
   */
  public static boolean moveIfAbsent(Path from, Path to) throws IOException {
    try {
      // A hard link fails if the target exists, so no concurrent file is ever replaced.
      Files.createLink(to, from);
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (UnsupportedOperationException | IOException e) {
      if (Files.exists(to)) return false;
      Files.move(from, to);
      return true;
    }
    // The file is in place; a temporary name that cannot be removed is left over, not a failure of
    // the move.
    Files.deleteIfExists(from);
    return true;
  }

  /**
   * Makes a rename in {@code file}'s directory durable; best effort, as not every platform can sync
   * one.
   */
  public static void syncDirectory(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null) return;
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Directories cannot be opened or synced on some platforms (Windows); the data itself is
      // synced.
    }
  }

  /**
   * Closes {@code channel} (if not null) and deletes {@code temp} (if present), trying both even if
   * the first fails, so an abandoned write leaves nothing behind.
   *
   * @throws IOException the deletion's failure, with the close's as suppressed, or the close's
   *     alone
   */
  public static void closeAndDelete(Closeable channel, Path temp) throws IOException {
    IOException failure = null;
    try {
      if (channel != null) channel.close();
    } catch (IOException e) {
      failure = e;
    }
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      if (failure != null) e.addSuppressed(failure);
      failure = e;
    }
    if (failure != null) throw failure;
  }
}
