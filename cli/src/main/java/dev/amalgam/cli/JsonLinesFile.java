package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.AtomicFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntFunction;

/**
 * Per-example output files ({@code --per-example}): JSON Lines written to a hidden temporary file,
 * then renamed.
 */
final class JsonLinesFile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonLinesFile() {}

  /**
   * Writes {@code count} lines, line i being {@code line.apply(i)}, to {@code target}; a failure
   * leaves no file.
   *
   * @throws Main.InvalidInputException if the target's folder does not exist
   */
  static void write(Path target, int count, IntFunction<ObjectNode> line) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir))
      throw new Main.InvalidInputException("no such directory: " + dir);
    Path temp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
    BufferedWriter w = null;
    try {
      w = Files.newBufferedWriter(temp, StandardCharsets.UTF_8);
      for (int i = 0; i < count; i++) {
        w.write(JSON.writeValueAsString(line.apply(i)));
        w.write('\n');
      }
      w.close();
      w = null;
      AtomicFiles.moveReplacing(temp, target);
      AtomicFiles.syncDirectory(target);
    } catch (IOException | RuntimeException e) {
      AtomicFiles.closeAndDelete(w, temp);
      throw e;
    }
  }

  /** A fresh object node for a line. */
  static ObjectNode object() {
    return JSON.createObjectNode();
  }
}
