package dev.amalgam.eval.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.text.CsvReader.MalformedCsvException;
import dev.amalgam.eval.text.CsvReader.Table;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CsvReader}: RFC 4180 quoting, line numbers, and one clear error per broken rule. */
class CsvReaderTest {
  @Test
  void quotedFieldsKeepCommasLineBreaksAndQuotes() throws IOException {
    String text =
        "\uFEFFid,text,note\r\n"
            + "1,\"a, b\",plain\r\n"
            + "\r\n"
            + "2,\"line one\r\nline two\",\"say \"\"hi\"\"\"\n"
            + "3,,\"\"\n"
            + "4,last,no newline at end";
    Table table = CsvReader.parse(text, "t.csv");
    assertEquals(List.of("id", "text", "note"), table.header());
    assertEquals(4, table.rows().size());
    assertEquals(List.of("1", "a, b", "plain"), table.rows().get(0).fields());
    assertEquals(2, table.rows().get(0).line());
    assertEquals(List.of("2", "line one\r\nline two", "say \"hi\""), table.rows().get(1).fields());
    assertEquals(4, table.rows().get(1).line());
    assertEquals(List.of("3", "", ""), table.rows().get(2).fields());
    assertEquals(6, table.rows().get(2).line());
    assertEquals(7, table.rows().get(3).line());
    assertEquals(List.of("a, b", "line one\r\nline two", "", "last"), table.column("text"));
    IllegalArgumentException missing =
        assertThrows(IllegalArgumentException.class, () -> table.column("summary"));
    assertEquals("t.csv: no column 'summary' (columns: [id, text, note])", missing.getMessage());
  }

  @Test
  void brokenRulesNameLineAndField() {
    assertError(
        "a,b\n1,2\n3,4,5\n", "t.csv: line 3: the record has 3 fields but the header has 2", 3, 0);
    assertError(
        "a,b\n1,2\n3\n", "t.csv: line 3: the record has 1 fields but the header has 2", 3, 0);
    assertError(
        "a,b\n1,\"open\nstill open,2\n",
        "t.csv: line 2, field 2: quoted field is not closed before the end of the file (record of line 2)",
        2,
        2);
    assertError(
        "a,b\n1,x\"y\n",
        "t.csv: line 2, field 2: a quote inside an unquoted field (RFC 4180: quote the whole field, double inner"
            + " quotes)",
        2,
        2);
    assertError(
        "a,b\n\"x\nz\"y,2\n",
        "t.csv: line 3, field 1: unexpected 'y' after the closing quote (expected a comma or a line break)",
        3,
        1);
    assertError("a,b,a\n", "t.csv: line 1, field 3: duplicate column name 'a'", 1, 3);
    assertError("", "t.csv: line 1: no header row (the file is empty)", 1, 0);
  }

  private static void assertError(String text, String message, long line, int field) {
    MalformedCsvException e =
        assertThrows(MalformedCsvException.class, () -> CsvReader.parse(text, "t.csv"));
    assertEquals(message, e.getMessage());
    assertEquals(line, e.line());
    assertEquals(field, e.field());
    assertEquals("t.csv", e.source());
  }

  @Test
  void readsFilesAndRejectsInvalidUtf8(@TempDir Path dir) throws IOException {
    Path good = dir.resolve("good.csv");
    Files.writeString(good, "h\n\u00e9\n");
    assertEquals(List.of("\u00e9"), CsvReader.read(good).column("h"));
    Path bad = dir.resolve("bad.csv");
    Files.write(bad, new byte[] {'h', '\n', (byte) 0xC3, '\n'});
    MalformedCsvException e = assertThrows(MalformedCsvException.class, () -> CsvReader.read(bad));
    assertEquals(bad + ": the file is not valid UTF-8", e.getMessage());
  }

  /** The repository's MTS-Dialog slice: the data set's own bytes, cut after 40 records. */
  @Test
  void readsTheRepositorySlice() throws IOException {
    Table slice =
        CsvReader.read(
            TestAssets.mtsDialogSlice()
                .resolve("mts-dialog/Main-Dataset/MTS-Dialog-ValidationSet.csv"));
    assertEquals(List.of("ID", "section_header", "section_text", "dialogue"), slice.header());
    assertEquals(40, slice.rows().size());
    assertEquals("39", slice.rows().get(39).get(0));
    assertTrue(slice.column("dialogue").stream().allMatch(d -> d.contains("Doctor:")));
  }

  /** Every CSV of the external data sets parses with the row counts their READMEs give. */
  @Test
  void readsTheExternalDataSets() throws IOException {
    Path data = TestAssets.externalData("");
    Table mts =
        CsvReader.read(
            data.resolve(
                "mts-dialog/Correlation-Study/MTS-Dialog-Automatic-Summaries-ValidationSet.csv"));
    assertEquals(List.of("ID", "Dialogue", "Reference Summary", "Automatic Summary"), mts.header());
    assertEquals(400, mts.rows().size());
    Path main = data.resolve("mts-dialog/Main-Dataset");
    assertEquals(100, CsvReader.read(main.resolve("MTS-Dialog-ValidationSet.csv")).rows().size());
    assertEquals(1201, CsvReader.read(main.resolve("MTS-Dialog-TrainingSet.csv")).rows().size());
    assertEquals(
        400,
        CsvReader.read(data.resolve("golden/mts_dialog_val_autosummaries_metrics.csv"))
            .rows()
            .size());
    try (var files = Files.walk(data)) {
      for (Path csv : files.filter(p -> p.toString().endsWith(".csv")).toList()) {
        Table table = CsvReader.read(csv);
        assertTrue(table.header().size() > 1, csv.toString());
      }
    }
  }
}
