package dev.amalgam.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {
  @TempDir Path dir;

  private final Random random = new Random(7);

  private static GgufWriter.TensorSpec spec(String name, GgmlType type, long... ne) {
    return new GgufWriter.TensorSpec(name, type, ne);
  }

  private static GgufMetadata llama() {
    return new GgufMetadata().put(GgufMetadata.ARCHITECTURE, GgufValue.string("llama"));
  }

  /** Every scalar type, an array of every element type, string arrays, and non-ASCII text. */
  static GgufMetadata everyValueType() {
    GgufMetadata m = new GgufMetadata();
    m.put("t.uint8", new GgufValue(GgufValueType.UINT8, null, 255L));
    m.put("t.int8", new GgufValue(GgufValueType.INT8, null, -128L));
    m.put("t.uint16", new GgufValue(GgufValueType.UINT16, null, 65535L));
    m.put("t.int16", new GgufValue(GgufValueType.INT16, null, -32768L));
    m.put("t.uint32", GgufValue.uint32(4294967295L));
    m.put("t.int32", GgufValue.int32(Integer.MIN_VALUE));
    m.put("t.float32", GgufValue.float32(9.9999997e-06f));
    m.put("t.bool.true", GgufValue.bool(true));
    m.put("t.bool.false", GgufValue.bool(false));
    m.put("t.string", GgufValue.string("Grüße, ▁llama 🦙"));
    m.put("t.empty_string", GgufValue.string(""));
    m.put("t.uint64", GgufValue.uint64(-1L));
    m.put("t.int64", new GgufValue(GgufValueType.INT64, null, Long.MIN_VALUE));
    m.put("t.float64", new GgufValue(GgufValueType.FLOAT64, null, -Math.PI));
    m.put("a.uint8", GgufValue.integers(GgufValueType.UINT8, 0, 1, 255));
    m.put("a.int8", GgufValue.integers(GgufValueType.INT8, -128, 0, 127));
    m.put("a.uint16", GgufValue.integers(GgufValueType.UINT16, 0, 65535));
    m.put("a.int16", GgufValue.integers(GgufValueType.INT16, -32768, 32767));
    m.put("a.uint32", GgufValue.integers(GgufValueType.UINT32, 0, 4294967295L));
    m.put("a.int32", GgufValue.integers(GgufValueType.INT32, 1, 3, 6, -1));
    m.put("a.uint64", GgufValue.integers(GgufValueType.UINT64, -1L, 0));
    m.put("a.int64", GgufValue.integers(GgufValueType.INT64, Long.MIN_VALUE, Long.MAX_VALUE));
    m.put("a.float32", GgufValue.float32s(0f, -0f, Float.NaN, Float.NEGATIVE_INFINITY, -252f));
    m.put(
        "a.float64",
        new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT64, new double[] {1e300, -0.0}));
    m.put(
        "a.bool",
        new GgufValue(GgufValueType.ARRAY, GgufValueType.BOOL, new boolean[] {true, false, true}));
    m.put("a.string", GgufValue.strings("<unk>", "", "▁t", "a b", "Ġthe"));
    m.put("a.empty", GgufValue.strings());
    return m;
  }

  @Test
  void metadataOfEveryTypeRoundTrips() throws Exception {
    Path p = dir.resolve("meta.gguf");
    GgufMetadata m = everyValueType();
    try (GgufWriter w = GgufWriter.create(p, m, List.of())) {
      w.finish();
    }
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(m, f.metadata());
      assertEquals(
          new ArrayList<>(m.entries().keySet()), new ArrayList<>(f.metadata().entries().keySet()));
      assertEquals(0, f.tensors().size());
    }
  }

  @Test
  void tensorsOfEveryWritableKindRoundTripWithAlignment64() throws Exception {
    Path p = dir.resolve("t.gguf");
    GgufMetadata m = llama().put(GgufMetadata.ALIGNMENT, GgufValue.uint32(64));
    List<GgufWriter.TensorSpec> specs =
        List.of(
            spec("f32", GgmlType.F32, 5, 3),
            spec("f16", GgmlType.F16, 7),
            spec("bf16", GgmlType.BF16, 3, 2, 2),
            spec("q8", GgmlType.Q8_0, 64, 2, 1, 1),
            spec("empty", GgmlType.F32, 0, 4),
            spec("last", GgmlType.F16, 1));
    List<byte[]> data = new ArrayList<>();
    try (GgufWriter w = GgufWriter.create(p, m, specs)) {
      assertEquals(64, w.alignment());
      for (GgufTensorInfo t : w.tensors()) {
        byte[] bytes = new byte[(int) t.byteSize()];
        random.nextBytes(bytes);
        data.add(bytes);
        w.beginTensor(t.name());
        // Split the bytes over several writes, heap and direct.
        int half = bytes.length / 2;
        w.write(ByteBuffer.wrap(bytes, 0, half));
        ByteBuffer rest =
            ByteBuffer.allocateDirect(bytes.length - half).put(bytes, half, bytes.length - half);
        w.write(rest.flip());
        w.endTensor();
      }
      w.finish();
    }
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(64, f.alignment());
      assertEquals(0, f.dataStart() % 64);
      assertEquals(m, f.metadata());
      long expectedOffset = 0;
      for (int i = 0; i < specs.size(); i++) {
        GgufTensorInfo t = f.tensors().get(i);
        assertEquals(specs.get(i).name(), t.name());
        assertEquals(specs.get(i).type(), t.type());
        assertArrayEquals(specs.get(i).ne(), t.ne());
        assertEquals(expectedOffset, t.offset());
        expectedOffset += GgufWriter.align(t.byteSize(), 64);
        ByteBuffer raw = f.data(t.name()).raw(0, t.elementCount());
        byte[] back = new byte[raw.remaining()];
        raw.get(back);
        assertArrayEquals(data.get(i), back, t.name());
      }
      assertEquals(f.dataStart() + expectedOffset, Files.size(p), "the last tensor is padded too");
    }
  }

  @Test
  void writeConvertedMatchesTheReferenceConversions() throws Exception {
    Path p = dir.resolve("c.gguf");
    int n = 96 * 1000; // more than one conversion chunk
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
    ByteBuffer f32 = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : x) f32.putFloat(v);
    ByteBuffer bf16 = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : x) bf16.putShort(Bf16.fromFloat(v));
    List<GgufWriter.TensorSpec> specs =
        List.of(
            spec("q8", GgmlType.Q8_0, 96, 1000),
            spec("f16", GgmlType.F16, 96, 1000),
            spec("bf16", GgmlType.BF16, 96, 1000),
            spec("f32_from_bf16", GgmlType.F32, 96, 1000),
            spec("q4", GgmlType.Q4_0, 96, 1000));
    try (GgufWriter w = GgufWriter.create(p, llama(), specs)) {
      w.setSync(false);
      w.beginTensor("q8");
      w.writeConverted(f32.clear(), DType.F32, 32 * 100); // in two chunks of whole blocks
      w.writeConverted(f32, DType.F32, n - 32 * 100);
      assertFalse(f32.hasRemaining(), "the source is consumed");
      w.endTensor();
      w.beginTensor("f16");
      w.writeConverted(f32.clear(), DType.F32, n);
      w.endTensor();
      w.beginTensor("bf16");
      w.writeConverted(bf16.clear(), DType.BF16, n); // same type: copied
      w.endTensor();
      w.beginTensor("f32_from_bf16");
      w.writeConverted(bf16.clear(), DType.BF16, n);
      w.endTensor();
      w.beginTensor("q4");
      w.writeConverted(f32.clear(), DType.F32, n);
      w.endTensor();
      w.finish();
    }
    ByteBuffer q8 = ByteBuffer.allocate(34 * n / 32).order(ByteOrder.LITTLE_ENDIAN);
    GgufQuant.quantizeQ8_0(x, 0, n, q8);
    ByteBuffer q4 = ByteBuffer.allocate(18 * n / 32).order(ByteOrder.LITTLE_ENDIAN);
    GgufQuant.quantizeQ4_0(x, 0, n, q4);
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(q8.flip(), f.data("q8").raw(0, n));
      assertEquals(q4.flip(), f.data("q4").raw(0, n));
      assertEquals(bf16.flip(), f.data("bf16").raw(0, n));
      ByteBuffer h = f.data("f16").raw(0, n);
      FloatBuffer widened = FloatBuffer.allocate(n);
      f.data("f32_from_bf16").readF32(0, n, widened);
      FloatBuffer q8Back = FloatBuffer.allocate(n);
      f.data("q8").readF32(0, n, q8Back);
      for (int i = 0; i < n; i++) {
        assertEquals(F16.fromFloat(x[i]), h.getShort(2 * i));
        assertEquals(Bf16.toFloat(Bf16.fromFloat(x[i])), widened.get(i));
        assertEquals(x[i], q8Back.get(i), 0.02f);
      }
    }
  }

  @Test
  void writeConvertedRefusesPartialBlocksAndOverruns() throws Exception {
    Path p = dir.resolve("x.gguf");
    try (GgufWriter w =
        GgufWriter.create(
            p, llama(), List.of(spec("q", GgmlType.Q8_0, 64), spec("k", GgmlType.Q4_K, 256)))) {
      w.beginTensor("q");
      ByteBuffer src = ByteBuffer.allocate(4 * 96);
      assertThrows(IllegalArgumentException.class, () -> w.writeConverted(src, DType.F32, 16));
      assertThrows(IllegalStateException.class, () -> w.writeConverted(src, DType.F32, 96));
      assertThrows(IllegalArgumentException.class, () -> w.writeConverted(src, DType.I32, 32));
      assertEquals(0, src.position(), "nothing consumed");
      w.writeConverted(src, DType.F32, 64);
      w.endTensor();
      w.beginTensor("k");
      assertThrows(
          IllegalArgumentException.class, () -> w.writeConverted(src.clear(), DType.F32, 256));
    }
    assertNothingLeft(p);
  }

  @Test
  void closeWithoutFinishLeavesNothing() throws Exception {
    Path p = dir.resolve("m.gguf");
    Path temp;
    try (GgufWriter w =
        GgufWriter.create(
            p, llama(), List.of(spec("a", GgmlType.F32, 4), spec("b", GgmlType.F32, 4)))) {
      temp = w.tempFile();
      assertTrue(Files.exists(temp));
      assertTrue(
          temp.getFileName().toString().startsWith(".m.gguf.amalgam-partial-"), temp.toString());
      w.beginTensor("a");
      w.write(ByteBuffer.allocate(16));
      w.endTensor();
      IllegalStateException e = assertThrows(IllegalStateException.class, w::finish);
      assertTrue(
          e.getMessage().contains("tensor 'b' and 0 more were never written"), e.getMessage());
    }
    assertFalse(Files.exists(temp));
    assertNothingLeft(p);
  }

  @Test
  void misuseIsRefusedWithoutCorruptingTheFile() throws Exception {
    Path p = dir.resolve("m.gguf");
    try (GgufWriter w =
        GgufWriter.create(
            p, llama(), List.of(spec("a", GgmlType.F32, 4), spec("b", GgmlType.F16, 4)))) {
      assertThrows(IllegalStateException.class, () -> w.write(ByteBuffer.allocate(4)));
      IllegalStateException order =
          assertThrows(IllegalStateException.class, () -> w.beginTensor("b"));
      assertTrue(order.getMessage().contains("expected tensor 'a'"), order.getMessage());
      w.beginTensor("a");
      assertThrows(IllegalStateException.class, () -> w.write(ByteBuffer.allocate(17)));
      w.write(ByteBuffer.allocate(8));
      IllegalStateException partial = assertThrows(IllegalStateException.class, w::endTensor);
      assertTrue(partial.getMessage().contains("8 of 16 bytes"), partial.getMessage());
      assertThrows(IllegalStateException.class, () -> w.beginTensor("b"));
      w.write(ByteBuffer.allocate(8));
      w.endTensor();
      w.beginTensor("b");
      w.write(ByteBuffer.allocate(8));
      w.endTensor();
      assertThrows(IllegalStateException.class, () -> w.beginTensor("c"));
      w.finish();
      assertThrows(IllegalStateException.class, () -> w.beginTensor("a"));
    }
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(2, f.tensors().size());
    }
  }

  @Test
  void existingTargetIsRefusedUnlessOverwriting() throws Exception {
    Path p = dir.resolve("m.gguf");
    Files.writeString(p, "keep me");
    assertThrows(FileAlreadyExistsException.class, () -> GgufWriter.create(p, llama(), List.of()));
    // Appears while writing: finish refuses and the temporary file goes.
    Path q = dir.resolve("n.gguf");
    try (GgufWriter w = GgufWriter.create(q, llama(), List.of())) {
      Files.writeString(q, "raced");
      assertThrows(FileAlreadyExistsException.class, w::finish);
    }
    assertEquals("raced", Files.readString(q));
    assertEquals("keep me", Files.readString(p));
    try (GgufWriter w = GgufWriter.create(p, llama(), List.of(), true)) {
      w.finish();
    }
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(llama(), f.metadata());
    }
    assertNoTemporaryFiles();
  }

  @Test
  void badSpecsAreRejectedBeforeAnythingIsWritten() {
    Path p = dir.resolve("bad.gguf");
    assertRejected(p, llama(), List.of(spec("n".repeat(64), GgmlType.F32, 4)), "limit is 63");
    assertRejected(p, llama(), List.of(spec("é".repeat(32), GgmlType.F32, 4)), "64 bytes");
    assertRejected(
        p,
        llama(),
        List.of(spec("a", GgmlType.F32, 4), spec("a", GgmlType.F32, 4)),
        "listed twice");
    assertRejected(p, llama(), List.of(spec("ffn_down", GgmlType.Q8_0, 172, 64)), "not a multiple");
    assertRejected(p, llama(), List.of(spec("a", GgmlType.F32, 1, 1, 1, 1, 1)), "5 dimensions");
    assertRejected(p, llama(), List.of(spec("a", GgmlType.F32)), "0 dimensions");
    assertRejected(p, llama(), List.of(spec("a", GgmlType.F32, 4, -1)), "negative");
    assertRejected(p, llama(), List.of(spec("a", GgmlType.Q8_K, 256)), "intermediate");
    assertRejected(p, llama(), List.of(spec("a", GgmlType.F32, 1L << 40, 1L << 40)), "overflows");
    assertRejected(
        p, llama().put(GgufMetadata.ALIGNMENT, GgufValue.uint64(32)), List.of(), "expected UINT32");
    assertRejected(
        p, llama().put(GgufMetadata.ALIGNMENT, GgufValue.uint32(48)), List.of(), "power of two");
    assertRejected(
        p, llama().put(GgufMetadata.ALIGNMENT, GgufValue.uint32(0)), List.of(), "power of two");
    assertRejected(
        p, llama().put("bad", GgufValue.string("\uD800")), List.of(), "unpaired surrogate");
  }

  @Test
  void llama3SizedTokenizerAndLongStringsRoundTripQuickly() throws Exception {
    Path p = dir.resolve("vocab.gguf");
    String[] tokens = new String[128_256];
    for (int i = 0; i < tokens.length; i++) tokens[i] = i % 7 == 0 ? "Ġtok▁" + i : "tok" + i;
    String[] merges = new String[280_147];
    for (int i = 0; i < merges.length; i++) merges[i] = "Ġa" + (i % 977) + " b" + i;
    long[] types = new long[tokens.length];
    java.util.Arrays.fill(types, 1);
    String template =
        "{{ bos_token }}" + "é".repeat(700_000); // 1.4 MB: longer than the reader's buffer
    GgufMetadata m =
        llama()
            .put("tokenizer.ggml.tokens", GgufValue.strings(tokens))
            .put("tokenizer.ggml.merges", GgufValue.strings(merges))
            .put("tokenizer.ggml.token_type", GgufValue.integers(GgufValueType.INT32, types))
            .put("tokenizer.chat_template", GgufValue.string(template));
    long start = System.nanoTime();
    try (GgufWriter w = GgufWriter.create(p, m, List.of(spec("a", GgmlType.F32, 4)))) {
      w.setSync(false);
      w.beginTensor("a");
      w.write(ByteBuffer.allocate(16));
      w.endTensor();
      w.finish();
    }
    try (GgufFile f = GgufFile.open(p)) {
      assertEquals(m, f.metadata());
      assertEquals(1, f.tensors().size());
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 20_000, "writing and reading a ~10 MB header took " + millis + " ms");
  }

  @Test
  void alignHelper() {
    assertEquals(0, GgufWriter.align(0, 32));
    assertEquals(32, GgufWriter.align(1, 32));
    assertEquals(14176, GgufWriter.align(14152, 32));
    assertEquals(128, GgufWriter.align(128, 64));
    assertThrows(IllegalArgumentException.class, () -> GgufWriter.align(5, 24));
  }

  private void assertRejected(
      Path p, GgufMetadata m, List<GgufWriter.TensorSpec> specs, String fragment) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GgufWriter.create(p, m, specs));
    assertTrue(e.getMessage().contains(fragment), () -> "'" + fragment + "' in: " + e.getMessage());
    try {
      assertNothingLeft(p);
    } catch (IOException io) {
      throw new AssertionError(io);
    }
  }

  private void assertNothingLeft(Path p) throws IOException {
    assertFalse(Files.exists(p), p + " must not exist");
    assertNoTemporaryFiles();
  }

  private void assertNoTemporaryFiles() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      assertTrue(
          s.noneMatch(f -> f.getFileName().toString().contains(".amalgam-partial-")),
          "no temporary file");
    }
  }
}
