package dev.amalgam.io.safetensors;

import static dev.amalgam.io.FormatException.Reason.BAD_HEADER;
import static dev.amalgam.io.FormatException.Reason.BAD_OFFSETS;
import static dev.amalgam.io.FormatException.Reason.BAD_SHAPE;
import static dev.amalgam.io.FormatException.Reason.DATA_PAST_END;
import static dev.amalgam.io.FormatException.Reason.DUPLICATE_NAME;
import static dev.amalgam.io.FormatException.Reason.FILE_TOO_SMALL;
import static dev.amalgam.io.FormatException.Reason.HEADER_NOT_UTF8;
import static dev.amalgam.io.FormatException.Reason.HEADER_PAST_END;
import static dev.amalgam.io.FormatException.Reason.HEADER_TOO_LARGE;
import static dev.amalgam.io.FormatException.Reason.NOT_BYTE_ALIGNED;
import static dev.amalgam.io.FormatException.Reason.SIZE_MISMATCH;
import static dev.amalgam.io.FormatException.Reason.SIZE_OVERFLOW;
import static dev.amalgam.io.FormatException.Reason.TRAILING_BYTES;
import static dev.amalgam.io.FormatException.Reason.UNKNOWN_DTYPE;
import static dev.amalgam.io.safetensors.Fixtures.expectFormat;
import static dev.amalgam.io.safetensors.Fixtures.raw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.FormatException;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsFileTest {
  @TempDir Path dir;

  private static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  /**
   * One header per rule: description, header JSON, data bytes, expected reason, tensor named,
   * message part.
   */
  static Stream<Arguments> corruptHeaders() {
    return Stream.of(
        Arguments.of("not JSON", "{a}", 0, BAD_HEADER, null, "not valid JSON"),
        Arguments.of(
            "JSON array instead of object", "[{\"a\":1}]", 0, BAD_HEADER, null, "starts with '['"),
        Arguments.of("leading space", " {}", 0, BAD_HEADER, null, "starts with ' '"),
        Arguments.of(
            "trailing garbage",
            "{" + A + "}x",
            8,
            BAD_HEADER,
            null,
            "after the header's JSON object"),
        Arguments.of(
            "second JSON value",
            "{" + A + "} {}",
            8,
            BAD_HEADER,
            null,
            "after the header's JSON object"),
        Arguments.of("unterminated object", "{" + A, 8, BAD_HEADER, null, "end-of-input"),
        Arguments.of(
            "duplicate tensor name",
            "{" + A + "," + A + "}",
            8,
            DUPLICATE_NAME,
            "a",
            "names this tensor twice"),
        Arguments.of(
            "duplicate field in an entry",
            "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8,
            DUPLICATE_NAME,
            "a",
            "repeats the key 'dtype'"),
        Arguments.of(
            "duplicate key inside an ignored extra field",
            "{\"a\":{\"x\":{\"k\":1,\"k\":2},\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8,
            DUPLICATE_NAME,
            "a",
            "repeats the key 'k'"),
        Arguments.of(
            "duplicate metadata key",
            "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}",
            0,
            DUPLICATE_NAME,
            null,
            "__metadata__ repeats the key 'k'"),
        Arguments.of(
            "duplicate __metadata__",
            "{\"__metadata__\":{},\"__metadata__\":{}}",
            0,
            DUPLICATE_NAME,
            null,
            "repeats the key '__metadata__'"),
        Arguments.of(
            "non-string metadata value",
            "{\"__metadata__\":{\"k\":1}}",
            0,
            BAD_HEADER,
            null,
            "value of key 'k' must be a string"),
        Arguments.of(
            "metadata not an object",
            "{\"__metadata__\":[\"k\"]}",
            0,
            BAD_HEADER,
            null,
            "__metadata__ must be an object"),
        Arguments.of(
            "entry not an object", "{\"a\":[1]}", 0, BAD_HEADER, "a", "entry must be an object"),
        Arguments.of(
            "unknown dtype",
            entry("\"F17\"", "[2]", "[0,8]"),
            8,
            UNKNOWN_DTYPE,
            "a",
            "unknown dtype \"F17\""),
        Arguments.of(
            "lowercase dtype",
            entry("\"f32\"", "[2]", "[0,8]"),
            8,
            UNKNOWN_DTYPE,
            "a",
            "case-sensitive"),
        Arguments.of(
            "dtype not a string",
            entry("32", "[2]", "[0,8]"),
            8,
            BAD_HEADER,
            "a",
            "dtype must be a string"),
        Arguments.of(
            "missing dtype",
            "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}",
            8,
            BAD_HEADER,
            "a",
            "lacks the field 'dtype'"),
        Arguments.of(
            "missing shape",
            "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}",
            8,
            BAD_HEADER,
            "a",
            "lacks the field 'shape'"),
        Arguments.of(
            "missing data_offsets",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}",
            8,
            BAD_HEADER,
            "a",
            "lacks the field 'data_offsets'"),
        Arguments.of(
            "negative dimension",
            entry("\"F32\"", "[-2]", "[0,8]"),
            8,
            BAD_SHAPE,
            "a",
            "-2, negative"),
        Arguments.of(
            "float dimension",
            entry("\"F32\"", "[2.0]", "[0,8]"),
            8,
            BAD_SHAPE,
            "a",
            "2.0, not an integer"),
        Arguments.of(
            "string dimension",
            entry("\"F32\"", "[\"2\"]", "[0,8]"),
            8,
            BAD_SHAPE,
            "a",
            "must be an integer, found a string"),
        Arguments.of(
            "dimension 2^48",
            entry("\"F32\"", "[281474976710656]", "[0,8]"),
            8,
            BAD_SHAPE,
            "a",
            "above 2^48 - 1"),
        Arguments.of(
            "dimension beyond a long",
            entry("\"F32\"", "[99999999999999999999]", "[0,8]"),
            8,
            BAD_SHAPE,
            "a",
            "above 2^48 - 1"),
        Arguments.of(
            "shape not an array",
            entry("\"F32\"", "2", "[0,8]"),
            8,
            BAD_SHAPE,
            "a",
            "shape must be an array"),
        Arguments.of(
            "one data offset",
            entry("\"F32\"", "[2]", "[8]"),
            8,
            BAD_OFFSETS,
            "a",
            "exactly 2 integers [begin, end], found 1"),
        Arguments.of(
            "three data offsets",
            entry("\"F32\"", "[2]", "[0,8,8]"),
            8,
            BAD_OFFSETS,
            "a",
            "exactly 2 integers [begin, end], found 3"),
        Arguments.of(
            "negative data offset",
            entry("\"F32\"", "[2]", "[-8,0]"),
            8,
            BAD_OFFSETS,
            "a",
            "-8, negative"),
        Arguments.of(
            "float data offset",
            entry("\"F32\"", "[2]", "[0,8.0]"),
            8,
            BAD_OFFSETS,
            "a",
            "8.0, not an integer"),
        Arguments.of(
            "begin > end",
            entry("\"F32\"", "[0]", "[8,0]"),
            8,
            BAD_OFFSETS,
            "a",
            "end before they begin"),
        Arguments.of(
            "leading gap", entry("\"F32\"", "[2]", "[4,12]"), 12, BAD_OFFSETS, "a", "leading gap"),
        Arguments.of(
            "hole",
            "{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
            20,
            BAD_OFFSETS,
            "b",
            "hole of 4 bytes after tensor 'a'"),
        Arguments.of(
            "overlap",
            "{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            12,
            BAD_OFFSETS,
            "b",
            "overlaps tensor 'a'"),
        Arguments.of(
            "size mismatch",
            entry("\"F32\"", "[3]", "[0,8]"),
            8,
            SIZE_MISMATCH,
            "a",
            "hold 8 bytes but shape [3] x F32 needs 12"),
        Arguments.of(
            "element count overflow",
            entry("\"F32\"", "[140737488355328,140737488355328]", "[0,8]"),
            8,
            SIZE_OVERFLOW,
            "a",
            "element count"),
        Arguments.of(
            "byte size overflow",
            entry("\"F32\"", "[1099511627776,4194304]", "[0,8]"),
            8,
            SIZE_OVERFLOW,
            "a",
            "x F32"),
        Arguments.of(
            "F4 with an odd element count",
            entry("\"F4\"", "[3]", "[0,2]"),
            2,
            NOT_BYTE_ALIGNED,
            "a",
            "12 bits"),
        Arguments.of(
            "F6 ending mid-byte",
            entry("\"F6_E2M3\"", "[3]", "[0,2]"),
            2,
            NOT_BYTE_ALIGNED,
            "a",
            "18 bits"),
        Arguments.of("trailing bytes", "{" + A + "}", 9, TRAILING_BYTES, null, "1 byte follow"),
        Arguments.of(
            "data past EOF", "{" + A + "}", 5, DATA_PAST_END, "a", "past the end of the file"),
        Arguments.of("no tensors but data", "{}", 1, TRAILING_BYTES, null, "1 byte follow"));
  }

  private static String entry(String dtype, String shape, String offsets) {
    return "{\"a\":{\"dtype\":"
        + dtype
        + ",\"shape\":"
        + shape
        + ",\"data_offsets\":"
        + offsets
        + "}}";
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corruptHeaders")
  void rejectsCorruptHeader(
      String what,
      String json,
      int dataBytes,
      FormatException.Reason reason,
      String tensor,
      String detail)
      throws IOException {
    Path f = raw(dir.resolve("bad.safetensors"), json, dataBytes);
    FormatException e = expectFormat(f, reason, tensor, () -> SafetensorsFile.open(f).close());
    assertTrue(
        e.getMessage().contains(detail), "expected \"" + detail + "\" in: " + e.getMessage());
  }

  @Test
  void fileTooSmall() throws IOException {
    Path f = Files.write(dir.resolve("tiny.safetensors"), new byte[] {2, 0, 0, 0, 0});
    expectFormat(f, FILE_TOO_SMALL, null, () -> SafetensorsFile.open(f));
  }

  @Test
  void headerTooLarge() throws IOException {
    Path f =
        raw(
            dir.resolve("big.safetensors"),
            100_000_001L,
            "{}".getBytes(StandardCharsets.UTF_8),
            new byte[0]);
    expectFormat(f, HEADER_TOO_LARGE, null, () -> SafetensorsFile.open(f));
    // u64 max, negative as a Java long
    Path g =
        raw(
            dir.resolve("huge.safetensors"),
            -1L,
            "{}".getBytes(StandardCharsets.UTF_8),
            new byte[0]);
    FormatException e = expectFormat(g, HEADER_TOO_LARGE, null, () -> SafetensorsFile.open(g));
    assertTrue(e.getMessage().contains("18446744073709551615"), e.getMessage());
  }

  @Test
  void headerPastEndOfFile() throws IOException {
    Path f =
        raw(
            dir.resolve("short.safetensors"),
            100,
            "{}".getBytes(StandardCharsets.UTF_8),
            new byte[0]);
    expectFormat(f, HEADER_PAST_END, null, () -> SafetensorsFile.open(f));
  }

  @Test
  void invalidUtf8() throws IOException {
    byte[] h =
        "{\"a?\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}"
            .getBytes(StandardCharsets.UTF_8);
    h[3] = (byte) 0xC3; // a lead byte followed by '"', not a continuation byte
    Path f = raw(dir.resolve("utf8.safetensors"), h.length, h, new byte[0]);
    expectFormat(f, HEADER_NOT_UTF8, null, () -> SafetensorsFile.open(f));
    // An encoded surrogate (CESU-8) is not UTF-8 either.
    byte[] s = {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', ':', '1', '}'};
    Path g = raw(dir.resolve("surrogate.safetensors"), s.length, s, new byte[0]);
    expectFormat(g, HEADER_NOT_UTF8, null, () -> SafetensorsFile.open(g));
  }

  @Test
  void emptyHeader() throws IOException {
    Path f = raw(dir.resolve("empty.safetensors"), 0, new byte[0], new byte[0]);
    expectFormat(f, BAD_HEADER, null, () -> SafetensorsFile.open(f));
  }

  @Test
  void lowercaseDtypeMessageSuggestsTheRightName() throws IOException {
    Path f = raw(dir.resolve("lower.safetensors"), entry("\"bf16\"", "[1]", "[0,2]"), 2);
    FormatException e = expectFormat(f, UNKNOWN_DTYPE, "a", () -> SafetensorsFile.open(f));
    assertTrue(e.getMessage().contains("\"BF16\""), e.getMessage());
  }

  @Test
  void acceptsPaddingExtraFieldsEmptyTensorsAndScalars() throws IOException {
    String json =
        "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"ünïcode\"},"
            + "\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[8,16],\"extra\":{\"ignored\":[1,2]}},"
            + "\"e2\":{\"dtype\":\"BF16\",\"shape\":[4,0],\"data_offsets\":[8,8]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"e1\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[8,8]}}   \n\t ";
    Path f = raw(dir.resolve("ok.safetensors"), json, 16);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertEquals(List.of("format", "note"), new ArrayList<>(st.metadata().keySet()));
      assertEquals("ünïcode", st.metadata().get("note"));
      // Data-offset order; the two empty tensors at offset 8 keep their header order.
      assertEquals(
          List.of("a", "e2", "e1", "s"),
          st.tensors().stream()
              .map(TensorInfo::name)
              .collect(java.util.stream.Collectors.toList()));
      assertEquals(0, st.tensor("s").orElseThrow().rank());
      assertEquals(1, st.tensor("s").orElseThrow().elementCount());
      assertFalse(st.tensor("missing").isPresent());
      long n = json.getBytes(StandardCharsets.UTF_8).length;
      assertEquals(n, st.headerLength());
      assertEquals(8 + n + 8, st.dataOffset("s"));
      assertArrayEquals(
          new byte[] {8, 9, 10, 11, 12, 13, 14, 15}, Fixtures.bytes(st.data("s").slice(0, 1)));
      assertEquals(0, st.data("e2").slice(0, 0).remaining());
      assertThrows(IllegalArgumentException.class, () -> st.data("missing"));
      assertThrows(IllegalArgumentException.class, () -> st.dataOffset("missing"));
    }
  }

  @Test
  void directoryIsNotAFile() {
    assertThrows(FileSystemException.class, () -> SafetensorsFile.open(dir));
  }

  @Test
  void slicesAreReadOnlyLittleEndianDirectViews() throws IOException {
    Path f = writeF32(dir.resolve("v.safetensors"), 1000, 16);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorData d = st.data("v");
      assertSame(d, st.data("v"));
      ByteBuffer s = d.slice(10, 7);
      assertTrue(s.isReadOnly());
      assertTrue(s.isDirect());
      assertEquals(ByteOrder.LITTLE_ENDIAN, s.order());
      assertEquals(0, s.position());
      assertEquals(28, s.limit());
      assertEquals(28, s.capacity());
      for (int i = 0; i < 7; i++) assertEquals(10 + i, s.getInt(4 * i));
      assertThrows(IndexOutOfBoundsException.class, () -> d.slice(999, 2));
      assertThrows(IndexOutOfBoundsException.class, () -> d.slice(-1, 1));
      assertThrows(IndexOutOfBoundsException.class, () -> d.slice(0, -1));
    }
  }

  @Test
  void everyRangeReadsItsBytesIntoOneReusedBuffer() throws IOException {
    Path f = writeF32(dir.resolve("w.safetensors"), 1000, 16);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorData d = st.data("v");
      d.slice(0, 16);
      d.slice(3, 5);
      assertEquals(1, d.heldBuffers());
      ByteBuffer range = d.slice(10, 20);
      assertEquals(1, d.heldBuffers(), "one thread holds one buffer");
      for (int i = 0; i < 20; i++) assertEquals(10 + i, range.getInt(4 * i));
      // Every range, every length: the bytes are right.
      for (int first = 0; first < 100; first++) {
        for (int count = 0; first + count <= 100; count += 7) {
          ByteBuffer s = d.slice(first, count);
          for (int i = 0; i < count; i++) assertEquals(first + i, s.getInt(4 * i));
        }
      }
    }
  }

  @Test
  void releaseThenSliceStillReadsTheData() throws IOException {
    Path f = writeF32(dir.resolve("r.safetensors"), 100_000, 16);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorData d = st.data("v");
      d.adviseWillNeed();
      ByteBuffer before = d.slice(0, 100_000);
      for (int i = 0; i < 100_000; i += 997) assertEquals(i, before.getInt(4 * i));
      assertEquals(1, d.heldBuffers());
      d.release();
      assertEquals(0, d.heldBuffers());
      d.release(); // twice is harmless
      ByteBuffer after = d.slice(50_000, 50_000);
      for (int i = 0; i < 50_000; i += 991) assertEquals(50_000 + i, after.getInt(4 * i));
    }
  }

  @Test
  void closeEndsAccess() throws IOException {
    Path f = writeF32(dir.resolve("c.safetensors"), 64, 16);
    SafetensorsFile st = SafetensorsFile.open(f);
    TensorData d = st.data("v");
    assertEquals(63, d.slice(0, 64).getInt(4 * 63));
    st.close();
    st.close();
    assertEquals(0, d.heldBuffers(), "closing releases the read buffers");
    assertThrows(IllegalStateException.class, () -> d.slice(0, 1));
    assertThrows(IllegalStateException.class, () -> st.data("v"));
  }

  @Test
  void subByteSlicesMustStartAndEndOnBytes() throws IOException {
    String json = entry("\"F4\"", "[8]", "[0,4]");
    Path f = raw(dir.resolve("f4.safetensors"), json, 4);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      TensorData d = st.data("a");
      assertArrayEquals(new byte[] {1, 2}, Fixtures.bytes(d.slice(2, 4)));
      assertThrows(IllegalArgumentException.class, () -> d.slice(1, 2));
      assertThrows(IllegalArgumentException.class, () -> d.slice(2, 3));
      assertEquals((long) Integer.MAX_VALUE * 2, d.maxSliceElements());
    }
  }

  @Test
  void concurrentSlicesSeeTheRightBytes() throws Exception {
    int n = 20_000;
    Path f = writeF32(dir.resolve("t.safetensors"), n, 16);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> jobs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          long seed = t;
          jobs.add(
              pool.submit(
                  () -> {
                    Random r = new Random(seed);
                    TensorData d = st.data("v");
                    for (int k = 0; k < 300; k++) {
                      int first = r.nextInt(n);
                      int count = r.nextInt(Math.min(3000, n - first) + 1);
                      ByteBuffer s = d.slice(first, count);
                      for (int i = 0; i < count; i += 13) assertEquals(first + i, s.getInt(4 * i));
                      if (k % 50 == 0) d.release();
                    }
                    return null;
                  }));
        }
        for (Future<?> j : jobs) j.get();
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** An F32 tensor "v" holding 0, 1, 2, … as int bits, with the data at 8 + {@code headerPad}. */
  static Path writeF32(Path f, int n, int pad) throws IOException {
    String json = entry("\"F32\"", "[" + n + "]", "[0," + 4L * n + "]").replace("\"a\"", "\"v\"");
    byte[] h = Arrays.copyOf(json.getBytes(StandardCharsets.UTF_8), json.length() + pad);
    Arrays.fill(h, json.length(), h.length, (byte) ' ');
    ByteBuffer data = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) data.putInt(i);
    return raw(f, h.length, h, data.array());
  }

  @Test
  void tensorInfoMatchesHeader() throws IOException {
    Path f = writeF32(dir.resolve("i.safetensors"), 12, 3);
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertEquals(List.of(new TensorInfo("v", DType.F32, new long[] {12})), st.tensors());
      assertEquals(Map.of(), st.metadata());
      assertEquals(f, st.path());
    }
  }
}
