package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufTensorData;
import dev.amalgam.io.safetensors.SafetensorsFile;
import dev.amalgam.io.safetensors.TensorData;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs that change while they are read: every change gives an {@link InputChangedException}
 * naming the file, never a crash, and the read buffers are pooled.
 */
class InputChangeTest {
  @TempDir Path dir;

  /** A safetensors file with one F32 tensor "v" whose element i holds i. */
  private Path f32(String name, int n) throws IOException {
    String json =
        "{\"v\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + 4L * n + "]}}";
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header);
    for (int i = 0; i < n; i++) b.putInt(i);
    Path f = dir.resolve(name);
    Files.write(f, b.array());
    return f;
  }

  @Test
  void aFileTruncatedAfterOpeningFailsTheReadNamingTheFile() throws IOException {
    Path f = f32("t.safetensors", 100_000);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorData d = st.data("v");
      assertEquals(5, d.slice(5, 1).getInt(0));
      try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
        raf.setLength(raf.length() / 2);
      }
      InputChangedException e =
          assertThrows(InputChangedException.class, () -> d.slice(90_000, 1000));
      assertEquals(f, e.file());
      assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("tensor 'v'"), e.getMessage());
      assertTrue(e.isBadInput());
      assertEquals(5, d.slice(5, 1).getInt(0), "what is still there reads");
      assertThrows(InputChangedException.class, st::checkUnchanged);
    }
  }

  @Test
  void aGgufTruncatedAfterOpeningFailsRawAndDecodedReads() throws IOException {
    Path f = dir.resolve("m.gguf");
    Files.copy(dev.amalgam.testing.TestAssets.stories260K(), f);
    try (GgufFile g = GgufFile.open(f)) {
      String last = g.tensors().get(g.tensors().size() - 1).name();
      GgufTensorData d = g.data(last);
      try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
        raf.setLength(g.dataStart() + 16);
      }
      long n = d.info().elementCount();
      assertThrows(InputChangedException.class, () -> d.raw(0, n));
      ByteBuffer out = ByteBuffer.allocateDirect(4 * (int) n).order(ByteOrder.LITTLE_ENDIAN);
      InputChangedException e =
          assertThrows(InputChangedException.class, () -> d.readF32(0, n, out));
      assertTrue(e.getMessage().contains(last), e.getMessage());
    }
  }

  @Test
  void checkUnchangedSeesSizeTimeReplacementAndDeletion() throws IOException {
    Path f = f32("c.safetensors", 1000);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      st.checkUnchanged();
      Files.write(f, new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);
      assertTrue(
          assertThrows(InputChangedException.class, st::checkUnchanged)
              .getMessage()
              .contains("size went from"));
    }
    Path g = f32("d.safetensors", 1000);
    try (SafetensorsFile st = SafetensorsFile.open(g)) {
      // same size, same bytes, but written again: the modification time says so
      Files.setLastModifiedTime(
          g, FileTime.fromMillis(Files.getLastModifiedTime(g).toMillis() + 5000));
      assertTrue(
          assertThrows(InputChangedException.class, st::checkUnchanged)
              .getMessage()
              .contains("modification time"));
    }
    Path h = f32("e.safetensors", 1000);
    Path other = f32("other.safetensors", 1000);
    try (SafetensorsFile st = SafetensorsFile.open(h)) {
      Files.setLastModifiedTime(other, Files.getLastModifiedTime(h));
      Files.move(other, h, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      assertTrue(
          assertThrows(InputChangedException.class, st::checkUnchanged)
              .getMessage()
              .contains("replaced"));
    }
    Path k = f32("k.safetensors", 1000);
    try (SafetensorsFile st = SafetensorsFile.open(k)) {
      Files.delete(k);
      assertTrue(
          assertThrows(InputChangedException.class, st::checkUnchanged)
              .getMessage()
              .contains("deleted or moved"));
    }
  }

  @Test
  void readBuffersAreReusedAcrossTensorsAndBounded() throws IOException {
    Path f = f32("p.safetensors", 1 << 16);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorData d = st.data("v");
      d.slice(0, 1 << 16);
      assertEquals(1, d.heldBuffers());
      d.release();
      assertEquals(0, d.heldBuffers());
    }
    // The pool is the process's: other tests' buffers may be in it, so only the rules are checked.
    ByteBuffer a = ReadBuffers.take(100_000);
    assertTrue(a.capacity() >= 1 << 17 && Integer.bitCount(a.capacity()) == 1, "" + a.capacity());
    assertEquals(100_000, a.limit());
    assertEquals(0, a.position());
    assertEquals(0, a.alignmentOffset(0, 4096), "page aligned");
    ReadBuffers.give(a);
    ByteBuffer b = ReadBuffers.take(a.capacity());
    assertEquals(a.capacity(), b.capacity(), "a free buffer of the right size is taken back");
    ReadBuffers.give(b);
    assertEquals(1 << 16, ReadBuffers.capacityFor(1));
    assertEquals(1 << 20, ReadBuffers.capacityFor((1 << 20) - 1));
    assertEquals(1 << 20, ReadBuffers.capacityFor(1 << 20));
    assertEquals((1 << 30) + 1, ReadBuffers.capacityFor((1 << 30) + 1));
    assertThrows(IllegalArgumentException.class, () -> ReadBuffers.take(-1));
  }

  @Test
  void threadsReadingOneTensorGetTheirOwnBuffers() throws Exception {
    int n = 1 << 18;
    Path f = f32("threads.safetensors", n);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorData d = st.data("v");
      Thread[] threads = new Thread[4];
      Throwable[] failure = new Throwable[1];
      for (int t = 0; t < threads.length; t++) {
        final int id = t;
        threads[t] =
            new Thread(
                () -> {
                  try {
                    java.util.Random r = new java.util.Random(id);
                    for (int i = 0; i < 2000; i++) {
                      int first = r.nextInt(n - 512);
                      int count = 1 + r.nextInt(512);
                      ByteBuffer s = d.slice(first, count);
                      for (int k = 0; k < count; k += 17) {
                        if (s.getInt(4 * k) != first + k) {
                          throw new AssertionError("thread " + id + " read a foreign range");
                        }
                      }
                    }
                  } catch (Throwable e) {
                    synchronized (failure) {
                      failure[0] = e;
                    }
                  }
                });
        threads[t].start();
      }
      for (Thread t : threads) t.join();
      if (failure[0] != null) throw new AssertionError(failure[0]);
      assertEquals(4, d.heldBuffers());
      d.release();
      assertEquals(0, d.heldBuffers());
    }
  }

  @Test
  void noInputIsMappedAnyMore() throws IOException {
    Path f = f32("m.safetensors", 1 << 20);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      st.data("v").slice(0, 1 << 20);
      String maps = Files.readString(Path.of("/proc/self/maps"));
      assertFalse(maps.contains(f.toString()), "the input must not be memory-mapped");
    } catch (java.nio.file.NoSuchFileException notLinux) {
      // no /proc: nothing to look at
    }
  }
}
