package dev.amalgam.io.gguf;

import static dev.amalgam.io.FormatException.Reason.BAD_ALIGNMENT;
import static dev.amalgam.io.FormatException.Reason.BAD_MAGIC;
import static dev.amalgam.io.FormatException.Reason.BAD_NAME;
import static dev.amalgam.io.FormatException.Reason.BAD_OFFSETS;
import static dev.amalgam.io.FormatException.Reason.BAD_SHAPE;
import static dev.amalgam.io.FormatException.Reason.BAD_VALUE;
import static dev.amalgam.io.FormatException.Reason.BAD_VALUE_TYPE;
import static dev.amalgam.io.FormatException.Reason.COUNT_TOO_LARGE;
import static dev.amalgam.io.FormatException.Reason.DATA_PAST_END;
import static dev.amalgam.io.FormatException.Reason.DUPLICATE_NAME;
import static dev.amalgam.io.FormatException.Reason.HEADER_NOT_UTF8;
import static dev.amalgam.io.FormatException.Reason.PARTIAL_BLOCK;
import static dev.amalgam.io.FormatException.Reason.SIZE_OVERFLOW;
import static dev.amalgam.io.FormatException.Reason.TRUNCATED;
import static dev.amalgam.io.FormatException.Reason.UNKNOWN_DTYPE;
import static dev.amalgam.io.FormatException.Reason.UNSUPPORTED_VERSION;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.FormatException;
import dev.amalgam.tensor.F16;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GgufFileTest {
  @TempDir Path dir;

  private static final int F32 = 0;
  private static final int F16_ID = 1;
  private static final int Q8_0 = 8;

  /**
   * Two keys, then tensor a (F32 [8], 32 bytes at 0) and b (F16 [4, 2], 16 bytes at 32), 32-byte
   * aligned.
   */
  static RawGguf valid() {
    return kvs(RawGguf.start(3, 2, 2))
        .tensor("a", F32, 0, 8)
        .tensor("b", F16_ID, 32, 4, 2)
        .pad(32)
        .zeros(64);
  }

  private static RawGguf kvs(RawGguf r) {
    return r.kvString("general.architecture", "llama").kvU32("llama.block_count", 1);
  }

  private static Arguments bad(
      String description,
      Supplier<RawGguf> file,
      FormatException.Reason reason,
      String tensor,
      String fragment) {
    return Arguments.of(description, file, reason, tensor, fragment);
  }

  static Stream<Arguments> corruptFiles() {
    byte[] badUtf8 = {'k', (byte) 0xC3, '('};
    return Stream.of(
        bad(
            "bad magic",
            () -> new RawGguf().bytes("GGUG".getBytes()).u32(3).u64(0).u64(0),
            BAD_MAGIC,
            null,
            "invalid magic"),
        bad(
            "file shorter than the magic",
            () -> new RawGguf().bytes("GG".getBytes()),
            BAD_MAGIC,
            null,
            "too short"),
        bad("version 1", () -> RawGguf.start(1, 0, 0), UNSUPPORTED_VERSION, null, "version 1"),
        bad("version 0", () -> RawGguf.start(0, 0, 0), UNSUPPORTED_VERSION, null, "version 0"),
        bad("future version", () -> RawGguf.start(4, 0, 0), UNSUPPORTED_VERSION, null, "version 4"),
        bad(
            "big-endian",
            () -> new RawGguf().u32(0x46554747).u32(0x03000000).u64(0).u64(0),
            UNSUPPORTED_VERSION,
            null,
            "big-endian GGUF not supported"),
        bad(
            "file ends inside the counts",
            () -> new RawGguf().u32(0x46554747).u32(3).u32(0),
            TRUNCATED,
            null,
            "while reading the tensor count"),
        bad(
            "file ends inside a value",
            () ->
                RawGguf.start(3, 0, 1)
                    .str("general.architecture")
                    .u32(8)
                    .u64(5)
                    .bytes("ll".getBytes()),
            TRUNCATED,
            null,
            "'general.architecture'"),
        bad(
            "file ends inside the tensor infos",
            () -> kvs(RawGguf.start(3, 1, 2)).str("a").u32(1).u32(8),
            TRUNCATED,
            null,
            "ne[0] of tensor 'a'"),
        bad(
            "key length past end",
            () -> RawGguf.start(3, 0, 1).u64(1_000_000).bytes("abc".getBytes()).zeros(20),
            TRUNCATED,
            null,
            "key #0 has length 1000000"),
        bad(
            "string value length past end",
            () -> RawGguf.start(3, 0, 1).str("general.name").u32(8).u64(-2).zeros(20),
            TRUNCATED,
            null,
            "key 'general.name' has length 18446744073709551614"),
        bad(
            "array count past end",
            () ->
                RawGguf.start(3, 0, 1)
                    .str("tokenizer.ggml.scores")
                    .u32(9)
                    .u32(6)
                    .u64(1L << 40)
                    .zeros(64),
            TRUNCATED,
            null,
            "key 'tokenizer.ggml.scores': array of 1099511627776"),
        bad(
            "string array count past end",
            () ->
                RawGguf.start(3, 0, 1)
                    .str("tokenizer.ggml.tokens")
                    .u32(9)
                    .u32(8)
                    .u64(100)
                    .str("a")
                    .str("b"),
            TRUNCATED,
            null,
            "key 'tokenizer.ggml.tokens': array of 100"),
        bad(
            "invalid UTF-8 in a key",
            () -> RawGguf.start(3, 0, 1).str(badUtf8).u32(4).u32(1),
            HEADER_NOT_UTF8,
            null,
            "key #0"),
        bad(
            "invalid UTF-8 in a string",
            () -> RawGguf.start(3, 0, 1).str("general.name").u32(8).str(badUtf8),
            HEADER_NOT_UTF8,
            null,
            "key 'general.name'"),
        bad(
            "invalid UTF-8 in a string array",
            () ->
                RawGguf.start(3, 0, 1)
                    .str("tokenizer.ggml.tokens")
                    .u32(9)
                    .u32(8)
                    .u64(2)
                    .str("ok")
                    .str(badUtf8),
            HEADER_NOT_UTF8,
            null,
            "element 1 of key 'tokenizer.ggml.tokens'"),
        bad(
            "invalid UTF-8 in a tensor name",
            () ->
                kvs(RawGguf.start(3, 1, 2))
                    .str(badUtf8)
                    .u32(1)
                    .u64(8)
                    .u32(0)
                    .u64(0)
                    .pad(32)
                    .zeros(32),
            HEADER_NOT_UTF8,
            null,
            "tensor #0"),
        bad(
            "empty key",
            () -> RawGguf.start(3, 0, 1).str("").u32(4).u32(1).zeros(8),
            BAD_NAME,
            null,
            "key #0 is empty"),
        bad(
            "duplicate key",
            () ->
                RawGguf.start(3, 0, 2).kvU32("llama.block_count", 1).kvU32("llama.block_count", 2),
            DUPLICATE_NAME,
            null,
            "duplicate key 'llama.block_count'"),
        bad(
            "unknown value type",
            () -> RawGguf.start(3, 0, 1).str("x.y").u32(13).u32(0).zeros(8),
            BAD_VALUE_TYPE,
            null,
            "key 'x.y' has unknown value type id 13"),
        bad(
            "unknown array element type",
            () -> RawGguf.start(3, 0, 1).str("x.y").u32(9).u32(99).u64(0),
            BAD_VALUE_TYPE,
            null,
            "key 'x.y' is an array of unknown value type id 99"),
        bad(
            "nested array",
            () -> RawGguf.start(3, 0, 1).str("x.y").u32(9).u32(9).u64(1).u32(4).u64(1).u32(7),
            BAD_VALUE_TYPE,
            null,
            "nested arrays"),
        bad(
            "BOOL value 2",
            () -> RawGguf.start(3, 0, 1).str("tokenizer.ggml.add_bos_token").u32(7).u8(2).zeros(8),
            BAD_VALUE,
            null,
            "key 'tokenizer.ggml.add_bos_token': BOOL value 2 is neither 0 nor 1"),
        bad(
            "BOOL array element 255",
            () ->
                RawGguf.start(3, 0, 1)
                    .str("x.flags")
                    .u32(9)
                    .u32(7)
                    .u64(3)
                    .u8(1)
                    .u8(0)
                    .u8(255)
                    .zeros(8),
            BAD_VALUE,
            null,
            "key 'x.flags': BOOL value 255"),
        bad(
            "alignment not UINT32",
            () -> RawGguf.start(3, 0, 1).str("general.alignment").u32(10).u64(32),
            BAD_ALIGNMENT,
            null,
            "has type UINT64, expected UINT32"),
        bad(
            "alignment not a power of two",
            () -> RawGguf.start(3, 0, 1).kvU32("general.alignment", 48),
            BAD_ALIGNMENT,
            null,
            "alignment 48"),
        bad(
            "alignment zero",
            () -> RawGguf.start(3, 0, 1).kvU32("general.alignment", 0),
            BAD_ALIGNMENT,
            null,
            "alignment 0 (key 'general.alignment') is not a non-zero power of two"),
        bad(
            "duplicate tensor name",
            () ->
                kvs(RawGguf.start(3, 2, 2))
                    .tensor("a", F32, 0, 8)
                    .tensor("a", F32, 32, 8)
                    .pad(32)
                    .zeros(64),
            DUPLICATE_NAME,
            "a",
            "duplicate tensor name"),
        bad(
            "tensor name of 64 bytes",
            () -> kvs(RawGguf.start(3, 1, 2)).tensor("n".repeat(64), F32, 0, 8).pad(32).zeros(32),
            BAD_NAME,
            null,
            "the name of tensor #0 is 64 bytes long, the limit is 63"),
        bad(
            "zero dimensions",
            () -> kvs(RawGguf.start(3, 1, 2)).tensor("a", F32, 0).pad(32).zeros(32),
            BAD_SHAPE,
            "a",
            "has 0 dimensions"),
        bad(
            "five dimensions",
            () -> kvs(RawGguf.start(3, 1, 2)).tensor("a", F32, 0, 1, 1, 1, 1, 8).pad(32).zeros(32),
            BAD_SHAPE,
            "a",
            "has 5 dimensions"),
        bad(
            "negative dimension",
            () -> kvs(RawGguf.start(3, 1, 2)).tensor("a", F32, 0, 8, -1).pad(32).zeros(32),
            BAD_SHAPE,
            "a",
            "ne[1] = -1 is negative"),
        bad(
            "removed type id",
            () -> kvs(RawGguf.start(3, 1, 2)).tensor("a", 4, 0, 32).pad(32).zeros(32),
            UNKNOWN_DTYPE,
            "a",
            "unknown or removed ggml type id 4"),
        bad(
            "type id out of range",
            () -> kvs(RawGguf.start(3, 1, 2)).tensor("a", 1000, 0, 32).pad(32).zeros(32),
            UNKNOWN_DTYPE,
            "a",
            "type id 1000"),
        bad(
            "row not whole blocks",
            () ->
                kvs(RawGguf.start(3, 1, 2)).tensor("ffn_down", Q8_0, 0, 172, 2).pad(32).zeros(512),
            PARTIAL_BLOCK,
            "ffn_down",
            "ne[0] = 172 is not a multiple of the Q8_0 block size 32"),
        bad(
            "element count overflow",
            () ->
                kvs(RawGguf.start(3, 1, 2))
                    .tensor("a", F32, 0, 1L << 40, 1L << 40)
                    .pad(32)
                    .zeros(32),
            SIZE_OVERFLOW,
            "a",
            "overflows"),
        bad(
            "byte count overflow",
            () -> kvs(RawGguf.start(3, 1, 2)).tensor("a", F32, 0, 1L << 62).pad(32).zeros(32),
            SIZE_OVERFLOW,
            "a",
            "overflows"),
        bad(
            "gap between tensors",
            () ->
                kvs(RawGguf.start(3, 2, 2))
                    .tensor("a", F32, 0, 8)
                    .tensor("b", F16_ID, 64, 4, 2)
                    .pad(32)
                    .zeros(96),
            BAD_OFFSETS,
            "b",
            "has offset 64, expected 32"),
        bad(
            "unaligned offset",
            () ->
                kvs(RawGguf.start(3, 2, 2))
                    .tensor("a", F32, 0, 8)
                    .tensor("b", F16_ID, 36, 4, 2)
                    .pad(32)
                    .zeros(96),
            BAD_OFFSETS,
            "b",
            "has offset 36, expected 32"),
        bad(
            "first tensor not at 0",
            () -> kvs(RawGguf.start(3, 1, 2)).tensor("a", F32, 32, 8).pad(32).zeros(64),
            BAD_OFFSETS,
            "a",
            "has offset 32, expected 0"),
        bad(
            "data past end of file",
            () ->
                kvs(RawGguf.start(3, 2, 2))
                    .tensor("a", F32, 0, 8)
                    .tensor("b", F16_ID, 32, 4, 2)
                    .pad(32)
                    .zeros(47),
            DATA_PAST_END,
            "b",
            "runs past the end of the file"),
        bad(
            "absurd tensor count",
            () -> RawGguf.start(3, 1L << 60, 0).zeros(64),
            COUNT_TOO_LARGE,
            null,
            "tensor count 1152921504606846976"),
        bad(
            "tensor count above 2^63",
            () -> RawGguf.start(3, -1, 0).zeros(64),
            COUNT_TOO_LARGE,
            null,
            "tensor count 18446744073709551615"),
        bad(
            "absurd key count",
            () -> RawGguf.start(3, 0, 1L << 40).zeros(64),
            COUNT_TOO_LARGE,
            null,
            "key-value count 1099511627776"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corruptFiles")
  void rejectsCorruptFile(
      String description,
      Supplier<RawGguf> file,
      FormatException.Reason reason,
      String tensor,
      String fragment)
      throws Exception {
    Path p = file.get().write(dir.resolve("bad.gguf"));
    RawGguf.expectFormat(p, reason, tensor, fragment);
  }

  @Test
  void readsTheValidBaseline() throws Exception {
    Path p = valid().write(dir.resolve("ok.gguf"));
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(3, f.version());
      assertEquals(2, f.metadata().size());
      assertEquals("llama", f.metadata().getString("general.architecture").orElseThrow());
      assertEquals(List.of("a", "b"), f.tensors().stream().map(GgufTensorInfo::name).toList());
      assertEquals(32, f.alignment());
      long infosEnd = valid().size() - 64;
      assertEquals(infosEnd, f.dataStart());
      assertEquals(0, f.dataStart() % 32);
      GgufTensorInfo b = f.tensor("b").orElseThrow();
      assertArrayEquals(new long[] {4, 2}, b.ne());
      assertArrayEquals(new long[] {2, 4}, b.torchShape());
      assertEquals(2, b.rows());
      assertEquals(8, b.rowBytes());
      assertEquals(16, b.byteSize());
      assertEquals(32, b.offset());
      assertEquals(f.dataStart() + 32, f.data("b").fileOffset());
    }
  }

  @Test
  void nameOf63BytesAndTrailingBytesAreAccepted() throws Exception {
    String name = "n".repeat(63);
    Path p =
        kvs(RawGguf.start(3, 1, 2))
            .tensor(name, F32, 0, 8)
            .pad(32)
            .zeros(32)
            .zeros(5)
            .write(dir.resolve("ok.gguf"));
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(name, f.tensors().get(0).name());
    }
  }

  @Test
  void versionTwoIsReadable() throws Exception {
    Path p =
        kvs(RawGguf.start(2, 1, 2))
            .tensor("a", F32, 0, 2)
            .pad(32)
            .f32(1.5f)
            .f32(-2f)
            .zeros(24)
            .write(dir.resolve("v2.gguf"));
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(2, f.version());
      FloatBuffer out = FloatBuffer.allocate(2);
      f.data("a").readF32(0, 2, out);
      assertArrayEquals(new float[] {1.5f, -2f}, out.array());
    }
  }

  @Test
  void unicodeStringsAndEveryScalarTypeParse() throws Exception {
    Path p =
        RawGguf.start(3, 0, 4)
            .kvString("general.name", "Grüße ▁t 🦙")
            .str("a.i8")
            .u32(1)
            .u8(0xFF)
            .str("a.i16")
            .u32(3)
            .u16(0x8000)
            .str("a.u64")
            .u32(10)
            .u64(-1)
            .write(dir.resolve("u.gguf"));
    try (GgufFile f = GgufFile.open(p)) {
      GgufMetadata m = f.metadata();
      assertEquals("Grüße ▁t 🦙", m.getString("general.name").orElseThrow());
      assertEquals(-1L, m.getLong("a.i8").orElseThrow());
      assertEquals(-32768L, m.getLong("a.i16").orElseThrow());
      assertEquals(-1L, m.getLong("a.u64").orElseThrow());
    }
  }

  @Test
  void rawAndReadF32CrossMappingWindows() throws Exception {
    // 3 tensors of 100 F16 values each; windows of 64 bytes force several windows and crossing
    // mappings.
    RawGguf r = RawGguf.start(3, 3, 0);
    long offset = 0;
    for (int t = 0; t < 3; t++) {
      r.tensor("t" + t, F16_ID, offset, 50, 2);
      offset += 224; // 200 bytes padded to 32
    }
    r.pad(32);
    float[][] values = new float[3][100];
    for (int t = 0; t < 3; t++) {
      for (int i = 0; i < 100; i++) {
        values[t][i] = F16.toFloat(F16.fromFloat((t + 1) * (i - 50) / 8f));
        r.u16(F16.fromFloat(values[t][i]));
      }
      r.zeros(24);
    }
    Path p = r.write(dir.resolve("w.gguf"));
    try (GgufFile f = GgufFile.open(p)) {
      for (int t = 0; t < 3; t++) {
        GgufTensorData d = f.data("t" + t);
        FloatBuffer all = FloatBuffer.allocate(100);
        d.readF32(0, 100, all);
        assertArrayEquals(values[t], all.array());
        ByteBuffer raw = d.raw(30, 10);
        assertEquals(20, raw.remaining());
        assertTrue(raw.isReadOnly());
        for (int i = 0; i < 10; i++)
          assertEquals(values[t][30 + i], F16.toFloat(raw.getShort(2 * i)));
        FloatBuffer part = FloatBuffer.allocate(17);
        part.put(-1f);
        d.readF32(83, 16, part);
        assertArrayEquals(
            Arrays.copyOfRange(values[t], 83, 99), Arrays.copyOfRange(part.array(), 1, 17));
        assertEquals(1, d.heldBuffers());
        d.release();
        assertEquals(0, d.heldBuffers());
        d.adviseWillNeed();
        assertEquals(values[t][99], F16.toFloat(d.raw(99, 1).getShort(0)));
      }
      assertThrows(IndexOutOfBoundsException.class, () -> f.data("t0").raw(90, 11));
      assertThrows(
          IllegalArgumentException.class,
          () -> f.data("t0").readF32(0, 100, FloatBuffer.allocate(99)));
      assertThrows(IllegalArgumentException.class, () -> f.data("missing"));
    }
  }

  @Test
  void quantizedRangesMustBeWholeBlocksAndUnknownTypesFailClearly() throws Exception {
    Path p =
        RawGguf.start(3, 2, 0)
            .tensor("q", Q8_0, 0, 64)
            .tensor("k", 13, 96, 256)
            .pad(32)
            .zeros(96 + 176)
            .write(dir.resolve("q.gguf"));
    try (GgufFile f = GgufFile.open(p)) {
      GgufTensorData q = f.data("q");
      assertEquals(68, q.raw(0, 64).remaining());
      assertEquals(34, q.raw(32, 32).remaining());
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> q.raw(16, 32));
      assertTrue(e.getMessage().contains("block boundaries"), e.getMessage());
      assertEquals(Integer.MAX_VALUE / 34 * 32L, q.maxRawElements());
      UnsupportedOperationException u =
          assertThrows(
              UnsupportedOperationException.class,
              () -> f.data("k").readF32(0, 256, FloatBuffer.allocate(256)));
      assertEquals("tensor 'k': type Q5_K cannot be dequantized", u.getMessage());
    }
  }

  @Test
  void closedFileRefusesAccess() throws Exception {
    Path p = valid().write(dir.resolve("ok.gguf"));
    GgufFile f = GgufFile.open(p);
    GgufTensorData a = f.data("a");
    ByteBuffer kept = a.raw(0, 8);
    f.close();
    f.close();
    assertEquals(32, kept.remaining());
    assertThrows(IllegalStateException.class, () -> a.raw(0, 8));
    assertThrows(IllegalStateException.class, () -> f.data("a"));
  }

  @Test
  void magicDetection() throws Exception {
    assertTrue(GgufFile.hasMagic(valid().write(dir.resolve("model.bin"))));
    assertEquals(false, GgufFile.hasMagic(new RawGguf().u32(7).write(dir.resolve("x.gguf"))));
    assertEquals(false, GgufFile.hasMagic(dir));
  }
}
