package dev.amalgam.fuzzing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where fuzz tests put their inputs for parsers that take a path: one temporary directory per JVM
 * with a folder per fuzz test class, rewritten for every input (a fuzzing run executes its test
 * hundreds of thousands of times, and a fresh directory each time would cost more than the parse),
 * removed when the JVM exits.
 */
public final class FuzzFiles {
  private static Path directory;

  private FuzzFiles() {}

  /** Writes {@code data} to {@code name} in the folder of {@code owner} and returns the file. */
  public static synchronized Path write(Class<?> owner, String name, byte[] data)
      throws IOException {
    Path folder = directory().resolve(owner.getSimpleName());
    Files.createDirectories(folder);
    Path file = folder.resolve(name);
    Files.write(file, data);
    return file;
  }

  private static Path directory() throws IOException {
    if (directory == null) {
      directory = Files.createTempDirectory("amalgam-fuzz");
      Path created = directory;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(created)));
    }
    return directory;
  }

  private static void delete(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(FuzzFiles::deleteQuietly);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // Best effort at exit: a leftover temporary file is harmless.
    }
  }
}
