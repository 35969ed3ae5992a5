package dev.amalgam.convert;

import static dev.amalgam.convert.GgufFixtures.bytes;
import static dev.amalgam.convert.GgufFixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaGeneration;
import dev.amalgam.eval.llama.LlamaScorer;
import dev.amalgam.eval.llama.ScorerOptions;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code amalgam convert} end to end on stories260K: GGUF retyping (byte copy, F16, BF16, Q8_0 with
 * its F16 fallback) checked per tensor and in llama.cpp, and the GGUF -> HF -> GGUF round trip
 * checked byte for byte, against the Q/K index formula, and by llama.cpp's token log-probabilities.
 */
class ModelConverterTest {
  static final String LILY = "Once upon a time there was a little girl named Lily.";

  @TempDir Path tmp;

  static ModelConverter.Options options() {
    return options(new ArrayList<>());
  }

  /** Unsynced, two threads, warnings into {@code warnings}. */
  static ModelConverter.Options options(List<String> warnings) {
    return ModelConverter.Options.builder()
        .sync(false)
        .threads(2)
        .warnings(WarningListener.collectingInto(warnings))
        .build();
  }

  @Test
  void ggufWithoutTypeIsCopiedByteForByte() throws IOException {
    Path stories = GgufFixtures.stories();
    Path copy = tmp.resolve("copy.gguf");
    List<String> warnings = new ArrayList<>();
    ModelConverter.Result r = ModelConverter.convert(stories, copy, options(warnings));
    assertEquals(-1, Files.mismatch(stories, copy), "byte-identical file");
    assertEquals(48, r.tensors());
    assertEquals(ModelFormats.Format.GGUF, r.from());
    assertEquals(ModelFormats.Format.GGUF, r.to());
    assertTrue(warnings.isEmpty(), warnings.toString());
    GgufFixtures.assertNoPartialFiles(tmp);
  }

  @Test
  void retypedGgufFilesKeepNormsF32AndGenerateInLlamaCpp() throws IOException {
    Path stories = GgufFixtures.stories();
    List<GgmlType> types = List.of(GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0);
    List<Path> outputs = new ArrayList<>();
    try (GgufFile original = GgufFile.open(stories)) {
      for (GgmlType type : types) {
        Path out = tmp.resolve("stories-" + type + ".gguf");
        List<String> warnings = new ArrayList<>();
        ModelConverter.convert(
            stories, out, options(warnings).toBuilder().type(Optional.of(type)).build());
        outputs.add(out);
        try (GgufFile f = GgufFile.open(out)) {
          assertEquals(GgufFixtures.names(original), GgufFixtures.names(f));
          assertEquals(
              original.tensors().stream().map(GgufTensorInfo::name).toList(),
              f.tensors().stream().map(GgufTensorInfo::name).toList(),
              "tensor order kept");
          assertEquals(
              LlamaMetadata.fileType(type),
              f.metadata().getLong("general.file_type").orElseThrow());
          assertEquals(type.isQuantized(), f.metadata().contains("general.quantization_version"));
          for (GgufTensorInfo t : f.tensors()) {
            assertArrayEquals(original.tensor(t.name()).orElseThrow().ne(), t.ne(), t.name());
            GgmlType expected =
                t.rank() == 1
                    ? GgmlType.F32
                    : type == GgmlType.Q8_0 && t.ne(0) % 32 != 0 ? GgmlType.F16 : type;
            assertEquals(expected, t.type(), t.name() + " as " + type);
            assertValuesConverted(
                floats(original, t.name()), floats(f, t.name()), t.type(), t.name());
          }
        }
        if (type == GgmlType.Q8_0) {
          assertEquals(1, warnings.size(), warnings.toString());
          String w = warnings.get(0);
          assertTrue(w.startsWith("5 tensors written as F16"), w);
          assertTrue(w.contains("blk.0.ffn_down.weight (rows of 172)"), w);
        } else {
          assertTrue(warnings.isEmpty(), warnings.toString());
        }
      }
    }
    GenerationRequest once =
        GenerationRequest.builder()
            .prompt("Once upon a time")
            .maxTokens(12)
            .threads(2)
            .contextSize(256)
            .build();
    List<String> texts = new ArrayList<>();
    for (Path out : outputs) {
      GenerationResult g = LlamaGeneration.generate(out, once);
      texts.add(g.text());
    }
    assertTrue(texts.get(0).startsWith(", there was a little girl"), "F16: " + texts.get(0));
    assertTrue(texts.get(1).startsWith(", there was a little girl"), "BF16: " + texts.get(1));
    assertTrue(texts.get(2).startsWith(", there was a little girl"), "Q8_0: " + texts.get(2));
  }

