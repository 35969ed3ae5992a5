package dev.amalgam.eval.harness;

import dev.amalgam.eval.text.CsvReader;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loaders' view of a CSV file: the shared strict {@link CsvReader} (RFC 4180) underneath,
 * records as column name to value with their line, and checks for the columns a task needs; every
 * failure is a {@link DataException} naming the file, line and field.
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
   * @throws DataException for a missing file, malformed CSV (CsvReader's message: file, line,
   *     field, rule) or a missing column
   */
  static List<Row> read(Path file, String... required) {
    CsvReader.Table table;
    try {
      table = CsvReader.read(file);
    } catch (NoSuchFileException e) {
      throw new DataException(file + ": no such file");
    } catch (CsvReader.MalformedCsvException e) {
      throw new DataException(e.getMessage(), e);
    } catch (IOException e) {
      throw new DataException(file + ": cannot read: " + e.getMessage(), e);
    }
    List<String> header = table.header();
    for (String column : required) {
      if (!header.contains(column)) {
        throw DataException.at(
            file, 1, column, "required column missing from the header " + header);
      }
    }
    List<Row> rows = new ArrayList<>();
    for (CsvReader.Row record : table.rows()) {
      Map<String, String> cells = new LinkedHashMap<>();
      for (int c = 0; c < header.size(); c++) cells.put(header.get(c), record.get(c));
      rows.add(new Row(Math.toIntExact(record.line()), cells));
    }
    return rows;
  }
}
