package dev.amalgam.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * An output model directory built under a hidden temporary name beside its target and renamed into
 * place only when complete, so that a failed or interrupted merge never leaves a directory that
 * looks like a model. A shutdown hook removes the temporary directory if the JVM is stopped
 * (Ctrl-C) mid-merge.
 */
public final class ModelOutput implements AutoCloseable {
  private final Path target;
  private final Path temporary;
  private final boolean overwrite;
  private final Thread cleanupHook;
  private boolean committed;

  private ModelOutput(Path target, Path temporary, boolean overwrite) {
    this.target = target;
    this.temporary = temporary;
    this.overwrite = overwrite;
    this.cleanupHook = new Thread(this::deleteAtExit, "amalgam-cleanup");
  }

  /**
   * Checks the target and creates the temporary directory.
   *
   * @throws FileAlreadyExistsException if the target exists and {@code overwrite} is false
   */
  public static ModelOutput create(Path target, boolean overwrite) throws IOException {
    Path absolute = target.toAbsolutePath().normalize();
    if (Files.exists(absolute) && !overwrite && !isEmptyDirectory(absolute)) {
      throw new FileAlreadyExistsException(
          absolute.toString(),
          null,
          "output already exists; choose another directory or pass --force to replace it");
    }
    if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
      throw new FileAlreadyExistsException(
          absolute.toString(), null, "output exists and is not a directory");
    }
    Path parent = absolute.getParent();
    Files.createDirectories(parent);
    // Debris of interrupted runs on the same target goes first, so disk use stays bounded.
    StalePartials.removeStaleOf(absolute);
    Path tmp = AtomicFiles.hiddenSibling(absolute, "partial");
    Files.createDirectory(tmp);
    ModelOutput out = new ModelOutput(absolute, tmp, overwrite);
    Runtime.getRuntime().addShutdownHook(out.cleanupHook);
    return out;
  }

  /** Where files are written until {@link #commit()}. */
  public Path directory() {
    return temporary;
  }

  /** The final location. */
  public Path target() {
    return target;
  }

  /**
   * Moves the finished directory into place, replacing an old one if allowed. Synchronized with the
   * shutdown hook, so that a stop signal never deletes files of a directory being renamed.
   */
  public synchronized void commit() throws IOException {
    Path old = null;
    if (Files.exists(target)) {
      if (!overwrite && !isEmptyDirectory(target)) {
        throw new FileAlreadyExistsException(
            target.toString(), null, "appeared while merging; not replaced");
      }
      old = AtomicFiles.hiddenSibling(target, "old");
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
    }
    try {
      AtomicFiles.moveReplacing(temporary, target);
    } catch (IOException e) {
      if (old != null)
        Files.move(old, target, StandardCopyOption.ATOMIC_MOVE); // put the old model back
      throw e;
    }
    committed = true;
    if (old != null) deleteQuietly(old);
  }

  /** The shutdown hook: removes the temporary directory unless the commit renamed it. */
  private synchronized void deleteAtExit() {
    if (!committed) deleteQuietly(temporary);
  }

  /** Removes the temporary directory unless committed. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(cleanupHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or will run; it deletes the directory
    }
    if (!committed) deleteQuietly(temporary);
  }

  private static boolean isEmptyDirectory(Path p) throws IOException {
    if (!Files.isDirectory(p)) return false;
    try (Stream<Path> s = Files.list(p)) {
      return s.findAny().isEmpty();
    }
  }

  /**
   * Deletes a tree, retrying if a file appears while deleting (the writer may still be closing a
   * shard).
   */
  static void deleteQuietly(Path root) {
    for (int attempt = 0; attempt < 5 && Files.exists(root); attempt++) {
      try (Stream<Path> walk = Files.walk(root)) {
        walk.sorted(Comparator.reverseOrder())
            .forEach(
                p -> {
                  try {
                    Files.deleteIfExists(p);
                  } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                    // retried by the outer loop
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                });
      } catch (IOException | UncheckedIOException e) {
        // retry
      }
    }
  }
}
