package dev.amalgam.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.FormatException;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.function.Executable;

/** Builders for hand-made safetensors files and random tensors. */
final class Fixtures {
  private Fixtures() {}

  /** Writes the 8-byte length {@code declaredLength}, then {@code header}, then {@code data}. */
  static Path raw(Path file, long declaredLength, byte[] header, byte[] data) throws IOException {
    ByteBuffer b =
        ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declaredLength).put(header).put(data);
    Files.write(file, b.array());
    return file;
  }

  /**
   * A file whose header is {@code json} (N = its UTF-8 length) followed by {@code dataBytes} bytes
   * 0, 1, 2, ….
   */
  static Path raw(Path file, String json, int dataBytes) throws IOException {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    return raw(file, h.length, h, pattern(dataBytes));
  }

  static byte[] pattern(int n) {
    byte[] d = new byte[n];
    for (int i = 0; i < n; i++) d[i] = (byte) i;
    return d;
  }

  /**
   * Asserts that {@code open} fails with {@code reason}, the message naming the file and {@code
   * tensor}.
   */
  static FormatException expectFormat(
      Path file, FormatException.Reason reason, String tensor, Executable open) {
    FormatException e = assertThrows(FormatException.class, open);
    assertEquals(reason, e.reason(), e.getMessage());
    assertTrue(
        e.getMessage().contains(file.getFileName().toString()),
        "message should name the file: " + e.getMessage());
    if (tensor != null) {
      assertEquals(tensor, e.tensor().orElse(null), e.getMessage());
      assertTrue(
          e.getMessage().contains("'" + tensor + "'"),
          "message should name the tensor: " + e.getMessage());
    }
    return e;
  }

  static TensorInfo info(String name, DType dtype, long... shape) {
    return new TensorInfo(name, dtype, shape);
  }

  /** Random bytes for each tensor, keyed by name. */
  static Map<String, byte[]> randomData(List<TensorInfo> tensors, Random random) {
    Map<String, byte[]> data = new LinkedHashMap<>();
    for (TensorInfo t : tensors) {
      byte[] b = new byte[Math.toIntExact(t.byteSize())];
      random.nextBytes(b);
      data.put(t.name(), b);
    }
    return data;
  }

  /** An I/O step of a writer. */
  interface IoConsumer<T> {
    void accept(T value) throws IOException;
  }

  /** Writes every tensor through begin/write in random pieces, mixing heap and direct buffers. */
  static void writeAll(
      List<TensorInfo> tensors,
      Map<String, byte[]> data,
      Random random,
      IoConsumer<String> begin,
      IoConsumer<ByteBuffer> write)
      throws IOException {
    for (TensorInfo t : tensors) {
      begin.accept(t.name());
      byte[] bytes = data.get(t.name());
      int pos = 0;
      while (pos < bytes.length) {
        int len =
            random.nextBoolean() ? bytes.length - pos : 1 + random.nextInt(bytes.length - pos);
        ByteBuffer b;
        if (random.nextBoolean()) {
          b = ByteBuffer.allocateDirect(len).put(bytes, pos, len).flip();
        } else {
          // Offset inside a larger array, to check that the writer honours position and limit.
          byte[] padded = new byte[len + 6];
          System.arraycopy(bytes, pos, padded, 3, len);
          b = ByteBuffer.wrap(padded, 3, len);
        }
        write.accept(b);
        assertEquals(0, b.remaining(), "write must consume the buffer");
        pos += len;
      }
    }
  }

  /** All bytes of a slice. */
  static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  /** Every byte of every tensor, read back through slices of the whole tensor. */
  static void assertContent(SafetensorsFile file, Map<String, byte[]> expected) throws IOException {
    for (TensorInfo t : file.tensors()) {
      ByteBuffer s = file.data(t.name()).slice(0, t.elementCount());
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          expected.get(t.name()), bytes(s), t.name());
    }
  }
}
