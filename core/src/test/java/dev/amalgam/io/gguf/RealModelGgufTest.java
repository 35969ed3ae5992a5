package dev.amalgam.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.testing.TestAssets;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the repository's stories260K.gguf (docs/formats.md §5) and rewrites it byte for byte. */
class RealModelGgufTest {
  @TempDir Path dir;

  static Path model() {
    return TestAssets.stories260K();
  }

  @Test
  void headerMatchesTheKnownFacts() throws Exception {
    try (GgufFile f = GgufFile.open(model())) {
      assertEquals(3, f.version());
      assertEquals(1_185_376, f.fileSize());
      assertEquals(48, f.tensors().size());
      assertEquals(19, f.metadata().size());
      assertEquals(32, f.alignment());
      assertEquals(14176, f.dataStart());
      assertEquals(f.fileSize(), f.dataStart() + 1_171_200);

      GgufMetadata m = f.metadata();
      List<String> keys = List.copyOf(m.entries().keySet());
      assertEquals("tokenizer.ggml.tokens", keys.get(0));
      assertEquals("general.architecture", keys.get(4));
      String[] tokens = m.get("tokenizer.ggml.tokens").orElseThrow().asStrings();
      assertEquals(512, tokens.length);
      assertEquals("<unk>", tokens[0]);
      assertEquals("<0x00>", tokens[3]);
      assertEquals("▁t", tokens[259]);
      float[] scores = m.get("tokenizer.ggml.scores").orElseThrow().asFloats();
      assertEquals(-252f, scores[511]);
      long[] types = m.get("tokenizer.ggml.token_type").orElseThrow().asLongs();
      assertEquals(
          GgufValueType.INT32, m.get("tokenizer.ggml.token_type").orElseThrow().elementType());
      assertEquals(2, types[0]);
      assertEquals(6, types[3]);
      assertEquals(1, types[511]);
      assertEquals("llama", m.getString("general.architecture").orElseThrow());
      assertEquals(4294967295L, m.getLong("tokenizer.ggml.seperator_token_id").orElseThrow());
      assertEquals(172L, m.getLong("llama.feed_forward_length").orElseThrow());
      assertEquals(
          9.9999997e-06f,
          (Float) m.get("llama.attention.layer_norm_rms_epsilon").orElseThrow().value());

      assertTensor(f, "token_embd.weight", 0, 64, 512);
      assertTensor(f, "output_norm.weight", 131072, 64);
      assertTensor(f, "output.weight", 131328, 64, 512);
      long stride = 181_760;
      for (int b = 0; b < 5; b++) {
        long base = 262_400 + b * stride;
        assertTensor(f, "blk." + b + ".attn_q.weight", base, 64, 64);
        assertTensor(f, "blk." + b + ".attn_k.weight", base + 16384, 64, 32);
        assertTensor(f, "blk." + b + ".ffn_down.weight", -1, 172, 64);
      }
      GgufTensorInfo k = f.tensor("blk.0.attn_k.weight").orElseThrow();
      assertArrayEquals(new long[] {32, 64}, k.torchShape());
      for (GgufTensorInfo t : f.tensors()) assertEquals(GgmlType.F32, t.type(), t.name());

      GgufTensorInfo embd = f.tensor("token_embd.weight").orElseThrow();
      int n = (int) embd.elementCount();
      FloatBuffer decoded = FloatBuffer.allocate(n);
      f.data(embd.name()).readF32(0, n, decoded);
      FloatBuffer raw = f.data(embd.name()).raw(0, n).asFloatBuffer();
      assertEquals(raw, decoded.flip());
    }
  }

  private static void assertTensor(GgufFile f, String name, long offset, long... ne) {
    GgufTensorInfo t = f.tensor(name).orElseThrow(() -> new AssertionError("no tensor " + name));
    assertArrayEquals(ne, t.ne(), name);
    if (offset >= 0) assertEquals(offset, t.offset(), name);
  }

  @Test
  void rewriteIsByteIdentical() throws Exception {
    Path source = model();
    Path copy = dir.resolve("copy.gguf");
    try (GgufFile f = GgufFile.open(source)) {
      List<GgufWriter.TensorSpec> specs =
          f.tensors().stream().map(GgufWriter.TensorSpec::of).toList();
      try (GgufWriter w = GgufWriter.create(copy, f.metadata(), specs)) {
        w.setSync(false);
        assertEquals(f.dataStart(), w.dataStart());
        for (GgufTensorInfo t : f.tensors()) {
          w.beginTensor(t.name());
          ByteBuffer bytes = f.data(t.name()).raw(0, t.elementCount());
          // In two pieces, to exercise streaming.
          int half = bytes.remaining() / 2;
          w.write(bytes.slice(0, half));
          w.write(bytes.slice(half, bytes.remaining() - half));
          w.endTensor();
        }
        w.finish();
      }
    }
    assertEquals(-1, Files.mismatch(source, copy), "byte-identical rewrite");
  }
}
