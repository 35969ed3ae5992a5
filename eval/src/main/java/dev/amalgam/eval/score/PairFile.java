package dev.amalgam.eval.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.eval.text.CsvReader;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Predictions and references read from one file: CSV (with a header row) or JSON Lines (one object
 * per line), the format chosen by the extension ({@code .csv}; {@code .jsonl} or {@code .json}).
 *
 * @param predictions the prediction of each example, in file order
 * @param references the reference at the same index
 */
public record PairFile(List<String> predictions, List<String> references) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Copies the lists. */
  public PairFile {
    predictions = List.copyOf(predictions);
    references = List.copyOf(references);
  }

  /** A bad file (bad input); the message names the file, the line and the field. */
  public static final class BadPairFileException extends IOException implements Failure {
    private static final long serialVersionUID = 1L;

    BadPairFileException(String message) {
      super(message);
    }

    /** Always {@link FailureReason#BAD_INPUT}. */
    @Override
    public FailureReason failureReason() {
      return FailureReason.BAD_INPUT;
    }
  }

  /**
   * Reads the two fields of every example.
   *
   * @throws BadPairFileException for an unknown extension, a missing field, a value that is not a
   *     string, a line that is not a JSON object, or a malformed CSV (named by file and line)
   * @throws IOException if the file cannot be read
   */
  public static PairFile read(Path file, String predictionField, String referenceField)
      throws IOException {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (!Files.isRegularFile(file)) throw new java.nio.file.NoSuchFileException(file.toString());
    if (name.endsWith(".csv")) return readCsv(file, predictionField, referenceField);
    if (name.endsWith(".jsonl") || name.endsWith(".json"))
      return readJsonl(file, predictionField, referenceField);
    throw new BadPairFileException(file + ": unknown data format (expected a .csv or .jsonl file)");
  }

  private static PairFile readCsv(Path file, String predictionField, String referenceField)
      throws IOException {
    CsvReader.Table table;
    try {
      table = CsvReader.read(file);
    } catch (CsvReader.MalformedCsvException e) {
      throw new BadPairFileException(e.getMessage());
    }
    int p;
    int r;
    try {
      p = table.columnIndex(predictionField);
      r = table.columnIndex(referenceField);
    } catch (IllegalArgumentException e) {
      throw new BadPairFileException(e.getMessage());
    }
    List<String> predictions = new ArrayList<>();
    List<String> references = new ArrayList<>();
    for (CsvReader.Row row : table.rows()) {
      predictions.add(row.get(p));
      references.add(row.get(r));
    }
    return new PairFile(predictions, references);
  }

  private static PairFile readJsonl(Path file, String predictionField, String referenceField)
      throws IOException {
    List<String> predictions = new ArrayList<>();
    List<String> references = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      long lineNumber = 0;
      for (String line; (line = in.readLine()) != null; ) {
        lineNumber++;
        if (line.isBlank()) continue;
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (IOException e) {
          throw new BadPairFileException(
              file
                  + ": line "
                  + lineNumber
                  + ": not valid JSON ("
                  + e.getMessage().lines().findFirst().orElse("")
                  + ")");
        }
        if (node == null || !node.isObject()) {
          throw new BadPairFileException(
              file + ": line " + lineNumber + ": expected a JSON object");
        }
        predictions.add(text(node, predictionField, file, lineNumber));
        references.add(text(node, referenceField, file, lineNumber));
      }
    } catch (java.nio.charset.MalformedInputException e) {
      throw new BadPairFileException(file + ": not UTF-8 text");
    }
    return new PairFile(predictions, references);
  }

  private static String text(JsonNode node, String field, Path file, long line)
      throws BadPairFileException {
    JsonNode value = node.get(field);
    if (value == null)
      throw new BadPairFileException(file + ": line " + line + ": no field '" + field + "'");
    if (!value.isTextual()) {
      throw new BadPairFileException(
          file
              + ": line "
              + line
              + ": field '"
              + field
              + "' is "
              + value.getNodeType().toString().toLowerCase(Locale.ROOT)
              + ", not a string");
    }
    return value.textValue();
  }
}
