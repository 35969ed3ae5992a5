package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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

  @Test
  void mappedRegionSlicesAcrossWindowsAndReleases() throws IOException {
    Path file = tmp.resolve("data.bin");
    byte[] bytes = new byte[1000];
    for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (i * 7);
    Files.write(file, bytes);
    MappedFile mapped = MappedFile.open(file, f -> f);
    try {
      // a region of 900 bytes from offset 50, 64-byte windows, units of 4 bytes
      MappedRegion region = new MappedRegion(mapped, 50, 900, 64, 4);
      for (long start : new long[] {0, 60, 128, 300, 896}) {
        long length = Math.min(100, 900 - start);
        ByteBuffer b = region.slice(start, length);
        assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
        assertTrue(b.isReadOnly());
        assertEquals(length, b.remaining());
        for (int i = 0; i < length; i++)
          assertEquals(bytes[(int) (50 + start + i)], b.get(i), "byte " + (start + i));
      }
      assertTrue(region.cachedMappings() > 0);
      region.release();
      assertEquals(0, region.cachedMappings());
      assertEquals(bytes[50], region.slice(0, 1).get(0), "slices map afresh after a release");
    } finally {
      mapped.close(() -> {});
    }
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
      assertEquals(1000, c.size());
    }
  }
}
