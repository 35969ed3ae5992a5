package dev.amalgam.eval.harness;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a CSV file with a header row into {@link Row}s: the seam the loaders use, so the shared strict reader
 * {@code dev.amalgam.eval.text.CsvReader} (being written on branch eval-rouge) can replace the parser below without
 * touching a loader.
 *
 * <p>Interim parser, by hand only until that reader lands: RFC 4180 (comma separator, {@code "} quoting with
 * {@code ""} escapes, quoted fields may hold line breaks, CRLF or LF record ends), a leading UTF-8 BOM dropped,
 * every record as wide as the header, strict UTF-8. Violations name the file, the line and the rule.
 */
final class CsvRows {
  private CsvRows() {}

  /**
   * One record.
   *
   * @param line the 1-based line where the record starts
   * @param cells column name to value
   */
  record Row(int line, Map<String, String> cells) {
    /** The value of a column that must be present and non-blank. */
    String require(Path file, String column) {
      String v = cells.get(column);
      if (v == null) throw DataException.at(file, line, column, "missing column");
      if (v.isBlank()) throw DataException.at(file, line, column, "empty value");
      return v;
    }

    /** The value of a column, empty when blank. */
    String get(String column) {
      String v = cells.get(column);
      return v == null ? "" : v;
    }
  }

  /**
   * Reads every record after the header.
   *
   * @param required columns the header must have
   * @throws DataException for a missing file, malformed CSV, a ragged record or a missing column
   */
  static List<Row> read(Path file, String... required) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
    } catch (java.nio.file.NoSuchFileException e) {
      throw new DataException(file + ": no such file");
    } catch (CharacterCodingException e) {
      throw new DataException(file + ": not valid UTF-8");
    } catch (IOException e) {
      throw new DataException(file + ": cannot read: " + e.getMessage(), e);
    }
    if (text.startsWith("\uFEFF")) text = text.substring(1);
    List<List<String>> records = new ArrayList<>();
    List<Integer> lines = new ArrayList<>();
    parse(file, text, records, lines);
    if (records.isEmpty()) throw new DataException(file + ": empty CSV file (no header row)");
    List<String> header = records.get(0);
    Map<String, Integer> seen = new HashMap<>();
    for (String h : header) {
      if (seen.put(h, 1) != null) throw DataException.at(file, 1, h, "duplicate column in the header");
    }
    for (String column : required) {
      if (!seen.containsKey(column)) {
        throw DataException.at(file, 1, column, "required column missing from the header " + header);
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int r = 1; r < records.size(); r++) {
      List<String> record = records.get(r);
      if (record.size() != header.size()) {
        throw DataException.at(file, lines.get(r), null,
            "record has " + record.size() + " fields, the header has " + header.size());
      }
      Map<String, String> cells = new LinkedHashMap<>();
      for (int c = 0; c < header.size(); c++) cells.put(header.get(c), record.get(c));
      rows.add(new Row(lines.get(r), cells));
    }
    return rows;
  }

  private static void parse(Path file, String text, List<List<String>> records, List<Integer> lines) {
    int line = 1;
    int i = 0;
    int n = text.length();
    while (i < n) {
      int recordLine = line;
      List<String> record = new ArrayList<>();
      StringBuilder field = new StringBuilder();
      boolean endOfRecord = false;
      while (!endOfRecord) {
        field.setLength(0);
        if (i < n && text.charAt(i) == '"') {
          int quoteLine = line;
          i++;
          while (true) {
            if (i >= n) throw DataException.at(file, quoteLine, null, "quoted field not closed before the end of file");
            char c = text.charAt(i);
            if (c == '"') {
              if (i + 1 < n && text.charAt(i + 1) == '"') {
                field.append('"');
                i += 2;
              } else {
                i++;
                break;
              }
            } else {
              if (c == '\n') line++;
              field.append(c);
              i++;
            }
          }
          if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n' && text.charAt(i) != '\r') {
            throw DataException.at(file, line, null, "text after a closing quote (a quote inside a quoted field must be"
                + " doubled)");
          }
        } else {
          while (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n' && text.charAt(i) != '\r') {
            if (text.charAt(i) == '"') throw DataException.at(file, line, null, "quote inside an unquoted field");
            field.append(text.charAt(i++));
          }
        }
        record.add(field.toString());
        if (i >= n) {
          endOfRecord = true;
        } else if (text.charAt(i) == ',') {
          i++;
        } else if (text.charAt(i) == '\r') {
          if (i + 1 >= n || text.charAt(i + 1) != '\n') throw DataException.at(file, line, null, "bare CR outside quotes");
          i += 2;
          line++;
          endOfRecord = true;
        } else {
          i++;
          line++;
          endOfRecord = true;
        }
      }
      records.add(record);
      lines.add(recordLine);
    }
  }
}