  /**
   * Each converted value is the original rounded to the stored type (Q8_0: within half a
   * quantization step).
   */
  private static void assertValuesConverted(
      float[] original, float[] stored, GgmlType type, String name) {
    assertEquals(original.length, stored.length);
    switch (type) {
      case F32 -> assertArrayEquals(original, stored, 0f, name);
      case F16 -> {
        for (int i = 0; i < original.length; i++) {
          assertEquals(
              F16.toFloat(F16.fromFloat(original[i])), stored[i], 0f, name + "[" + i + "]");
        }
      }
      case BF16 -> {
        for (int i = 0; i < original.length; i++) {
          assertEquals(
              Bf16.toFloat(Bf16.fromFloat(original[i])), stored[i], 0f, name + "[" + i + "]");
        }
      }
      case Q8_0 -> {
        for (int block = 0; block < original.length; block += 32) {
          float amax = 0;
          for (int i = block; i < block + 32; i++) amax = Math.max(amax, Math.abs(original[i]));
          double step = amax / 127.0;
          for (int i = block; i < block + 32; i++) {
            // half a step of rounding plus the f16 rounding of the scale (relative 2^-11, times up
            // to 127 steps)
            assertEquals(
                original[i], stored[i], step * 0.5 + amax * 1e-3 + 1e-12, name + "[" + i + "]");
          }
        }
      }
      default -> throw new AssertionError(type);
    }
  }

