package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.io.AtomicFiles;
import dev.amalgam.io.Checksums;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The content-keyed cache of a sweep. Every merge and every evaluation is stored under a key that
 * hashes what determines it (the merge configuration with the inputs' SHA-256 in place of their
 * paths, the output type, the evaluation settings, the task data's SHA-256 and the code version),
 * so a rerun skips what is done and a changed input or setting is never mistaken for a finished
 * step. On shared storage the cache serves every Slurm task.
 *
 * <pre>
 * hashes/KEY.json     the SHA-256 of an input file or folder, by path, size and modification time
 * merges/KEY.gguf     a merged model (deleted once evaluated unless kept)
 * evals/KEY/          an evaluation: metrics.json, predictions.jsonl, report.md (amalgam eval's)
 * status/KEY.json     the last run of a point: done, or failed with its message
 * </pre>
 *
 * Every entry is written under a temporary name and renamed into place, so a killed run leaves no
 * half-written entry behind.
 */
public final class SweepCache {
  static final ObjectMapper JSON = new ObjectMapper();
  private final Path root;

  /** A cache in {@code root} (created on first write). */
  public SweepCache(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** The cache folder. */
  public Path root() {
    return root;
  }

  /** Where the merged model of {@code key} is stored. */
  public Path merge(String key) {
    return root.resolve("merges").resolve(key + ".gguf");
  }

  /** Where the evaluation of {@code key} is stored (the folder exists once it is complete). */
  public Path evaluation(String key) {
    return root.resolve("evals").resolve(key);
  }

  /** Where the status of a point's last run is stored. */
  public Path status(String pointKey) {
    return root.resolve("status").resolve(pointKey + ".json");
  }

  /** The code version in every key: the jar's version, or {@code development build}. */
  public static String codeVersion() {
    String v = SweepCache.class.getPackage().getImplementationVersion();
    return v != null ? v : "development build";
  }

  /** The hex SHA-256 of a text's UTF-8 bytes. */
  public static String sha256(String text) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(d.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The SHA-256 of a file, or of a folder (its files' relative paths and hashes, sorted), memoized
   * under the path, size and modification time so an unchanged multi-gigabyte model is hashed once.
   */
  public String hash(Path path) {
    Path p = path.toAbsolutePath().normalize();
    try {
      if (Files.isDirectory(p)) {
        StringBuilder listing = new StringBuilder("folder\n");
        try (Stream<Path> walk = Files.walk(p)) {
          for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
            listing.append(p.relativize(f)).append(' ').append(hash(f)).append('\n');
          }
        }
        return sha256(listing.toString());
      }
      long size = Files.size(p);
      long modified = Files.getLastModifiedTime(p).toMillis();
      Path memo = root.resolve("hashes").resolve(sha256(p.toString()) + ".json");
      if (Files.isRegularFile(memo)) {
        JsonNode n = JSON.readTree(memo.toFile());
        if (n != null
            && n.path("size").asLong(-1) == size
            && n.path("modified").asLong(-1) == modified) {
          return n.path("sha256").asText();
        }
      }
      String hash = Checksums.sha256(p);
      ObjectNode n = JSON.createObjectNode();
      n.put("path", p.toString());
      n.put("size", size);
      n.put("modified", modified);
      n.put("sha256", hash);
      write(memo, n.toString() + "\n");
      return hash;
    } catch (IOException e) {
      throw new SweepException(
          p + ": cannot hash the input: " + e.getMessage(), FailureReason.ENVIRONMENT, e);
    }
  }

  /** Writes a small file atomically: a temporary sibling, renamed over the target. */
  public static void write(Path target, String text) throws IOException {
    Files.createDirectories(target.toAbsolutePath().getParent());
    Path tmp = AtomicFiles.hiddenSibling(target, "partial");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      AtomicFiles.moveReplacing(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Deletes what killed runs left behind: the temporary files and folders ({@code
   * .NAME.amalgam-partial-*}) of merges and evaluations untouched for longer than {@code
   * idleMillis}. A step still being written touches its file all the time, so it is never taken for
   * abandoned; a merged model of a killed run would otherwise hold its full size on disk.
   *
   * @return the bytes freed
   */
  public long removeAbandoned(long idleMillis) throws IOException {
    long freed = 0;
    long now = System.currentTimeMillis();
    for (String folder : List.of("merges", "evals", "status", "hashes")) {
      Path dir = root.resolve(folder);
      if (!Files.isDirectory(dir)) continue;
      List<Path> entries;
      try (Stream<Path> list = Files.list(dir)) {
        entries = list.filter(p -> p.getFileName().toString().startsWith(".")).toList();
      }
      for (Path p : entries) {
        if (!p.getFileName().toString().contains(".amalgam-partial-")) continue;
        if (now - Files.getLastModifiedTime(p).toMillis() < idleMillis) continue;
        freed += Files.isRegularFile(p) ? Files.size(p) : 0;
        deleteTree(p);
      }
    }
    return freed;
  }

  /** Deletes a file or folder tree if present. */
  static void deleteTree(Path path) throws IOException {
    if (!Files.exists(path)) return;
    List<Path> all;
    try (Stream<Path> walk = Files.walk(path)) {
      all = walk.sorted(java.util.Comparator.reverseOrder()).toList();
    }
    for (Path p : all) Files.deleteIfExists(p);
  }
}
