package dev.amalgam.eval.text;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A strict RFC 4180 CSV reader for evaluation data (references, predictions, the golden metric
 * files): a header row, then records of exactly as many fields. Quoted fields may hold commas, line
 * breaks and doubled quotes ({@code ""}); field text is kept exactly, including the line breaks
 * inside quotes.
 *
 * <p>Hand-written because the CLI ships no CSV library (jackson-dataformat-csv is not a dependency)
 * and because silently "repairing" a broken file would score the wrong text. Rules beyond RFC 4180:
 * records end at CRLF, LF or a lone CR (as Python's csv module); empty lines between records are
 * skipped; a UTF-8 byte-order mark is dropped. Everything else that breaks the format is an error
 * naming the file, the line and the field: a quote inside an unquoted field, text after a closing
 * quote, a quoted field still open at the end of the file, a record with the wrong number of
 * fields, a duplicate column name, bytes that are not UTF-8.
 */
public final class CsvReader {

  private CsvReader() {}

  /**
   * Reads a UTF-8 CSV file with a header row.
   *
   * @throws MalformedCsvException if the file breaks a rule (the message names file, line and
   *     field)
   * @throws IOException if the file cannot be read
   */
  public static Table read(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (CharacterCodingException e) {
      throw new MalformedCsvException(file.toString(), 0, 0, "the file is not valid UTF-8");
    }
    return parse(text, file.toString());
  }

  /**
   * Parses CSV text with a header row.
   *
   * @param source the name used in error messages, usually the file name
   * @throws MalformedCsvException if the text breaks a rule
   */
  public static Table parse(String text, String source) throws MalformedCsvException {
    Objects.requireNonNull(source, "source");
    int start = !text.isEmpty() && text.charAt(0) == '\uFEFF' ? 1 : 0;
    List<Row> records = new Parser(text, start, source).records();
    if (records.isEmpty()) {
      throw new MalformedCsvException(source, 1, 0, "no header row (the file is empty)");
    }
    List<String> header = records.get(0).fields();
    for (int i = 0; i < header.size(); i++) {
      if (header.indexOf(header.get(i)) != i) {
        throw new MalformedCsvException(
            source, records.get(0).line(), i + 1, "duplicate column name '" + header.get(i) + "'");
      }
    }
    List<Row> rows = records.subList(1, records.size());
    for (Row row : rows) {
      if (row.fields().size() != header.size()) {
        throw new MalformedCsvException(
            source,
            row.line(),
            0,
            "the record has "
                + row.fields().size()
                + " fields but the header has "
                + header.size());
      }
    }
    return new Table(source, header, List.copyOf(rows));
  }

  /**
   * A parsed CSV file.
   *
   * @param source the file name (for messages)
   * @param header the column names, in file order
   * @param rows the data records, each with as many fields as the header
   */
  public record Table(String source, List<String> header, List<Row> rows) {
    /** Copies the lists so the table is immutable. */
    public Table {
      header = List.copyOf(header);
      rows = List.copyOf(rows);
    }

    /**
     * The 0-based index of a column.
     *
     * @throws IllegalArgumentException naming the file and the columns it has, if there is no such
     *     column
     */
    public int columnIndex(String name) {
      int index = header.indexOf(name);
      if (index < 0) {
        throw new IllegalArgumentException(
            source + ": no column '" + name + "' (columns: " + header + ")");
      }
      return index;
    }

    /** All values of one column, in row order (see {@link #columnIndex} for a missing column). */
    public List<String> column(String name) {
      int index = columnIndex(name);
      List<String> values = new ArrayList<>(rows.size());
      for (Row row : rows) {
        values.add(row.fields().get(index));
      }
      return Collections.unmodifiableList(values);
    }
  }

  /**
   * One record.
   *
   * @param line the 1-based line of the file where the record starts (for messages about its
   *     values)
   * @param fields the field values
   */
  public record Row(long line, List<String> fields) {
    /** Copies the list so the row is immutable. */
    public Row {
      fields = List.copyOf(fields);
    }

    /** The value of the field at a 0-based column index. */
    public String get(int column) {
      return fields.get(column);
    }
  }

  /** The CSV text breaks a rule (bad input); the message is {@code file: line L, field F: rule}. */
  public static final class MalformedCsvException extends IOException implements Failure {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final long line;
    private final int field;

    /**
     * Creates the exception.
     *
     * @param source the file name
     * @param line the 1-based line, or 0 if the problem concerns the whole file
     * @param field the 1-based field number, or 0 if the problem concerns the whole record
     * @param rule what is wrong
     */
    public MalformedCsvException(String source, long line, int field, String rule) {
      super(
          source
              + (line > 0 ? ": line " + line : "")
              + (field > 0 ? ", field " + field : "")
              + ": "
              + rule);
      this.source = source;
      this.line = line;
      this.field = field;
    }

    /** The file name. */
    public String source() {
      return source;
    }

    /** The 1-based line, or 0 for the whole file. */
    public long line() {
      return line;
    }

    /** The 1-based field number, or 0 for the whole record. */
    public int field() {
      return field;
    }

    /** Always {@link FailureReason#BAD_INPUT}. */
    @Override
    public FailureReason failureReason() {
      return FailureReason.BAD_INPUT;
    }
  }

  /** A single pass over the text; tracks the physical line for messages. */
  private static final class Parser {
    private final String text;
    private final String source;
    private int pos;
    private long line = 1;

    Parser(String text, int start, String source) {
      this.text = text;
      this.pos = start;
      this.source = source;
    }

    List<Row> records() throws MalformedCsvException {
      List<Row> records = new ArrayList<>();
      int n = text.length();
      while (pos < n) {
        if (atLineBreak()) { // an empty line
          skipLineBreak();
          continue;
        }
        long recordLine = line;
        List<String> fields = new ArrayList<>();
        while (true) {
          fields.add(
              pos < n && text.charAt(pos) == '"'
                  ? quotedField(recordLine, fields.size() + 1)
                  : plainField(fields.size() + 1));
          if (pos >= n) {
            break;
          }
          if (text.charAt(pos) == ',') {
            pos++;
            continue;
          }
          skipLineBreak(); // a field ends only at a comma, a line break or the end
          break;
        }
        records.add(new Row(recordLine, fields));
      }
      return records;
    }

    private boolean atLineBreak() {
      char c = text.charAt(pos);
      return c == '\n' || c == '\r';
    }

    private void skipLineBreak() {
      if (text.charAt(pos) == '\r' && pos + 1 < text.length() && text.charAt(pos + 1) == '\n') {
        pos++;
      }
      pos++;
      line++;
    }

    private String plainField(int field) throws MalformedCsvException {
      int begin = pos;
      int n = text.length();
      while (pos < n) {
        char c = text.charAt(pos);
        if (c == ',' || c == '\n' || c == '\r') {
          break;
        }
        if (c == '"') {
          throw new MalformedCsvException(
              source,
              line,
              field,
              "a quote inside an unquoted field (RFC 4180: quote the whole field, double inner quotes)");
        }
        pos++;
      }
      return text.substring(begin, pos);
    }

    private String quotedField(long recordLine, int field) throws MalformedCsvException {
      long openLine = line;
      pos++; // opening quote
      StringBuilder value = new StringBuilder();
      int n = text.length();
      while (true) {
        if (pos >= n) {
          throw new MalformedCsvException(
              source,
              openLine,
              field,
              "quoted field is not closed before the end of the file (record of line "
                  + recordLine
                  + ")");
        }
        char c = text.charAt(pos);
        if (c == '"') {
          if (pos + 1 < n && text.charAt(pos + 1) == '"') {
            value.append('"');
            pos += 2;
            continue;
          }
          pos++; // closing quote
          if (pos < n) {
            char next = text.charAt(pos);
            if (next != ',' && next != '\n' && next != '\r') {
              throw new MalformedCsvException(
                  source,
                  line,
                  field,
                  "unexpected '"
                      + next
                      + "' after the closing quote (expected a comma or a line break)");
            }
          }
          return value.toString();
        }
        if (c == '\n' || (c == '\r' && !(pos + 1 < n && text.charAt(pos + 1) == '\n'))) {
          line++;
        }
        value.append(c);
        pos++;
      }
    }
  }
}
