package dev.amalgam.eval.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loaders' CSV view: quoting, multi-line fields, and errors with file, line and field. */
class CsvRowsTest {
  @Test
  void readsQuotedMultiLineFieldsAndReportsRaggedRows(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("a.csv");
    Files.writeString(f, "\uFEFFid,text\r\n1,\"two\r\nlines, \"\"quoted\"\"\"\r\n2,plain\n");
    List<CsvRows.Row> rows = CsvRows.read(f, "id", "text");
    assertEquals(2, rows.size());
    assertEquals("two\r\nlines, \"quoted\"", rows.get(0).get("text"));
    assertEquals(2, rows.get(0).line());
    assertEquals(4, rows.get(1).line());
    Files.writeString(f, "id,text\n1,a\n2\n");
    DataException e = assertThrows(DataException.class, () -> CsvRows.read(f));
    assertEquals(f + ": line 3: the record has 1 fields but the header has 2", e.getMessage());
    Files.writeString(f, "id,text\n1,\"open\n");
    assertThrows(DataException.class, () -> CsvRows.read(f));
    Files.writeString(f, "id,text\n1,a\"b\n");
    assertThrows(DataException.class, () -> CsvRows.read(f));
    Files.writeString(f, "id,text\n1, \n");
    DataException empty =
        assertThrows(DataException.class, () -> CsvRows.read(f).get(0).require(f, "text"));
    assertEquals(f + ": line 2, field 'text': empty value", empty.getMessage());
    DataException missing = assertThrows(DataException.class, () -> CsvRows.read(f, "note"));
    assertEquals(
        f + ": line 1, field 'note': required column missing from the header [id, text]",
        missing.getMessage());
  }
}
