package dev.amalgam.eval.harness;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads JSON Lines and JSON files for the loaders, with errors that name the file, line and field.
 */
final class JsonLines {
  static final ObjectMapper JSON = new ObjectMapper();

  private JsonLines() {}

  /**
   * One JSON object of a JSON Lines file.
   *
   * @param file the file it came from
   * @param number the 1-based line number
   * @param node the object
   */
  record Line(Path file, int number, JsonNode node) {
    /** A field that must be a string (non-blank). */
    String text(String field) {
      return JsonLines.text(file, "line " + number, node, field);
    }

    /** A field that must be a JSON object. */
    JsonNode object(String field) {
      JsonNode v = node.get(field);
      if (v == null || !v.isObject())
        throw DataException.at(file, number, field, "missing or not a JSON object");
      return v;
    }
  }

  /** Every non-blank line, each of which must be a JSON object. */
  static List<Line> read(Path file) {
    String text = readUtf8(file);
    List<Line> out = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) continue;
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        throw DataException.at(file, i + 1, null, "not valid JSON: " + e.getOriginalMessage());
      }
      if (node == null || !node.isObject())
        throw DataException.at(file, i + 1, null, "not a JSON object");
      out.add(new Line(file, i + 1, node));
    }
    return out;
  }

  /** A whole file that must hold one JSON object. */
  static JsonNode readObject(Path file) {
    JsonNode node;
    try {
      node = JSON.readTree(readUtf8(file));
    } catch (JsonProcessingException e) {
      throw new DataException(
          file
              + ": line "
              + e.getLocation().getLineNr()
              + ": not valid JSON: "
              + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) throw new DataException(file + ": not a JSON object");
    return node;
  }

  /**
   * A string field that must be present and non-blank; {@code where} names the row (line or id).
   */
  static String text(Path file, String where, JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull())
      throw new DataException(file + ": " + where + ", field '" + field + "': missing");
    if (!v.isTextual())
      throw new DataException(file + ": " + where + ", field '" + field + "': not a string");
    if (v.asText().isBlank())
      throw new DataException(file + ": " + where + ", field '" + field + "': empty value");
    return v.asText();
  }

  private static String readUtf8(Path file) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
          .toString();
    } catch (NoSuchFileException e) {
      throw new DataException(file + ": no such file");
    } catch (CharacterCodingException e) {
      throw new DataException(file + ": not valid UTF-8");
    } catch (IOException e) {
      throw new DataException(file + ": cannot read: " + e.getMessage(), e);
    }
  }
}
