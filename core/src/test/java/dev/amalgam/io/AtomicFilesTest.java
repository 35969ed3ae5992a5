package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared file helpers: atomic moves and windowed mappings. */
class AtomicFilesTest {
  @TempDir Path tmp;

  @Test
  void moveIfAbsentMovesOnlyWhenTheTargetIsFree() throws IOException {
    Path from = Files.writeString(tmp.resolve(".x.partial"), "new");
    Path to = tmp.resolve("x");
    assertTrue(AtomicFiles.moveIfAbsent(from, to));
    assertEquals("new", Files.readString(to));
    assertFalse(Files.exists(from));

    Path again = Files.writeString(tmp.resolve(".x.partial2"), "newer");
    assertFalse(AtomicFiles.moveIfAbsent(again, to));
    assertEquals("new", Files.readString(to), "an existing target is never replaced");
    assertEquals("newer", Files.readString(again), "the source is left as it is");
  }

  @Test
  void moveReplacingReplaces() throws IOException {
    Path from = Files.writeString(tmp.resolve(".y.partial"), "new");
    Path to = Files.writeString(tmp.resolve("y"), "old");
    AtomicFiles.moveReplacing(from, to);
    assertEquals("new", Files.readString(to));
    assertFalse(Files.exists(from));
  }
}