  @Test
  void ggufToHfAndBackIsByteIdenticalAndScoresTheSame() throws IOException {
    Path stories = GgufFixtures.stories();
    Path hf = tmp.resolve("stories-hf");
    ModelConverter.Result toHf = ModelConverter.convert(stories, hf, options());
    assertEquals(ModelFormats.Format.HF, toHf.to());
    assertEquals(48, toHf.tensors());
    for (String file :
        List.of("config.json", "tokenizer.model", "tokenizer_config.json", "model.safetensors")) {
      assertTrue(Files.isRegularFile(hf.resolve(file)), file + " in " + hf);
    }
    JsonNode config = new ObjectMapper().readTree(hf.resolve("config.json").toFile());
    assertEquals(64, config.get("hidden_size").asInt());
    assertEquals(5, config.get("num_hidden_layers").asInt());
    assertEquals(172, config.get("intermediate_size").asInt());
    assertEquals(8, config.get("num_attention_heads").asInt());
    assertEquals(4, config.get("num_key_value_heads").asInt());
    assertEquals(512, config.get("vocab_size").asInt());
    assertEquals(2048, config.get("max_position_embeddings").asInt());
    assertFalse(
        config.path("tie_word_embeddings").asBoolean(), "stories has its own output.weight");
    assertEquals("float32", config.get("torch_dtype").asText());

    try (GgufFile g = GgufFile.open(stories);
        SafetensorsModel m = SafetensorsModel.open(hf)) {
      assertEquals(48, m.tensors().size());
      assertTrue(m.tensor("lm_head.weight").isPresent());
      assertArrayEquals(
          new long[] {512, 64}, m.tensor("model.embed_tokens.weight").orElseThrow().shape());
      assertArrayEquals(
          new long[] {32, 64},
          m.tensor("model.layers.0.self_attn.k_proj.weight").orElseThrow().shape());
      for (int layer = 0; layer < 5; layer++) {
        // docs/formats.md §4.2: GGUF row (h*hd + 2j + i) = HF row (h*hd + i*half + j), 8 heads for
        // Q, 4 for K, hd = 8.
        assertRowsPermuted(
            floats(g, "blk." + layer + ".attn_q.weight"),
            floats(m, "model.layers." + layer + ".self_attn.q_proj.weight"),
            8,
            8,
            64);
        assertRowsPermuted(
            floats(g, "blk." + layer + ".attn_k.weight"),
            floats(m, "model.layers." + layer + ".self_attn.k_proj.weight"),
            4,
            8,
            64);
        assertArrayEquals(
            bytes(g, "blk." + layer + ".attn_v.weight"),
            bytes(m, "model.layers." + layer + ".self_attn.v_proj.weight"),
            "v is not permuted");
      }
      // Spot check one row by hand: GGUF row 1 of head 0 (j = 0, i = 1) is HF row half = 4.
      float[] gq = floats(g, "blk.0.attn_q.weight");
      float[] hq = floats(m, "model.layers.0.self_attn.q_proj.weight");
      assertArrayEquals(
          java.util.Arrays.copyOfRange(gq, 64, 128),
          java.util.Arrays.copyOfRange(hq, 4 * 64, 5 * 64));
    }

    Path back = tmp.resolve("back.gguf");
    ModelConverter.Result toGguf = ModelConverter.convert(hf, back, options());
    assertEquals(ModelFormats.Format.HF, toGguf.from());
    GgufFixtures.assertSameTensors(stories, back);
    try (GgufFile b = GgufFile.open(back)) {
      assertEquals("llama", b.metadata().getString("general.architecture").orElseThrow());
      assertEquals(0L, b.metadata().getLong("general.file_type").orElseThrow(), "all F32");
    }

    try (LlamaScorer original =
            LlamaScorer.open(stories, ScorerOptions.builder().threads(2).build());
        LlamaScorer roundTrip =
            LlamaScorer.open(back, ScorerOptions.builder().threads(2).build())) {
      assertArrayEquals(
          original.tokenize(LILY, true), roundTrip.tokenize(LILY, true), "same tokenizer");
      double[] expected = original.tokenLogProbs(LILY);
      GgufFixtures.assertLogProbs(expected);
      assertArrayEquals(expected, roundTrip.tokenLogProbs(LILY), 0.0, "identical log-probs");
    }
    GgufFixtures.assertNoPartialFiles(tmp);
  }

