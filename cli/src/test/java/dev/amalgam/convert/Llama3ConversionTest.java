package dev.amalgam.convert;

import static dev.amalgam.convert.GgufFixtures.bytes;
import static dev.amalgam.convert.GgufFixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaGeneration;
import dev.amalgam.eval.llama.LlamaScorer;
import dev.amalgam.eval.llama.ScorerOptions;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.io.gguf.GgufValueType;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A synthetic Llama-3-style checkpoint (grouped-query attention, llama3 rope scaling, bf16,
 * byte-level BPE tokenizer) converted to GGUF and back: rope_freqs by the formula, metadata keys
 * and value types, Q/K rows by the index formula, per-tensor types, loading in llama.cpp, and the
 * tensors and hyperparameters after the round trip.
 */
class Llama3ConversionTest {
  static final SyntheticLlama.Shape SHAPE = GgufFixtures.LLAMA3_SHAPE;
  static final double ROPE_THETA = GgufFixtures.LLAMA3_ROPE_THETA;

  @TempDir Path tmp;

  /**
   * docs/formats.md §4.4, computed here independently: the llama3 factor for each of the head_dim/2
   * frequencies.
   */
  static float[] expectedRopeFreqs(int headDim) {
    double factor = 8;
    double low = 1;
    double high = 4;
    double orig = 8192;
    double lowWavelen = orig / low;
    double highWavelen = orig / high;
    float[] out = new float[headDim / 2];
    for (int k = 0; k < out.length; k++) {
      double freq = 1.0 / Math.pow(ROPE_THETA, 2.0 * k / headDim);
      double wavelen = 2 * Math.PI / freq;
      double value;
      if (wavelen < highWavelen) {
        value = 1;
      } else if (wavelen > lowWavelen) {
        value = factor;
      } else {
        double smooth = (orig / wavelen - low) / (high - low);
        value = 1 / ((1 - smooth) / factor + smooth);
      }
      out[k] = (float) value;
    }
    return out;
  }

