package dev.amalgam.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Partial outputs left by interrupted runs: a temporary name {@code .<name>.amalgam-partial-<pid>-
 * <start>-<random>} ({@link AtomicFiles#hiddenSibling}) records the process that writes it (its pid
 * and start time, in hex seconds), so a partial whose process is gone is recognised as stale and
 * removed: by every merge and conversion for its own target ({@link #removeStaleOf}), and under a
 * whole tree by {@code amalgam clean} ({@link #clean}). Partials without an owner (written by
 * earlier versions) count as stale when untouched for {@link #UNOWNED_AGE}.
 *
 * <p>A replacement ({@code --force}) first sets the previous output aside as {@code
 * .<name>.amalgam-old-<owner>}, renames the new one into place, then deletes the old one. If the
 * run is killed between the two renames, the target is missing and the previous output sits under
 * that name: it is renamed back to the target (nothing is lost), or deleted if a complete output
 * has taken its place since.
 */
public final class StalePartials {
  /** Marker of the temporary names of outputs being written. */
  static final String MARKER = ".amalgam-partial-";

  /** Marker of a previous output set aside while a replacement is renamed into place. */
  static final String SET_ASIDE_MARKER = ".amalgam-old-";

  /** Age after which a partial that names no owner is stale. */
  public static final Duration UNOWNED_AGE = Duration.ofHours(1);

  private StalePartials() {}

  /**
   * One stale partial: its path, the bytes it holds, and where it was renamed back to if it was a
   * previous output set aside by an interrupted replacement (then nothing was deleted).
   */
  public record Partial(Path path, long bytes, Optional<Path> restoredTo) {
    /** A partial that was (or would be) deleted. */
    public Partial(Path path, long bytes) {
      this(path, bytes, Optional.empty());
    }
  }

  /** The owner tag of temporary names: this process's pid and start time. */
  static String ownerTag() {
    ProcessHandle self = ProcessHandle.current();
    long start = self.info().startInstant().map(Instant::getEpochSecond).orElse(0L);
    return Long.toHexString(self.pid()) + "-" + Long.toHexString(start);
  }

  /** Whether a file name is one of our partial outputs, or a previous output set aside. */
  public static boolean isPartialName(String name) {
    return name.startsWith(".") && (name.contains(MARKER) || name.contains(SET_ASIDE_MARKER));
  }

  /**
   * Whether the partial at {@code path} is stale: its owner process is gone (or a different process
   * now has its pid), or it names no owner and is older than {@link #UNOWNED_AGE}.
   */
  public static boolean isStale(Path path) {
    String name = path.getFileName().toString();
    String marker = name.contains(MARKER) ? MARKER : SET_ASIDE_MARKER;
    String[] parts = name.substring(name.indexOf(marker) + marker.length()).split("-");
    if (parts.length >= 3) {
      try {
        long pid = Long.parseLong(parts[0], 16);
        long start = Long.parseLong(parts[1], 16);
        Optional<ProcessHandle> owner = ProcessHandle.of(pid);
        if (owner.isEmpty() || !owner.get().isAlive()) return true;
        if (start == 0) return false;
        Optional<Instant> started = owner.get().info().startInstant();
        // A live process with another start time reuses the pid of the one that wrote the partial.
        return started.isPresent() && Math.abs(started.get().getEpochSecond() - start) > 2;
      } catch (NumberFormatException e) {
        // not an owner tag: an earlier version's random suffix
      }
    }
    try {
      Instant modified = Files.getLastModifiedTime(path, LinkOption.NOFOLLOW_LINKS).toInstant();
      return modified.isBefore(Instant.now().minus(UNOWNED_AGE));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Removes the stale partial outputs of {@code target} ({@code .<name>.amalgam-partial-*} beside
   * it).
   *
   * @return what was removed
   * @throws IOException if a stale partial cannot be removed, naming it
   */
  public static List<Partial> removeStaleOf(Path target) throws IOException {
    Path absolute = target.toAbsolutePath().normalize();
    Path dir = absolute.getParent();
    Path name = absolute.getFileName();
    List<Partial> removed = new ArrayList<>();
    if (dir == null || name == null || !Files.isDirectory(dir)) return removed;
    String prefix = "." + name + MARKER;
    String setAside = "." + name + SET_ASIDE_MARKER;
    try (DirectoryStream<Path> siblings =
        Files.newDirectoryStream(
            dir,
            p -> {
              String n = p.getFileName().toString();
              return n.startsWith(prefix) || n.startsWith(setAside);
            })) {
      for (Path p : siblings) {
        if (isStale(p)) removed.add(resolve(p, false));
      }
    }
    return removed;
  }

  /**
   * Deletes a stale partial, or renames a set-aside previous output back to its target when the
   * target is missing (unless {@code dryRun}, which only reports).
   */
  private static Partial resolve(Path p, boolean dryRun) throws IOException {
    String n = p.getFileName().toString();
    int at = n.indexOf(SET_ASIDE_MARKER);
    if (at > 1 && !n.contains(MARKER)) {
      Path target = p.resolveSibling(n.substring(1, at));
      if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        long bytes = size(p);
        if (!dryRun) {
          try {
            Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
          } catch (IOException e) {
            throw new IOException(
                "cannot put the previous output "
                    + p
                    + " back as "
                    + target
                    + ": "
                    + e.getMessage(),
                e);
          }
        }
        return new Partial(p, bytes, Optional.of(target));
      }
    }
    return dryRun ? new Partial(p, size(p)) : delete(p);
  }

  /**
   * Finds the stale partial outputs under {@code root} and, unless {@code dryRun}, removes them.
   *
   * @return the stale partials found (removed unless dry run)
   * @throws IOException if the tree cannot be read or a partial cannot be removed, naming it
   */
  public static List<Partial> clean(Path root, boolean dryRun) throws IOException {
    if (!Files.isDirectory(root)) throw new IOException(root + ": not a directory");
    List<Path> found = new ArrayList<>();
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            if (!dir.equals(root) && isPartialName(dir.getFileName().toString())) {
              found.add(dir);
              return FileVisitResult.SKIP_SUBTREE;
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (isPartialName(file.getFileName().toString())) found.add(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) {
            return FileVisitResult.CONTINUE; // unreadable corners are not ours to clean
          }
        });
    List<Partial> stale = new ArrayList<>();
    for (Path p : found) {
      if (!isStale(p)) continue;
      stale.add(resolve(p, dryRun));
    }
    return stale;
  }

  private static Partial delete(Path path) throws IOException {
    long bytes = size(path);
    try (Stream<Path> walk = Files.walk(path)) {
      List<Path> all = walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList();
      for (Path p : all) Files.deleteIfExists(p);
    } catch (IOException | UncheckedIOException e) {
      throw new IOException(
          "cannot remove the stale partial output " + path + ": " + e.getMessage(), e);
    }
    return new Partial(path, bytes);
  }

  private static long size(Path path) throws IOException {
    if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      return Files.size(path);
    }
    try (Stream<Path> walk = Files.walk(path)) {
      return walk.filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
