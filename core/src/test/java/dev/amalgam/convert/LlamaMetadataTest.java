package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LlamaMetadataTest {
  private static final Path CONFIG = Path.of("models/x/config.json");
  private static final ObjectMapper JSON = new ObjectMapper();

  static ObjectNode llama31_8b() throws Exception {
    return (ObjectNode)
        JSON.readTree(
            """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
         "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
         "num_key_value_heads": 8, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
         "rope_theta": 500000.0, "vocab_size": 128256, "tie_word_embeddings": false,
         "bos_token_id": 128000, "eos_token_id": 128001, "torch_dtype": "bfloat16",
         "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
        """);
  }

  private static ObjectNode llama32_1b() throws Exception {
    ObjectNode c = llama31_8b();
    c.put("hidden_size", 2048)
        .put("intermediate_size", 8192)
        .put("num_hidden_layers", 16)
        .put("head_dim", 64)
        .put("tie_word_embeddings", true);
    ((ObjectNode) c.get("rope_scaling")).put("factor", 32.0);
    return c;
  }

  private static Map<String, String> types(GgufMetadata m) {
    Map<String, String> t = new LinkedHashMap<>();
    m.entries().forEach((k, v) -> t.put(k, v.describeType()));
    return t;
  }

  @Test
  void llama31HasExactlyTheGgufPyKeysAndTypes() throws Exception {
    ConversionResult r =
        LlamaMetadata.fromConfig(
            llama31_8b(), CONFIG, Optional.of("Llama 3.1 8B"), Optional.of(GgmlType.BF16));
    GgufMetadata m = r.metadata();
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("general.architecture", "STRING");
    expected.put("general.name", "STRING");
    expected.put("llama.block_count", "UINT32");
    expected.put("llama.context_length", "UINT32");
    expected.put("llama.embedding_length", "UINT32");
    expected.put("llama.feed_forward_length", "UINT32");
    expected.put("llama.attention.head_count", "UINT32");
    expected.put("llama.attention.head_count_kv", "UINT32");
    expected.put("llama.rope.freq_base", "FLOAT32");
    expected.put("llama.attention.layer_norm_rms_epsilon", "FLOAT32");
    expected.put("general.file_type", "UINT32");
    expected.put("llama.vocab_size", "UINT32");
    expected.put("llama.rope.dimension_count", "UINT32");
    expected.put("general.quantization_version", "UINT32");
    assertEquals(expected, types(m));
    assertEquals("llama", m.getString("general.architecture").orElseThrow());
    assertEquals(32, m.getLong("llama.block_count").orElseThrow());
    assertEquals(131072, m.getLong("llama.context_length").orElseThrow());
    assertEquals(4096, m.getLong("llama.embedding_length").orElseThrow());
    assertEquals(14336, m.getLong("llama.feed_forward_length").orElseThrow());
    assertEquals(32, m.getLong("llama.attention.head_count").orElseThrow());
    assertEquals(8, m.getLong("llama.attention.head_count_kv").orElseThrow());
    assertEquals(GgufValue.float32(500000f), m.get("llama.rope.freq_base").orElseThrow());
    assertEquals(
        GgufValue.float32(1e-5f), m.get("llama.attention.layer_norm_rms_epsilon").orElseThrow());
    assertEquals(32, m.getLong("general.file_type").orElseThrow());
    assertEquals(128256, m.getLong("llama.vocab_size").orElseThrow());
    assertEquals(128, m.getLong("llama.rope.dimension_count").orElseThrow());
    assertEquals(2, m.getLong("general.quantization_version").orElseThrow());
    assertTrue(r.warnings().isEmpty(), r.warnings().toString());
  }

  @Test
  void generalKeysOnlyWhenAsked() throws Exception {
    GgufMetadata m = LlamaMetadata.fromConfig(llama31_8b(), CONFIG).metadata();
    assertTrue(m.contains("general.architecture"));
    assertFalse(m.contains("general.name"));
    assertFalse(m.contains("general.file_type"));
    assertFalse(m.contains("general.quantization_version"));
  }

  @Test
  void llama32WritesHeadDimAsKeyAndValueLength() throws Exception {
    GgufMetadata m = LlamaMetadata.fromConfig(llama32_1b(), CONFIG).metadata();
    assertEquals(GgufValue.uint32(64), m.get("llama.attention.key_length").orElseThrow());
    assertEquals(GgufValue.uint32(64), m.get("llama.attention.value_length").orElseThrow());
    assertEquals(GgufValue.uint32(64), m.get("llama.rope.dimension_count").orElseThrow());
    assertFalse(m.entries().keySet().stream().anyMatch(k -> k.startsWith("llama.rope.scaling")));
  }

  @Test
  void fileTypesFollowLlamaFtype() {
    assertEquals(0, LlamaMetadata.fileType(GgmlType.F32));
    assertEquals(1, LlamaMetadata.fileType(GgmlType.F16));
    assertEquals(7, LlamaMetadata.fileType(GgmlType.Q8_0));
    assertEquals(32, LlamaMetadata.fileType(GgmlType.BF16));
    assertThrows(IllegalArgumentException.class, () -> LlamaMetadata.fileType(GgmlType.Q4_K));
  }

  @Test
  void mistralMapsToLlamaAndNotesTheSlidingWindow() throws Exception {
    ObjectNode c =
        (ObjectNode)
            JSON.readTree(
                """
        {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
         "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
         "max_position_embeddings": 32768, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
         "sliding_window": 4096, "vocab_size": 32000}
        """);
    ConversionResult r = LlamaMetadata.fromConfig(c, CONFIG);
    assertEquals("llama", r.metadata().getString("general.architecture").orElseThrow());
    assertEquals(1, r.warnings().size());
    assertTrue(r.warnings().get(0).contains("sliding_window"), r.warnings().get(0));
    assertFalse(r.metadata().entries().keySet().stream().anyMatch(k -> k.contains("sliding")));
    c.putNull("sliding_window");
    assertTrue(LlamaMetadata.fromConfig(c, CONFIG).warnings().isEmpty());
  }

  @Test
  void rejectsOtherArchitecturesNamingFileAndArchitecture() throws Exception {
    ObjectNode c = llama31_8b();
    c.putArray("architectures").add("Qwen2ForCausalLM");
    ConversionException e =
        assertThrows(ConversionException.class, () -> LlamaMetadata.fromConfig(c, CONFIG));
    assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    assertTrue(e.getMessage().contains("Qwen2ForCausalLM"), e.getMessage());
    assertEquals(Optional.of("architectures"), e.key());
    c.remove("architectures");
    c.put("model_type", "gemma");
    e = assertThrows(ConversionException.class, () -> LlamaMetadata.fromConfig(c, CONFIG));
    assertTrue(e.getMessage().contains("gemma"), e.getMessage());
  }

  @Test
  void typeErrorsNameTheKey() throws Exception {
    Object[][] cases = {
      {"num_hidden_layers", JSON.getNodeFactory().textNode("32"), "expected an integer"},
      {"num_hidden_layers", JSON.getNodeFactory().numberNode(32.5), "expected an integer"},
      {"hidden_size", JSON.getNodeFactory().numberNode(-1), "outside"},
      {"hidden_size", JSON.getNodeFactory().numberNode(1L << 32), "outside"},
      {"rms_norm_eps", JSON.getNodeFactory().textNode("1e-5"), "expected a number"},
      {"rope_theta", JSON.getNodeFactory().booleanNode(true), "expected a number"},
      {"rope_scaling", JSON.getNodeFactory().textNode("llama3"), "expected an object"},
      {"num_key_value_heads", JSON.getNodeFactory().numberNode(5), "does not divide"},
    };
    for (Object[] c : cases) {
      ObjectNode config = llama31_8b();
      config.set((String) c[0], (com.fasterxml.jackson.databind.JsonNode) c[1]);
      ConversionException e =
          assertThrows(
              ConversionException.class,
              () -> LlamaMetadata.fromConfig(config, CONFIG),
              (String) c[0]);
      assertEquals(Optional.of((String) c[0]), e.key(), e.getMessage());
      assertTrue(e.getMessage().startsWith(CONFIG + ": key '" + c[0] + "'"), e.getMessage());
      assertTrue(e.getMessage().contains((String) c[2]), e.getMessage());
    }
    ObjectNode missing = llama31_8b();
    missing.remove("rms_norm_eps");
    ConversionException e =
        assertThrows(ConversionException.class, () -> LlamaMetadata.fromConfig(missing, CONFIG));
    assertTrue(
        e.getMessage().contains("rms_norm_eps") && e.getMessage().contains("missing"),
        e.getMessage());
  }

  @Test
  void linearAndYarnScalingWriteTheirKeys() throws Exception {
    ObjectNode c = llama31_8b();
    c.putObject("rope_scaling").put("type", "linear").put("factor", 4.0);
    GgufMetadata m = LlamaMetadata.fromConfig(c, CONFIG).metadata();
    assertEquals(GgufValue.string("linear"), m.get("llama.rope.scaling.type").orElseThrow());
    assertEquals(GgufValue.float32(4f), m.get("llama.rope.scaling.factor").orElseThrow());

    c.putObject("rope_scaling")
        .put("rope_type", "yarn")
        .put("factor", 4.0)
        .put("original_max_position_embeddings", 32768)
        .put("beta_fast", 32);
    ConversionResult r = LlamaMetadata.fromConfig(c, CONFIG);
    assertEquals(
        GgufValue.string("yarn"), r.metadata().get("llama.rope.scaling.type").orElseThrow());
    assertEquals(
        GgufValue.uint32(32768),
        r.metadata().get("llama.rope.scaling.original_context_length").orElseThrow());
    assertTrue(r.warnings().stream().anyMatch(w -> w.contains("beta_fast")));

    c.putObject("rope_scaling").put("rope_type", "dynamic").put("factor", 2.0);
    r = LlamaMetadata.fromConfig(c, CONFIG);
    assertFalse(r.metadata().contains("llama.rope.scaling.type"));
    assertTrue(r.warnings().stream().anyMatch(w -> w.contains("dynamic")));
  }

  /** gguf-py's formula in double precision, written independently of the implementation. */
  private static double expectedFactor(
      int k, double base, int dim, double factor, double low, double high, double orig) {
    double freq = 1.0 / Math.pow(base, (2.0 * k) / dim);
    double wavelen = 2 * Math.PI / freq;
    if (wavelen < orig / high) return 1;
    if (wavelen > orig / low) return factor;
    double smooth = (orig / wavelen - low) / (high - low);
    return 1 / ((1 - smooth) / factor + smooth);
  }

  @Test
  void llama3RopeFreqsFollowTheFormula() throws Exception {
    float[] f = LlamaMetadata.ropeFreqs(llama31_8b(), CONFIG);
    assertEquals(64, f.length);
    int ones = 0, factors = 0, smooth = 0;
    for (int k = 0; k < 64; k++) {
      double e = expectedFactor(k, 500000, 128, 8, 1, 4, 8192);
      assertEquals(e, f[k], 1e-5 * e, "k=" + k);
      if (f[k] == 1f) ones++;
      else if (f[k] == 8f) factors++;
      else smooth++;
    }
    assertTrue(ones > 0 && factors > 0 && smooth > 0, ones + "/" + smooth + "/" + factors);
    assertEquals(1f, f[0]);
    assertEquals(8f, f[63]);

    // head_dim wins over hidden/heads; a top-level original_max_position_embeddings is used
    ObjectNode c = llama32_1b();
    c.put("original_max_position_embeddings", 4096);
    float[] g = LlamaMetadata.ropeFreqs(c, CONFIG);
    assertEquals(32, g.length);
    for (int k = 0; k < 32; k++) {
      double e = expectedFactor(k, 500000, 64, 32, 1, 4, 4096);
      assertEquals(e, g[k], 1e-5 * e, "k=" + k);
    }
  }

  @Test
  void ropeFreqsEmptyUnlessLlama3() throws Exception {
    ObjectNode c = llama31_8b();
    c.remove("rope_scaling");
    assertEquals(0, LlamaMetadata.ropeFreqs(c, CONFIG).length);
    c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
    assertEquals(0, LlamaMetadata.ropeFreqs(c, CONFIG).length);
  }

  /**
   * stories260K's 19 keys less the tokenizer ones (docs/formats.md §5), with its 0xFFFFFFFF unset
   * ids.
   */
  static GgufMetadata storiesModelKeys() {
    GgufMetadata m = new GgufMetadata();
    m.put("general.architecture", GgufValue.string("llama"));
    m.put("general.name", GgufValue.string("llama"));
    m.put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(0));
    m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1));
    m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(0xFFFFFFFFL));
    m.put("llama.context_length", GgufValue.uint32(2048));
    m.put("llama.embedding_length", GgufValue.uint32(64));
    m.put("llama.feed_forward_length", GgufValue.uint32(172));
    m.put("llama.attention.head_count", GgufValue.uint32(8));
    m.put("llama.attention.head_count_kv", GgufValue.uint32(4));
    m.put("llama.block_count", GgufValue.uint32(5));
    m.put("llama.rope.dimension_count", GgufValue.uint32(8));
    m.put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32(9.9999997e-06f));
    m.put("tokenizer.ggml.tokens", GgufValue.strings(filled(512)));
    return m;
  }

  private static String[] filled(int n) {
    String[] s = new String[n];
    for (int i = 0; i < n; i++) s[i] = "t" + i;
    return s;
  }

  @Test
  void configFromStoriesLikeMetadataUsesTheDefaults() throws Exception {
    ObjectNode c =
        LlamaMetadata.toConfig(
            storiesModelKeys(), Path.of("stories260K.gguf"), true, Optional.empty(), DType.F32);
    assertEquals("LlamaForCausalLM", c.get("architectures").get(0).asText());
    assertEquals(64, c.get("hidden_size").asLong());
    assertEquals(172, c.get("intermediate_size").asLong());
    assertEquals(5, c.get("num_hidden_layers").asLong());
    assertEquals(8, c.get("num_attention_heads").asLong());
    assertEquals(4, c.get("num_key_value_heads").asLong());
    assertEquals(8, c.get("head_dim").asLong());
    assertEquals(2048, c.get("max_position_embeddings").asLong());
    assertEquals(1e-5, c.get("rms_norm_eps").asDouble());
    assertEquals(10000.0, c.get("rope_theta").asDouble());
    assertEquals(512, c.get("vocab_size").asLong());
    assertFalse(c.get("tie_word_embeddings").asBoolean());
    assertEquals(1, c.get("bos_token_id").asLong());
    assertFalse(c.has("eos_token_id"), "0xFFFFFFFF means unset");
    assertEquals("float32", c.get("torch_dtype").asText());
    assertTrue(c.get("rope_scaling").isNull());
  }

  @Test
  void configRoundTripKeepsTheHyperparameters() throws Exception {
    for (ObjectNode original : new ObjectNode[] {llama31_8b(), llama32_1b()}) {
      GgufMetadata m = LlamaMetadata.fromConfig(original, CONFIG).metadata();
      m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(128000));
      m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(128001));
      float[] freqs = LlamaMetadata.ropeFreqs(original, CONFIG);
      boolean tied = original.get("tie_word_embeddings").asBoolean();
      ObjectNode back =
          LlamaMetadata.toConfig(m, Path.of("m.gguf"), !tied, Optional.of(freqs), DType.BF16);
      for (String key :
          new String[] {
            "hidden_size",
            "intermediate_size",
            "num_hidden_layers",
            "num_attention_heads",
            "num_key_value_heads",
            "max_position_embeddings",
            "rms_norm_eps",
            "rope_theta",
            "vocab_size",
            "tie_word_embeddings",
            "bos_token_id",
            "eos_token_id",
            "torch_dtype"
          }) {
        assertEquals(original.get(key).asText(), back.get(key).asText(), key);
      }
      original
          .get("rope_scaling")
          .properties()
          .forEach(
              e ->
                  assertEquals(
                      e.getValue().asText(),
                      back.get("rope_scaling").get(e.getKey()).asText(),
                      e.getKey()));
      assertEquals(original.get("rope_scaling").size(), back.get("rope_scaling").size());
      // a second trip gives identical metadata
      GgufMetadata again = LlamaMetadata.fromConfig(back, CONFIG).metadata();
      m.remove("tokenizer.ggml.bos_token_id").remove("tokenizer.ggml.eos_token_id");
      if (!original.has("head_dim")) {
        again.remove("llama.attention.key_length").remove("llama.attention.value_length");
      }
      assertEquals(m, again);
      assertArrayEquals(freqs, LlamaMetadata.ropeFreqs(back, CONFIG));
    }
  }

  @Test
  void configFromMetadataRejectsBadInput() {
    GgufMetadata m = storiesModelKeys();
    m.put("llama.block_count", GgufValue.string("5"));
    ConversionException e =
        assertThrows(
            ConversionException.class,
            () -> LlamaMetadata.toConfig(m, Path.of("a.gguf"), true, Optional.empty(), DType.F16));
    assertEquals(
        "a.gguf: key 'llama.block_count': expected an integer, got STRING", e.getMessage());
    GgufMetadata other = storiesModelKeys();
    other.put("general.architecture", GgufValue.string("qwen2"));
    e =
        assertThrows(
            ConversionException.class,
            () ->
                LlamaMetadata.toConfig(
                    other, Path.of("a.gguf"), true, Optional.empty(), DType.F16));
    assertTrue(e.getMessage().contains("qwen2"), e.getMessage());
    GgufMetadata missing = storiesModelKeys();
    missing.remove("llama.embedding_length");
    e =
        assertThrows(
            ConversionException.class,
            () ->
                LlamaMetadata.toConfig(
                    missing, Path.of("a.gguf"), true, Optional.empty(), DType.F16));
    assertEquals(Optional.of("llama.embedding_length"), e.key());
  }
}