  @Test
  void convertsToGgufThatLlamaCppLoadsAndBackToTheSameWeights() throws IOException {
    Path hf = GgufFixtures.writeLlama3Checkpoint(tmp.resolve("llama3-hf"), 11, 0);
    Path gguf = tmp.resolve("llama3.gguf");
    ModelConverter.Result r = ModelConverter.convert(hf, gguf, ModelConverterTest.options());
    assertEquals(ModelFormats.Format.HF, r.from());

    int headDim = SHAPE.headDim();
    try (GgufFile g = GgufFile.open(gguf);
        SafetensorsModel m = SafetensorsModel.open(hf)) {
      // rope_freqs.weight: F32 [hd/2] with the llama3 values; this shape reaches all three
      // branches.
      GgufTensorInfo rope = g.tensor("rope_freqs.weight").orElseThrow();
      assertEquals(GgmlType.F32, rope.type());
      assertArrayEquals(new long[] {headDim / 2}, rope.ne());
      float[] freqs = floats(g, "rope_freqs.weight");
      float[] expected = expectedRopeFreqs(headDim);
      assertArrayEquals(expected, freqs, 1e-5f);
      assertEquals(1f, freqs[0]);
      assertEquals(8f, freqs[freqs.length - 1]);
      assertTrue(freqs[2] > 1 && freqs[2] < 8, "a smoothed value: " + Arrays.toString(freqs));

      GgufMetadata md = g.metadata();
      assertKey(md, "general.architecture", GgufValueType.STRING, "llama");
      assertKey(md, "llama.block_count", GgufValueType.UINT32, 2L);
      assertKey(md, "llama.context_length", GgufValueType.UINT32, 2048L);
      assertKey(md, "llama.embedding_length", GgufValueType.UINT32, 64L);
      assertKey(md, "llama.feed_forward_length", GgufValueType.UINT32, 128L);
      assertKey(md, "llama.attention.head_count", GgufValueType.UINT32, 8L);
      assertKey(md, "llama.attention.head_count_kv", GgufValueType.UINT32, 2L);
      assertKey(md, "llama.rope.dimension_count", GgufValueType.UINT32, 8L);
      assertKey(md, "llama.vocab_size", GgufValueType.UINT32, 320L);
      assertKey(md, "general.file_type", GgufValueType.UINT32, 32L);
      assertEquals(GgufValueType.FLOAT32, md.get("llama.rope.freq_base").orElseThrow().type());
      assertEquals(ROPE_THETA, md.getDouble("llama.rope.freq_base").orElseThrow(), 0.0);
      assertEquals(
          GgufValueType.FLOAT32,
          md.get("llama.attention.layer_norm_rms_epsilon").orElseThrow().type());
      assertEquals(
          1e-5, md.getDouble("llama.attention.layer_norm_rms_epsilon").orElseThrow(), 1e-10);
      assertFalse(
          md.contains("llama.rope.scaling.type"),
          "llama3 scaling writes no rope keys, only rope_freqs");
      assertKey(md, "tokenizer.ggml.model", GgufValueType.STRING, "gpt2");
      assertKey(md, "tokenizer.ggml.pre", GgufValueType.STRING, "llama-bpe");
      assertEquals(320, md.get("tokenizer.ggml.tokens").orElseThrow().length());

      // One GGUF tensor per HF tensor plus rope_freqs; norms F32 with the bf16 values, matrices
      // BF16 bytes.
      assertEquals(m.tensors().size() + 1, g.tensors().size());
      for (TensorInfo t : m.tensors()) {
        String name = LlamaTensorNames.toGguf(t.name()).orElseThrow();
        GgufTensorInfo info = g.tensor(name).orElseThrow(() -> new AssertionError("no " + name));
        long[] ne = new long[t.rank()];
        for (int i = 0; i < ne.length; i++) ne[i] = t.dim(t.rank() - 1 - i);
        assertArrayEquals(ne, info.ne(), name + " ne is the reversed shape");
        if (t.rank() == 1) {
          assertEquals(GgmlType.F32, info.type(), name);
          assertArrayEquals(floats(m, t.name()), floats(g, name), 0f, name);
        } else {
          assertEquals(GgmlType.BF16, info.type(), name);
          if (name.endsWith("attn_q.weight")) {
            ModelConverterTest.assertRowsPermuted(
                floats(g, name), floats(m, t.name()), 8, headDim, 64);
          } else if (name.endsWith("attn_k.weight")) {
            ModelConverterTest.assertRowsPermuted(
                floats(g, name), floats(m, t.name()), 2, headDim, 64);
          } else {
            assertArrayEquals(bytes(m, t.name()), bytes(g, name), name);
          }
        }
      }
    }

    try (LlamaScorer scorer =
        LlamaScorer.open(gguf, ScorerOptions.builder().threads(2).contextSize(128).build())) {
      assertEquals(320, scorer.vocabSize());
      assertEquals(315, scorer.bosToken(), "<|begin_of_text|> after the 315 normal tokens");
      int[] tokens = scorer.tokenize("Once upon a time there was a little girl.", true);
      assertEquals(315, tokens[0]);
      assertTrue(tokens.length > 3, Arrays.toString(tokens));
      double[] lp = scorer.tokenLogProbs(tokens);
      assertEquals(tokens.length - 1, lp.length);
      GgufFixtures.assertLogProbs(lp);
    }
    GenerationResult generated =
        LlamaGeneration.generate(
            gguf,
            GenerationRequest.builder()
                .prompt("Once upon a time")
                .maxTokens(8)
                .threads(2)
                .contextSize(128)
                .build());
    assertNotNull(generated.text());

    Path back = tmp.resolve("llama3-back");
    ModelConverter.convert(gguf, back, ModelConverterTest.options());
    try (SafetensorsModel original = SafetensorsModel.open(hf);
        SafetensorsModel roundTrip = SafetensorsModel.open(back)) {
      assertEquals(
          original.tensors().stream().map(TensorInfo::name).sorted().toList(),
          roundTrip.tensors().stream().map(TensorInfo::name).sorted().toList());
      for (TensorInfo t : original.tensors()) {
        TensorInfo other = roundTrip.tensor(t.name()).orElseThrow();
        assertArrayEquals(t.shape(), other.shape(), t.name());
        if (t.rank() == 1) {
          assertEquals(DType.F32, other.dtype(), t.name() + " was stored F32 in the GGUF");
          assertArrayEquals(floats(original, t.name()), floats(roundTrip, t.name()), 0f, t.name());
        } else {
          assertEquals(DType.BF16, other.dtype(), t.name());
          assertArrayEquals(bytes(original, t.name()), bytes(roundTrip, t.name()), t.name());
        }
      }
    }
    ObjectMapper json = new ObjectMapper();
    JsonNode before = json.readTree(hf.resolve("config.json").toFile());
    JsonNode after = json.readTree(back.resolve("config.json").toFile());
    for (String key :
        new String[] {
          "hidden_size",
          "intermediate_size",
          "num_hidden_layers",
          "num_attention_heads",
          "num_key_value_heads",
          "vocab_size",
          "max_position_embeddings",
          "head_dim"
        }) {
      assertEquals(before.get(key).asLong(), after.path(key).asLong(-1), key);
    }
    assertEquals(before.get("rope_theta").asDouble(), after.path("rope_theta").asDouble(), 1e-3);
    assertEquals(
        before.get("rms_norm_eps").asDouble(), after.path("rms_norm_eps").asDouble(), 1e-10);
    assertEquals("llama3", after.path("rope_scaling").path("rope_type").asText());
    assertEquals(8.0, after.path("rope_scaling").path("factor").asDouble(), 1e-6);
    assertEquals(
        before.get("tie_word_embeddings").asBoolean(),
        after.path("tie_word_embeddings").asBoolean());
    assertTrue(Files.isRegularFile(back.resolve("tokenizer.json")), "tokenizer.json rebuilt");
    GgufFixtures.assertNoPartialFiles(tmp);
  }

  private static void assertKey(GgufMetadata md, String key, GgufValueType type, Object value) {
    var v = md.get(key).orElseThrow(() -> new AssertionError("no key " + key));
    assertEquals(type, v.type(), key + " type");
    if (value instanceof String s) assertEquals(s, v.asString(), key);
    else assertEquals(((Long) value).longValue(), v.asLong(), key);
  }
}