  /** GGUF row (h*hd + 2j + i) holds HF row (h*hd + i*half + j), element by element. */
  static void assertRowsPermuted(float[] gguf, float[] hf, int heads, int headDim, int columns) {
    assertEquals(heads * headDim * columns, gguf.length);
    assertEquals(gguf.length, hf.length);
    int half = headDim / 2;
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < half; j++) {
          int gRow = h * headDim + 2 * j + i;
          int hRow = h * headDim + i * half + j;
          for (int c = 0; c < columns; c++) {
            assertEquals(
                hf[hRow * columns + c],
                gguf[gRow * columns + c],
                0f,
                "GGUF row " + gRow + " = HF row " + hRow + ", column " + c);
          }
        }
      }
    }
  }

  @Test
  void quantizedGgufBecomesHfWithTheDequantizedValues() throws IOException {
    Path stories = GgufFixtures.stories();
    Path q8 = tmp.resolve("q8.gguf");
    ModelConverter.convert(
        stories, q8, options().toBuilder().type(Optional.of(GgmlType.Q8_0)).build());
    Path hf = tmp.resolve("q8-hf");
    ModelConverter.convert(q8, hf, options());
    Path bf16 = tmp.resolve("bf16-hf");
    ModelConverter.convert(
        q8, bf16, options().toBuilder().type(Optional.of(GgmlType.BF16)).build());
    try (GgufFile g = GgufFile.open(q8);
        SafetensorsModel m = SafetensorsModel.open(hf);
        SafetensorsModel b = SafetensorsModel.open(bf16)) {
      for (GgufTensorInfo t : g.tensors()) {
        String name = LlamaTensorNames.toHf(t.name()).orElseThrow();
        DType kept = t.type().isQuantized() ? DType.F32 : t.type().plainDType().orElseThrow();
        assertEquals(
            kept,
            m.tensor(name).orElseThrow().dtype(),
            name + ": Q8_0 dequantized, F16 fallback kept");
        assertEquals(DType.BF16, b.tensor(name).orElseThrow().dtype(), name + " with --type bf16");
        float[] stored = floats(g, t.name());
        float[] asHf = floats(m, name);
        float[] asBf16 = floats(b, name);
        if (LlamaTensorNames.permutation(t.name()).isPresent()) {
          long heads = t.name().contains("attn_q") ? 8 : 4;
          stored = new QkPermutation(t.ne(1), heads).ggufToHf(stored, t.ne(0));
        }
        assertArrayEquals(stored, asHf, 0f, name);
        for (int i = 0; i < stored.length; i++) {
          assertEquals(
              Bf16.toFloat(Bf16.fromFloat(stored[i])), asBf16[i], 0f, name + "[" + i + "]");
        }
      }
    }
    JsonNode config = new ObjectMapper().readTree(bf16.resolve("config.json").toFile());
    assertEquals("bfloat16", config.get("torch_dtype").asText());
  }

  @Test
  void tiedEmbeddingsStayTiedThroughGguf() throws IOException {
    SyntheticLlama.Shape tied = new SyntheticLlama.Shape(2, 64, 96, 300, 8, 4, true);
    Path hf = tmp.resolve("tied-hf");
    SyntheticLlama.write(hf, tied, DType.F16, 9, 0, 0, 5_000_000_000L);
    SyntheticTokenizers.writeSentencePiece(hf, 300);
    Path gguf = tmp.resolve("tied.gguf");
    ModelConverter.convert(hf, gguf, options());
    try (GgufFile g = GgufFile.open(gguf)) {
      assertTrue(g.tensor("output.weight").isEmpty(), "tied: no output.weight");
      assertTrue(g.tensor("rope_freqs.weight").isEmpty(), "no llama3 scaling, no rope_freqs");
      assertEquals(GgmlType.F16, g.tensor("token_embd.weight").orElseThrow().type());
      assertEquals(1L, g.metadata().getLong("general.file_type").orElseThrow());
      assertEquals("llama", g.metadata().getString("tokenizer.ggml.model").orElseThrow());
    }
    try (LlamaScorer scorer =
        LlamaScorer.open(gguf, ScorerOptions.builder().threads(2).contextSize(64).build())) {
      assertEquals(300, scorer.vocabSize());
      GgufFixtures.assertLogProbs(scorer.tokenLogProbs("Once upon a time there was a girl."));
    }
    Path back = tmp.resolve("tied-back");
    ModelConverter.convert(gguf, back, options());
    JsonNode config = new ObjectMapper().readTree(back.resolve("config.json").toFile());
    assertTrue(config.get("tie_word_embeddings").asBoolean());
    try (SafetensorsModel m = SafetensorsModel.open(back);
        SafetensorsModel o = SafetensorsModel.open(hf)) {
      assertTrue(m.tensor("lm_head.weight").isEmpty());
      assertArrayEquals(
          bytes(o, "model.embed_tokens.weight"), bytes(m, "model.embed_tokens.weight"));
      assertArrayEquals(
          bytes(o, "model.layers.1.self_attn.k_proj.weight"),
          bytes(m, "model.layers.1.self_attn.k_proj.weight"));
    }
    assertTrue(Files.isRegularFile(back.resolve("tokenizer.model")));
  }
}
