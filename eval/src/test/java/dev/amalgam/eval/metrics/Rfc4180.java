package dev.amalgam.eval.metrics;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal RFC 4180 reader for the shared CSV files in tests: quoted fields hold commas, CRLFs and
 * doubled quotes.
 */
final class Rfc4180 {

  private Rfc4180() {}

  /** The rows of {@code file} as header-to-value maps; a UTF-8 byte order mark is dropped. */
  static List<Map<String, String>> readWithHeader(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    List<List<String>> rows = parse(text, file);
    List<String> header = rows.get(0);
    List<Map<String, String>> out = new ArrayList<>();
    for (int r = 1; r < rows.size(); r++) {
      List<String> row = rows.get(r);
      if (row.size() != header.size()) {
        throw new IOException(
            file
                + " record "
                + (r + 1)
                + ": "
                + row.size()
                + " fields, header has "
                + header.size());
      }
      Map<String, String> map = new HashMap<>();
      for (int c = 0; c < header.size(); c++) {
        map.put(header.get(c), row.get(c));
      }
      out.add(map);
    }
    return out;
  }

  private static List<List<String>> parse(String text, Path file) throws IOException {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int i = 0;
    int n = text.length();
    boolean quoted = false;
    boolean fieldStarted = false;
    while (i < n) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < n && text.charAt(i + 1) == '"') {
            field.append('"');
            i += 2;
            continue;
          }
          quoted = false;
        } else {
          field.append(c);
        }
        i++;
        continue;
      }
      if (c == '"' && field.length() == 0) {
        quoted = true;
        fieldStarted = true;
      } else if (c == ',') {
        row.add(field.toString());
        field.setLength(0);
        fieldStarted = false;
      } else if (c == '\r' || c == '\n') {
        if (c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
          i++;
        }
        row.add(field.toString());
        field.setLength(0);
        fieldStarted = false;
        rows.add(row);
        row = new ArrayList<>();
      } else {
        field.append(c);
        fieldStarted = true;
      }
      i++;
    }
    if (quoted) {
      throw new IOException(file + ": unterminated quoted field at end of file");
    }
    if (fieldStarted || field.length() > 0 || !row.isEmpty()) {
      row.add(field.toString());
      rows.add(row);
    }
    return rows;
  }
}
