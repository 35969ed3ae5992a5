package dev.amalgam.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 2.4 GB F32 tensor in a sparse file: nothing but the header and a few marked elements is ever
 * written, and only small slices around them are read, so the test costs no disk.
 */
class LargeTensorTest {
  @TempDir Path dir;

  static final long N = 600_000_000L; // 2.4 GB of F32
  static final long DATA_START = 128; // 8 + N padded
  static final long GIB = 1L << 30;

  /** Element indices whose int bits hold their own index; every other element reads as 0. */
  static final long[] MARKED = {
    0,
    1,
    2,
    GIB / 4 - 2,
    GIB / 4 - 1,
    GIB / 4,
    GIB / 4 + 1, // 1 GiB window boundary
    (2 * GIB - DATA_START) / 4 - 1,
    (2 * GIB - DATA_START) / 4, // file offset 2^31
    2 * GIB / 4 - 2,
    2 * GIB / 4 - 1,
    2 * GIB / 4,
    2 * GIB / 4 + 1, // 2 GiB window boundary
    Integer.MAX_VALUE / 4 - 1, // last element of the largest slice from 0
    N - 2,
    N - 1
  };

  @Test
  void readsATensorLargerThanTwoGigabytesThroughSlices() throws IOException {
    Path f = dir.resolve("big.safetensors");
    assumeTrue(
        Files.getFileStore(dir).getUsableSpace() > 4 * GIB,
        "needs room in case the file system is not sparse");
    String json =
        "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + N + "],\"data_offsets\":[0," + 4 * N + "]}}";
    byte[] header = Arrays.copyOf(json.getBytes(StandardCharsets.UTF_8), (int) DATA_START - 8);
    Arrays.fill(header, json.length(), header.length, (byte) ' ');
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(DATA_START + 4 * N);
      ByteBuffer b =
          ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
      raf.write(b.array());
      raf.write(header);
      for (long i : MARKED) {
        raf.seek(DATA_START + 4 * i);
        raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) i).array());
      }
    }

    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorData d = st.data("big");
      assertEquals(N, d.info().elementCount());
      assertEquals(DATA_START, st.dataOffset("big"));
      for (long i : MARKED) {
        assertEquals((int) i, d.slice(i, 1).getInt(0), "element " + i);
      }
      // Slices that straddle the 1 GiB window boundary, file offset 2^31 and the 2 GiB window
      // boundary.
      checkSlice(d, GIB / 4 - 40, 80);
      checkSlice(d, (2 * GIB - DATA_START) / 4 - 40, 100);
      checkSlice(d, 2 * GIB / 4 - 3, 6);
      checkSlice(d, N - 50, 50);
      // The largest slice there is would need a 2 GiB read buffer: its size is right, and one
      // element more is refused before anything is read.
      long max = d.maxSliceElements();
      assertEquals(Integer.MAX_VALUE / 4, max);
      assertThrows(IllegalArgumentException.class, () -> d.slice(0, max + 1));
      assertThrows(IndexOutOfBoundsException.class, () -> d.slice(N - 1, 2));
      // A 64 MiB slice whose last element is the last of the largest slice from 0.
      long count = 16L << 20;
      ByteBuffer tail = d.slice(max - count, count);
      assertEquals((int) (max - 1), tail.getInt((int) (4 * (count - 1))));
      assertEquals(1, d.heldBuffers());
      d.release();
      assertEquals(0, d.heldBuffers());
      checkSlice(d, 2 * GIB / 4 - 3, 6);
    }
  }

  private static void checkSlice(TensorData d, long first, int count) throws IOException {
    ByteBuffer s = d.slice(first, count);
    assertEquals(4 * count, s.remaining());
    for (int k = 0; k < count; k++)
      assertEquals(expected(first + k), s.getInt(4 * k), "element " + (first + k));
  }

  private static int expected(long i) {
    for (long m : MARKED) if (m == i) return (int) i;
    return 0;
  }
}
