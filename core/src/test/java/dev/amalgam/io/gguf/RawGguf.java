package dev.amalgam.io.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.FormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes GGUF bytes field by field, so that tests can build valid files and break exactly one rule.
 */
final class RawGguf {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** Magic, version and the two counts. */
  static RawGguf start(int version, long tensors, long kvs) {
    return new RawGguf().u32(0x46554747).u32(version).u64(tensors).u64(kvs);
  }

  private RawGguf le(int bytes, long v) {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
    out.write(b.array(), 0, bytes);
    return this;
  }

  RawGguf u8(int v) {
    return le(1, v);
  }

  RawGguf u16(int v) {
    return le(2, v);
  }

  RawGguf u32(long v) {
    return le(4, v);
  }

  RawGguf u64(long v) {
    return le(8, v);
  }

  RawGguf f32(float v) {
    return u32(Float.floatToRawIntBits(v));
  }

  RawGguf f64(double v) {
    return u64(Double.doubleToRawLongBits(v));
  }

  RawGguf bytes(byte[] b) {
    out.write(b, 0, b.length);
    return this;
  }

  /** A GGUF string: u64 length and the raw bytes. */
  RawGguf str(byte[] b) {
    return u64(b.length).bytes(b);
  }

  RawGguf str(String s) {
    return str(s.getBytes(StandardCharsets.UTF_8));
  }

  RawGguf kvU32(String key, long v) {
    return str(key).u32(GgufValueType.UINT32.id()).u32(v);
  }

  RawGguf kvString(String key, String v) {
    return str(key).u32(GgufValueType.STRING.id()).str(v);
  }

  /** A tensor info: name, n_dims, ne, type id, offset. */
  RawGguf tensor(String name, int typeId, long offset, long... ne) {
    str(name).u32(ne.length);
    for (long d : ne) u64(d);
    return u32(typeId).u64(offset);
  }

  /** Zero bytes up to the next multiple of {@code alignment}. */
  RawGguf pad(int alignment) {
    while (out.size() % alignment != 0) out.write(0);
    return this;
  }

  RawGguf zeros(int n) {
    for (int i = 0; i < n; i++) out.write(0);
    return this;
  }

  int size() {
    return out.size();
  }

  byte[] toBytes() {
    return out.toByteArray();
  }

  Path write(Path file) throws IOException {
    Files.write(file, out.toByteArray());
    return file;
  }

  /**
   * Asserts that opening {@code file} fails with {@code reason}, the message naming the file,
   * {@code tensor} (if not null) and containing {@code fragment}.
   */
  static FormatException expectFormat(
      Path file, FormatException.Reason reason, String tensor, String fragment) {
    FormatException e = assertThrows(FormatException.class, () -> GgufFile.open(file).close());
    assertEquals(reason, e.reason(), e.getMessage());
    assertTrue(
        e.getMessage().startsWith(file.toString() + ": "), "names the file: " + e.getMessage());
    if (tensor != null) {
      assertEquals(tensor, e.tensor().orElse(null), e.getMessage());
      assertTrue(
          e.getMessage().contains("tensor '" + tensor + "'"),
          "names the tensor: " + e.getMessage());
    }
    assertTrue(
        e.getMessage().contains(fragment),
        () -> "message should contain '" + fragment + "': " + e.getMessage());
    return e;
  }
}
