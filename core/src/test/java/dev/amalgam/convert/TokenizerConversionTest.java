package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.testing.TestAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerConversionTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path TOKENIZER = Path.of("m/tokenizer.json");
  private static final String TEMPLATE =
      "{{- bos_token }}{% for m in messages %}<|start_header_id|>"
          + "{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}";

  @TempDir Path tmp;

  /**
   * A Llama-3-shaped tokenizer.json: byte-level tokens, id 9 missing, three special added tokens
   * and one ordinary added token, the Llama-3 split regex, BOS added by a TemplateProcessing inside
   * a Sequence.
   */
  private static ObjectNode llama3Json(boolean pairMerges) throws Exception {
    ObjectNode t =
        (ObjectNode)
            JSON.readTree(
                """
        {"version": "1.0", "truncation": null, "padding": null,
         "added_tokens": [
           {"id": 10, "content": "<|begin_of_text|>", "special": true, "normalized": false},
           {"id": 11, "content": "<|end_of_text|>", "special": true, "normalized": false},
           {"id": 12, "content": "<|eot_id|>", "special": true, "normalized": false},
           {"id": 13, "content": "<extra>", "special": false, "normalized": false}],
         "normalizer": null,
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
           {"type": "Split", "pattern": {"Regex": "REGEX"}, "behavior": "Isolated", "invert": false},
           {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
         "post_processor": {"type": "Sequence", "processors": [
           {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
           {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [], "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [10],
                                           "tokens": ["<|begin_of_text|>"]}}}]},
         "decoder": {"type": "ByteLevel"},
         "model": {"type": "BPE", "ignore_merges": true,
           "vocab": {"t": 0, "h": 1, "e": 2, "Ġ": 3, "Ġt": 4, "he": 5, "Ġthe": 6, "a": 7, "Ġa": 8},
           "merges": []}}
        """
                    .replace("REGEX", TokenizerToGguf.LLAMA3_SPLIT_REGEX.replace("\\", "\\\\")));
    ArrayNode merges = ((ObjectNode) t.get("model")).putArray("merges");
    String[][] pairs = {{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}, {"Ġ", "a"}};
    for (String[] p : pairs) {
      if (pairMerges) merges.addArray().add(p[0]).add(p[1]);
      else merges.add(p[0] + " " + p[1]);
    }
    return t;
  }

  private static ObjectNode llama3Config() {
    ObjectNode c = JSON.createObjectNode();
    c.put("bos_token", "<|begin_of_text|>");
    c.put("eos_token", "<|eot_id|>");
    c.put("chat_template", TEMPLATE);
    c.put("tokenizer_class", "PreTrainedTokenizerFast");
    return c;
  }

  private static GgufMetadata convert(JsonNode json, Optional<JsonNode> config) throws Exception {
    return TokenizerToGguf.fromTokenizerJson(json, config, OptionalLong.empty(), TOKENIZER)
        .metadata();
  }

  @Test
  void llama3TokenizerGivesTheGgufKeysWithTheirTypes() throws Exception {
    ConversionResult r =
        TokenizerToGguf.fromTokenizerJson(
            llama3Json(false), Optional.of(llama3Config()), OptionalLong.empty(), TOKENIZER);
    assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    GgufMetadata m = r.metadata();
    assertEquals(
        Map.ofEntries(
            Map.entry("tokenizer.ggml.model", "STRING"),
            Map.entry("tokenizer.ggml.pre", "STRING"),
            Map.entry("tokenizer.ggml.tokens", "ARRAY[STRING]"),
            Map.entry("tokenizer.ggml.token_type", "ARRAY[INT32]"),
            Map.entry("tokenizer.ggml.merges", "ARRAY[STRING]"),
            Map.entry("tokenizer.ggml.bos_token_id", "UINT32"),
            Map.entry("tokenizer.ggml.eos_token_id", "UINT32"),
            Map.entry("tokenizer.ggml.add_bos_token", "BOOL"),
            Map.entry("tokenizer.ggml.add_eos_token", "BOOL"),
            Map.entry("tokenizer.chat_template", "STRING")),
        types(m));
    assertEquals("gpt2", m.getString("tokenizer.ggml.model").orElseThrow());
    assertEquals("llama-bpe", m.getString("tokenizer.ggml.pre").orElseThrow());
    assertArrayEquals(
        new String[] {
          "t",
          "h",
          "e",
          "Ġ",
          "Ġt",
          "he",
          "Ġthe",
          "a",
          "Ġa",
          "[PAD9]",
          "<|begin_of_text|>",
          "<|end_of_text|>",
          "<|eot_id|>",
          "<extra>"
        },
        m.get("tokenizer.ggml.tokens").orElseThrow().asStrings());
    assertArrayEquals(
        new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 3, 3, 3, 4},
        m.get("tokenizer.ggml.token_type").orElseThrow().asLongs());
    assertArrayEquals(
        new String[] {"Ġ t", "h e", "Ġt he", "Ġ a"},
        m.get("tokenizer.ggml.merges").orElseThrow().asStrings());
    assertEquals(10, m.getLong("tokenizer.ggml.bos_token_id").orElseThrow());
    assertEquals(
        12, m.getLong("tokenizer.ggml.eos_token_id").orElseThrow(), "eos from tokenizer_config");
    assertTrue(m.getBoolean("tokenizer.ggml.add_bos_token").orElseThrow());
    assertFalse(m.getBoolean("tokenizer.ggml.add_eos_token").orElseThrow());
    assertEquals(TEMPLATE, m.getString("tokenizer.chat_template").orElseThrow());
  }

  private static Map<String, String> types(GgufMetadata m) {
    java.util.Map<String, String> t = new java.util.HashMap<>();
    m.entries().forEach((k, v) -> t.put(k, v.describeType()));
    return t;
  }

  @Test
  void bothMergeEncodingsGiveTheSameMetadata() throws Exception {
    assertEquals(
        convert(llama3Json(false), Optional.of(llama3Config())),
        convert(llama3Json(true), Optional.of(llama3Config())));
  }

  @Test
  void spacesInsidePairMergesBecomeU0120() throws Exception {
    ObjectNode t = llama3Json(true);
    ((ArrayNode) t.get("model").get("merges")).addArray().add(" t").add("he");
    String[] merges =
        convert(t, Optional.empty()).get("tokenizer.ggml.merges").orElseThrow().asStrings();
    assertEquals("\u0120t he", merges[merges.length - 1]);
  }

  @Test
  void withoutTokenizerConfigBosComesFromTheTemplate() throws Exception {
    GgufMetadata m = convert(llama3Json(false), Optional.empty());
    assertEquals(10, m.getLong("tokenizer.ggml.bos_token_id").orElseThrow());
    assertFalse(m.contains("tokenizer.ggml.eos_token_id"));
    assertTrue(m.getBoolean("tokenizer.ggml.add_bos_token").orElseThrow());
    assertFalse(m.contains("tokenizer.chat_template"));
  }

  @Test
  void tokenizerConfigFlagsOverrideTheTemplateAndAcceptTokenObjects() throws Exception {
    ObjectNode c = llama3Config();
    c.put("add_bos_token", false);
    c.putObject("eos_token").put("content", "<|end_of_text|>").put("special", true);
    c.put("pad_token", "<extra>");
    GgufMetadata m = convert(llama3Json(false), Optional.of(c));
    assertFalse(m.getBoolean("tokenizer.ggml.add_bos_token").orElseThrow());
    assertEquals(11, m.getLong("tokenizer.ggml.eos_token_id").orElseThrow());
    assertEquals(13, m.getLong("tokenizer.ggml.padding_token_id").orElseThrow());
  }

  @Test
  void noTemplateMeansNoAddBosKey() throws Exception {
    ObjectNode t = llama3Json(false);
    t.putNull("post_processor");
    assertFalse(convert(t, Optional.of(llama3Config())).contains("tokenizer.ggml.add_bos_token"));
  }

  @Test
  void chatTemplateListUsesTheDefaultEntry() throws Exception {
    ObjectNode c = llama3Config();
    ArrayNode list = c.putArray("chat_template");
    list.addObject().put("name", "tool_use").put("template", "TOOLS");
    list.addObject().put("name", "default").put("template", "DEFAULT");
    GgufMetadata m = convert(llama3Json(false), Optional.of(c));
    assertEquals("DEFAULT", m.getString("tokenizer.chat_template").orElseThrow());
    assertEquals("TOOLS", m.getString("tokenizer.chat_template.tool_use").orElseThrow());
    assertArrayEquals(
        new String[] {"tool_use"}, m.get("tokenizer.chat_templates").orElseThrow().asStrings());
  }

  @Test
  void unknownPreTokenizerIsDefaultWithAWarning() throws Exception {
    ObjectNode t = llama3Json(false);
    t.putObject("pre_tokenizer").put("type", "ByteLevel").put("use_regex", true);
    ConversionResult r =
        TokenizerToGguf.fromTokenizerJson(t, Optional.empty(), OptionalLong.empty(), TOKENIZER);
    assertEquals("default", r.metadata().getString("tokenizer.ggml.pre").orElseThrow());
    assertEquals(1, r.warnings().size());
    assertTrue(r.warnings().get(0).contains("pre-tokenizer"), r.warnings().get(0));
  }

  @Test
  void vocabSizePadsWithUnusedTokensAndMustCoverEveryId() throws Exception {
    GgufMetadata m =
        TokenizerToGguf.fromTokenizerJson(
                llama3Json(false), Optional.empty(), OptionalLong.of(16), TOKENIZER)
            .metadata();
    String[] tokens = m.get("tokenizer.ggml.tokens").orElseThrow().asStrings();
    assertEquals(16, tokens.length);
    assertEquals("[PAD14]", tokens[14]);
    assertEquals(5, m.get("tokenizer.ggml.token_type").orElseThrow().asLongs()[15]);
    ConversionException e =
        assertThrows(
            ConversionException.class,
            () ->
                TokenizerToGguf.fromTokenizerJson(
                    llama3Json(false), Optional.empty(), OptionalLong.of(13), TOKENIZER));
    assertTrue(e.getMessage().contains("13"), e.getMessage());
  }

  @Test
  void malformedTokenizerJsonNamesTheKey() throws Exception {
    ObjectNode wordPiece = llama3Json(false);
    ((ObjectNode) wordPiece.get("model")).put("type", "WordPiece");
    assertKey("model.type", wordPiece);
    ObjectNode badMerge = llama3Json(false);
    ((ArrayNode) badMerge.get("model").get("merges")).add("nospace");
    assertKey("model.merges[4]", badMerge);
    ObjectNode badPair = llama3Json(false);
    ((ArrayNode) badPair.get("model").get("merges")).addArray().add("a");
    assertKey("model.merges[4]", badPair);
    ObjectNode badId = llama3Json(false);
    ((ObjectNode) badId.get("model").get("vocab")).put("x", "12");
    assertKey("model.vocab.x", badId);
    ObjectNode duplicateId = llama3Json(false);
    ((ObjectNode) duplicateId.get("model").get("vocab")).put("x", 3);
    assertKey("model.vocab", duplicateId);
    ObjectNode noMerges = llama3Json(false);
    ((ObjectNode) noMerges.get("model")).remove("merges");
    assertKey("model.merges", noMerges);
    ObjectNode badAdded = llama3Json(false);
    ((ObjectNode) badAdded.get("added_tokens").get(1)).put("special", "yes");
    assertKey("special", badAdded);
  }

  private static void assertKey(String key, ObjectNode tokenizer) {
    ConversionException e =
        assertThrows(
            ConversionException.class,
            () ->
                TokenizerToGguf.fromTokenizerJson(
                    tokenizer, Optional.empty(), OptionalLong.empty(), TOKENIZER));
    assertEquals(Optional.of(key), e.key(), e.getMessage());
    assertTrue(e.getMessage().startsWith(TOKENIZER.toString()), e.getMessage());
  }

  @Test
  void tokenizerJsonRoundTripGivesEqualMetadata() throws Exception {
    for (boolean pairs : new boolean[] {false, true}) {
      GgufMetadata first = convert(llama3Json(pairs), Optional.of(llama3Config()));
      ObjectNode json = GgufToTokenizer.tokenizerJson(first, Path.of("x.gguf"));
      ObjectNode config = GgufToTokenizer.tokenizerConfig(first, Path.of("x.gguf"));
      GgufMetadata second =
          TokenizerToGguf.fromTokenizerJson(
                  json, Optional.of(config), OptionalLong.of(14), TOKENIZER)
              .metadata();
      assertEquals(first, second);
      // the PAD id is left out of tokenizer.json, control and user-defined tokens are added tokens
      assertFalse(json.get("model").get("vocab").has("[PAD9]"));
      assertEquals(4, json.get("added_tokens").size());
      assertFalse(json.get("added_tokens").get(3).get("special").asBoolean());
    }
  }

  @Test
  void writtenTokenizerFilesConvertBack(@TempDir Path dir) throws Exception {
    GgufMetadata first = convert(llama3Json(true), Optional.of(llama3Config()));
    GgufToTokenizer.TokenizerFiles files = GgufToTokenizer.write(first, Path.of("x.gguf"), dir);
    assertEquals(
        List.of(dir.resolve("tokenizer.json"), dir.resolve("tokenizer_config.json")),
        files.files());
    assertTrue(files.warnings().isEmpty(), files.warnings().toString());
    assertEquals(first, TokenizerToGguf.fromDirectory(dir, OptionalLong.of(14)).metadata());
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(2, s.count(), "no temporary files left");
    }
  }

  // ---------------------------------------------------------------- SentencePiece

  private static GgufMetadata tokenizerKeys(GgufMetadata all) {
    GgufMetadata m = new GgufMetadata();
    all.entries()
        .forEach(
            (k, v) -> {
              if (k.startsWith("tokenizer.")) m.put(k, v);
            });
    return m;
  }

  @Test
  void stories260KTokenizerRoundTripsThroughTokenizerModel(@TempDir Path dir) throws Exception {
    Path stories = TestAssets.stories260K();
    GgufMetadata original = tokenizerKeys(GgufKv.read(stories));
    assertEquals(512, original.get("tokenizer.ggml.tokens").orElseThrow().length());
    GgufToTokenizer.write(original, stories, dir);
    assertTrue(Files.isRegularFile(dir.resolve("tokenizer.model")));
    GgufMetadata back = TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()).metadata();
    // stories260K stores its unset separator/padding ids as 0xFFFFFFFF and has no add_bos key (SPM
    // default: true)
    GgufMetadata expected = new GgufMetadata(original);
    expected.remove("tokenizer.ggml.seperator_token_id").remove("tokenizer.ggml.padding_token_id");
    expected.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
    expected.put("tokenizer.ggml.add_eos_token", GgufValue.bool(false));
    assertEquals(expected, back);
    assertEquals("ARRAY[FLOAT32]", back.get("tokenizer.ggml.scores").orElseThrow().describeType());
    assertEquals(
        "ARRAY[INT32]", back.get("tokenizer.ggml.token_type").orElseThrow().describeType());
    assertEquals("UINT32", back.get("tokenizer.ggml.bos_token_id").orElseThrow().describeType());
  }

  @Test
  void sentencePieceMetadataRoundTripsExactly() throws Exception {
    GgufMetadata original = SyntheticTokenizers.sentencePieceMetadata(400);
    original.put("tokenizer.chat_template", GgufValue.string(TEMPLATE));
    byte[] model = GgufToTokenizer.sentencePieceModel(original, Path.of("x.gguf"));
    ObjectNode config = GgufToTokenizer.tokenizerConfig(original, Path.of("x.gguf"));
    assertEquals("LlamaTokenizer", config.get("tokenizer_class").asText());
    assertEquals("<s>", config.get("bos_token").asText());
    GgufMetadata back =
        TokenizerToGguf.fromSentencePiece(
                model, Optional.of(config), OptionalLong.empty(), Path.of("m/tokenizer.model"))
            .metadata();
    assertEquals(original, back);
  }

  @Test
  void sentencePieceIdsComeFromConfigThenTrainerSpec() throws Exception {
    GgufMetadata m = SyntheticTokenizers.sentencePieceMetadata(300);
    m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(5)); // trainer spec eos_id = 5
    m.put("tokenizer.ggml.padding_token_id", GgufValue.uint32(0xFFFFFFFFL)); // unset: pad_id -1
    byte[] model = GgufToTokenizer.sentencePieceModel(m, Path.of("x.gguf"));
    Path file = Path.of("m/tokenizer.model");
    GgufMetadata noConfig =
        TokenizerToGguf.fromSentencePiece(model, Optional.empty(), OptionalLong.of(310), file)
            .metadata();
    assertEquals(5, noConfig.getLong("tokenizer.ggml.eos_token_id").orElseThrow());
    assertFalse(noConfig.contains("tokenizer.ggml.padding_token_id"));
    assertEquals(310, noConfig.get("tokenizer.ggml.tokens").orElseThrow().length());
    assertEquals(-1000f, noConfig.get("tokenizer.ggml.scores").orElseThrow().asFloats()[305]);
    ObjectNode config =
        JSON.createObjectNode().put("eos_token", "</s>").put("add_bos_token", false);
    GgufMetadata withConfig =
        TokenizerToGguf.fromSentencePiece(model, Optional.of(config), OptionalLong.empty(), file)
            .metadata();
    assertEquals(2, withConfig.getLong("tokenizer.ggml.eos_token_id").orElseThrow());
    assertFalse(withConfig.getBoolean("tokenizer.ggml.add_bos_token").orElseThrow());
  }

  @Test
  void tokenizerJsonInABrokenUtf32EncodingNamesTheFile(@TempDir Path dir) throws Exception {
    // Found by TokenizerJsonFuzzTest: the leading bytes make Jackson read UTF-32, and the code
    // unit 0xf7ff0000 then escaped as a bare CharConversionException without the file's name.
    Path json = Files.write(dir.resolve("tokenizer.json"), new byte[] {1, 0, 0, 0, 0, 0, 0, -8});
    ConversionException e =
        assertThrows(
            ConversionException.class,
            () -> TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()));
    assertTrue(e.getMessage().startsWith(json + ": not valid JSON text: "), e.getMessage());
  }

  @Test
  void tokenIdNear2To31IsRefusedBeforeItsPaddingIsAllocated(@TempDir Path dir) throws Exception {
    // Every id below the largest becomes a token: this one used to run out of heap.
    Path json =
        Files.writeString(
            dir.resolve("tokenizer.json"),
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 2000000000}, \"merges\": []}}");
    ConversionException e =
        assertThrows(
            ConversionException.class,
            () -> TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()));
    assertEquals(
        json
            + ": key 'model.vocab.a': token id 2000000000 is outside [0, "
            + TokenizerToGguf.MAX_VOCAB
            + ")",
        e.getMessage());
  }

  @Test
  void directoryPrefersTokenizerModelAndReadsChatTemplateJinja(@TempDir Path dir) throws Exception {
    SyntheticTokenizers.writeSentencePiece(dir, 300);
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\"}}");
    Files.writeString(dir.resolve("chat_template.jinja"), TEMPLATE);
    GgufMetadata m = TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()).metadata();
    assertEquals("llama", m.getString("tokenizer.ggml.model").orElseThrow());
    assertEquals(TEMPLATE, m.getString("tokenizer.chat_template").orElseThrow());
  }

  @Test
  void directoryErrorsNameTheFile(@TempDir Path dir) throws Exception {
    ConversionException e =
        assertThrows(
            ConversionException.class,
            () -> TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()));
    assertTrue(e.getMessage().contains("no tokenizer.model or tokenizer.json"), e.getMessage());
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
    e =
        assertThrows(
            ConversionException.class,
            () -> TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()));
    assertTrue(
        e.getMessage().startsWith(dir.resolve("tokenizer.json") + ": not valid JSON"),
        e.getMessage());
    Files.writeString(dir.resolve("tokenizer.json"), "{\"a\": 1, \"a\": 2}");
    e =
        assertThrows(
            ConversionException.class,
            () -> TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()));
    assertTrue(e.getMessage().contains("Duplicate field"), e.getMessage());
    Files.write(dir.resolve("tokenizer.model"), new byte[] {0x0A, 0x05, 0x0A});
    e =
        assertThrows(
            ConversionException.class,
            () -> TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()));
    assertTrue(
        e.getMessage().startsWith(dir.resolve("tokenizer.model") + ": key 'ModelProto'"),
        e.getMessage());
  }

  @Test
  void writingRejectsUnsupportedOrBrokenMetadataAndLeavesNothing(@TempDir Path dir)
      throws Exception {
    GgufMetadata bert = SyntheticTokenizers.llama3Metadata(300);
    bert.put("tokenizer.ggml.model", GgufValue.string("bert"));
    ConversionException e =
        assertThrows(
            ConversionException.class, () -> GgufToTokenizer.write(bert, Path.of("b.gguf"), dir));
    assertTrue(e.getMessage().contains("'bert'"), e.getMessage());
    GgufMetadata noUnknown = SyntheticTokenizers.sentencePieceMetadata(300);
    long[] types = noUnknown.get("tokenizer.ggml.token_type").orElseThrow().asLongs().clone();
    types[0] = 1;
    noUnknown.put(
        "tokenizer.ggml.token_type",
        GgufValue.integers(dev.amalgam.io.gguf.GgufValueType.INT32, types));
    e =
        assertThrows(
            ConversionException.class,
            () -> GgufToTokenizer.write(noUnknown, Path.of("s.gguf"), dir));
    assertEquals(Optional.of("tokenizer.ggml.token_type"), e.key());
    GgufMetadata shortTypes = SyntheticTokenizers.llama3Metadata(300);
    shortTypes.put(
        "tokenizer.ggml.token_type",
        GgufValue.integers(dev.amalgam.io.gguf.GgufValueType.INT32, 1));
    assertThrows(
        ConversionException.class, () -> GgufToTokenizer.write(shortTypes, Path.of("s.gguf"), dir));
    // a directory where tokenizer_config.json should go makes the rename fail: no temporary file
    // survives
    Files.createDirectories(dir.resolve("tokenizer_config.json").resolve("occupied"));
    assertThrows(
        java.io.IOException.class,
        () ->
            GgufToTokenizer.write(SyntheticTokenizers.llama3Metadata(300), Path.of("l.gguf"), dir));
    try (Stream<Path> s = Files.list(dir)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
    }
  }
}
