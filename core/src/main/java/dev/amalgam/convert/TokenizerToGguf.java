package dev.amalgam.convert;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufValueType;
import java.io.CharConversionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * Converts Hugging Face tokenizer files to GGUF tokenizer metadata (docs/formats.md §4.5), as
 * llama.cpp's converter does for the Llama family:
 *
 * <ul>
 *   <li>SentencePiece ({@code tokenizer.model}, Llama 1/2, Mistral): model "llama", tokens, scores
 *       and types from the pieces, special ids from tokenizer_config.json, else the trainer spec,
 *       else 0/1/2;
 *   <li>byte-level BPE ({@code tokenizer.json}, Llama 3.x): model "gpt2", pre-tokenizer name,
 *       tokens by id (vocabulary and added tokens; missing ids become {@code [PAD<id>]}), types,
 *       merges, BOS/EOS and the add-BOS flag.
 * </ul>
 *
 * In both cases the chat template of tokenizer_config.json (or chat_template.jinja) is carried
 * over.
 */
public final class TokenizerToGguf {
  /**
   * The Llama-3 pre-tokenizer split regex (tokenizer.json {@code pre_tokenizer}); llama.cpp calls
   * this pre-tokenizer "llama-bpe".
   */
  public static final String LLAMA3_SPLIT_REGEX =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
          + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  /** GGUF pre-tokenizer name for {@link #LLAMA3_SPLIT_REGEX}. */
  public static final String PRE_LLAMA_BPE = "llama-bpe";

  /** GGUF pre-tokenizer name llama.cpp falls back to for pre-tokenizers it does not know. */
  public static final String PRE_DEFAULT = "default";

  static final String TOKENIZER_JSON = "tokenizer.json";
  static final String TOKENIZER_MODEL = "tokenizer.model";
  static final String TOKENIZER_CONFIG = "tokenizer_config.json";
  static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

  /** Score llama.cpp gives SentencePiece padding tokens. */
  static final float PAD_SCORE = -1000f;

  /**
   * Largest vocabulary accepted, 8 times the largest real one (Gemma 3's 262 k): ids the tokenizer
   * leaves out become padding tokens, so a corrupt id near 2^31 would otherwise demand gigabytes.
   */
  static final long MAX_VOCAB = 1 << 21;

  /** Largest tokenizer.model read: it is read into one Java array. */
  private static final long MAX_MODEL_BYTES = Integer.MAX_VALUE - 8;

  private static final char SPACE_IN_MERGE = '\u0120';

  private TokenizerToGguf() {}

  /**
   * Converts the tokenizer of a Hugging Face model directory: {@code tokenizer.model} when present
   * (llama.cpp prefers SentencePiece too), else {@code tokenizer.json}; {@code
   * tokenizer_config.json} and {@code chat_template.jinja} are read when present.
   *
   * @param dir the model directory
   * @param vocabSize the model's vocabulary size (config.json {@code vocab_size}, the embedding
   *     rows) when known; ids the tokenizer does not define up to it become padding tokens
   * @throws ConversionException when no tokenizer is found or a file is malformed
   */
  public static ConversionResult fromDirectory(Path dir, OptionalLong vocabSize)
      throws IOException {
    Path config = dir.resolve(TOKENIZER_CONFIG);
    Optional<JsonNode> tokenizerConfig =
        Files.isRegularFile(config) ? Optional.of(readJson(config)) : Optional.empty();
    Path jinja = dir.resolve(CHAT_TEMPLATE_FILE);
    if (Files.isRegularFile(jinja)
        && tokenizerConfig
            .map(c -> c.get("chat_template") == null || c.get("chat_template").isNull())
            .orElse(true)) {
      ObjectNode withTemplate =
          tokenizerConfig
              .map(c -> ((ObjectNode) c).deepCopy())
              .orElseGet(() -> new ObjectMapper().createObjectNode());
      withTemplate.put("chat_template", Files.readString(jinja, StandardCharsets.UTF_8));
      tokenizerConfig = Optional.of(withTemplate);
    }
    Path model = dir.resolve(TOKENIZER_MODEL);
    if (Files.isRegularFile(model)) {
      long size = Files.size(model);
      if (size > MAX_MODEL_BYTES)
        throw new ConversionException(model, null, "file of " + size + " bytes is too large");
      return fromSentencePiece(Files.readAllBytes(model), tokenizerConfig, vocabSize, model);
    }
    Path json = dir.resolve(TOKENIZER_JSON);
    if (Files.isRegularFile(json))
      return fromTokenizerJson(readJson(json), tokenizerConfig, vocabSize, json);
    throw new ConversionException(
        dir, null, "no " + TOKENIZER_MODEL + " or " + TOKENIZER_JSON + " found");
  }

  /**
   * Parses a JSON file, rejecting syntax errors and duplicate keys with a message naming the file.
   */
  static JsonNode readJson(Path file) throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    try {
      JsonNode n = mapper.readTree(file.toFile());
      if (n == null || !n.isObject())
        throw new ConversionException(file, null, "expected a JSON object");
      return n;
    } catch (JsonProcessingException e) {
      throw new ConversionException(file, null, "not valid JSON: " + e.getOriginalMessage(), e);
    } catch (CharConversionException e) {
      // Jackson guesses UTF-16/32 from the first bytes and reports their bad code units this way.
      throw new ConversionException(file, null, "not valid JSON text: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- byte-level BPE
  // (tokenizer.json)

  /**
   * Converts a byte-level BPE tokenizer.json.
   *
   * @param tokenizer the parsed tokenizer.json
   * @param tokenizerConfig the parsed tokenizer_config.json, if any: bos/eos/pad tokens (as strings
   *     or {@code {"content": ...}} objects), add_bos_token/add_eos_token (which override the
   *     post-processor, as in gguf-py) and chat_template (a string, or a list of {@code {name,
   *     template}} objects)
   * @param vocabSize the model's vocabulary size, if known (see {@link #fromDirectory})
   * @param tokenizerFile the path of tokenizer.json, for messages; tokenizer_config.json is assumed
   *     beside it
   */
  public static ConversionResult fromTokenizerJson(
      JsonNode tokenizer,
      Optional<JsonNode> tokenizerConfig,
      OptionalLong vocabSize,
      Path tokenizerFile)
      throws ConversionException {
    JsonFields f = new JsonFields(tokenizerFile);
    List<String> collected = new ArrayList<>();
    WarningListener warnings = collected::add;
    JsonNode model =
        f.optObject(tokenizer, "model")
            .orElseThrow(() -> f.error("model", "required key is missing"));
    Optional<String> type = f.optString(model, "type");
    if (type.isPresent() && !type.get().equals("BPE")) {
      throw f.error(
          "model.type",
          "only BPE tokenizers convert to a gpt2 GGUF vocabulary, got '" + type.get() + "'");
    }
    JsonNode vocab =
        f.optObject(model, "vocab")
            .orElseThrow(() -> f.error("model.vocab", "required key is missing"));

    TreeMap<Integer, String> byId = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : vocab.properties()) {
      int id = tokenId(e.getValue(), f, "model.vocab." + e.getKey());
      String previous = byId.put(id, e.getKey());
      if (previous != null) {
        throw f.error(
            "model.vocab",
            "id " + id + " is used by both '" + previous + "' and '" + e.getKey() + "'");
      }
    }
    Map<Integer, Boolean> added = new HashMap<>();
    Map<String, Integer> addedIds = new HashMap<>();
    Optional<JsonNode> addedTokens = f.optArray(tokenizer, "added_tokens");
    if (addedTokens.isPresent()) {
      int index = 0;
      for (JsonNode t : addedTokens.get()) {
        String key = "added_tokens[" + index++ + "]";
        if (!t.isObject()) throw f.error(key, "expected an object, got " + JsonFields.describe(t));
        int id = tokenId(t.get("id"), f, key + ".id");
        String content =
            f.optString(t, "content").orElseThrow(() -> f.error(key + ".content", "missing"));
        boolean special = f.optBoolean(t, "special").orElse(false);
        String inVocab = byId.put(id, content);
        if (inVocab != null && !inVocab.equals(content)) {
          warnings.warn(
              tokenizerFile
                  + ": added token "
                  + id
                  + " '"
                  + content
                  + "' replaces vocabulary entry '"
                  + inVocab
                  + "'");
        }
        if (added.put(id, special) != null)
          throw f.error(key + ".id", "id " + id + " is added twice");
        addedIds.putIfAbsent(content, id);
      }
    }
    if (byId.isEmpty()) throw f.error("model.vocab", "the vocabulary is empty");
    int count = vocabularySize(byId.lastKey(), vocabSize, tokenizerFile);

    String[] tokens = new String[count];
    long[] types = new long[count];
    Map<String, Integer> idOf = new HashMap<>(addedIds);
    for (int i = 0; i < count; i++) {
      String t = byId.get(i);
      if (t == null) {
        tokens[i] = "[PAD" + i + "]";
        types[i] = TokenizerKeys.TYPE_UNUSED;
      } else {
        tokens[i] = t;
        Boolean special = added.get(i);
        types[i] =
            special == null
                ? TokenizerKeys.TYPE_NORMAL
                : special ? TokenizerKeys.TYPE_CONTROL : TokenizerKeys.TYPE_USER_DEFINED;
        idOf.putIfAbsent(t, i);
      }
    }
    String[] merges = merges(model, f);

    GgufMetadata m = new GgufMetadata();
    m.put(TokenizerKeys.MODEL, GgufValue.string("gpt2"));
    m.put(TokenizerKeys.PRE, GgufValue.string(preTokenizer(tokenizer, tokenizerFile, warnings)));
    m.put(TokenizerKeys.TOKENS, GgufValue.strings(tokens));
    m.put(TokenizerKeys.TOKEN_TYPE, GgufValue.integers(GgufValueType.INT32, types));
    m.put(TokenizerKeys.MERGES, GgufValue.strings(merges));

    JsonFields cf = new JsonFields(tokenizerFile.resolveSibling(TOKENIZER_CONFIG));
    Template template = template(tokenizer, f);
    Optional<String> bosText = configToken(tokenizerConfig, "bos_token", cf);
    if (bosText.isEmpty() && template.first() != null) bosText = Optional.of(template.first());
    Optional<String> eosText = configToken(tokenizerConfig, "eos_token", cf);
    OptionalInt bos = resolve(bosText, idOf, "bos_token", tokenizerFile, warnings);
    OptionalInt eos = resolve(eosText, idOf, "eos_token", tokenizerFile, warnings);
    OptionalInt unk =
        resolve(
            configToken(tokenizerConfig, "unk_token", cf),
            idOf,
            "unk_token",
            tokenizerFile,
            warnings);
    OptionalInt pad =
        resolve(
            configToken(tokenizerConfig, "pad_token", cf),
            idOf,
            "pad_token",
            tokenizerFile,
            warnings);
    putId(m, TokenizerKeys.BOS_ID, bos);
    putId(m, TokenizerKeys.EOS_ID, eos);
    putId(m, TokenizerKeys.UNKNOWN_ID, unk);
    putId(m, TokenizerKeys.PADDING_ID, pad);

    Optional<Boolean> addBos = Optional.empty();
    Optional<Boolean> addEos = Optional.empty();
    if (template.present()) {
      addBos =
          Optional.of(
              template.first() != null && bosText.map(template.first()::equals).orElse(false));
      addEos =
          Optional.of(
              template.last() != null && eosText.map(template.last()::equals).orElse(false));
    }
    if (tokenizerConfig.isPresent()) {
      Optional<Boolean> b = cf.optBoolean(tokenizerConfig.get(), "add_bos_token");
      Optional<Boolean> e = cf.optBoolean(tokenizerConfig.get(), "add_eos_token");
      if (b.isPresent()) addBos = b;
      if (e.isPresent()) addEos = e;
    }
    addBos.ifPresent(b -> m.put(TokenizerKeys.ADD_BOS, GgufValue.bool(b)));
    addEos.ifPresent(e -> m.put(TokenizerKeys.ADD_EOS, GgufValue.bool(e)));
    chatTemplates(tokenizerConfig, cf, m, warnings);
    return new ConversionResult(m, collected);
  }

  private static int tokenId(JsonNode id, JsonFields f, String key) throws ConversionException {
    if (id == null || !id.isIntegralNumber()) {
      throw f.error(
          key, "expected a token id, got " + (id == null ? "nothing" : JsonFields.describe(id)));
    }
    if (!id.canConvertToLong() || id.longValue() < 0 || id.longValue() >= MAX_VOCAB) {
      throw f.error(key, "token id " + id.asText() + " is outside [0, " + MAX_VOCAB + ")");
    }
    return id.intValue();
  }

  private static int vocabularySize(int maxId, OptionalLong vocabSize, Path file)
      throws ConversionException {
    if (vocabSize.isEmpty()) return maxId + 1;
    long n = vocabSize.getAsLong();
    if (n <= maxId) {
      throw new ConversionException(
          file, null, "defines token id " + maxId + " but the model's vocab_size is " + n);
    }
    if (n > MAX_VOCAB)
      throw new ConversionException(file, null, "vocab_size " + n + " is too large");
    return (int) n;
  }

  /**
   * tokenizer.json merges in either encoding: "a b" strings, or [a, b] pairs (spaces in parts
   * become U+0120).
   */
  private static String[] merges(JsonNode model, JsonFields f) throws ConversionException {
    JsonNode merges =
        f.optArray(model, "merges")
            .orElseThrow(
                () ->
                    f.error(
                        "model.merges", "required key is missing (llama.cpp needs BPE merges)"));
    String[] out = new String[merges.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode m = merges.get(i);
      String key = "model.merges[" + i + "]";
      if (m.isTextual()) {
        String s = m.textValue();
        int space = s.indexOf(' ');
        if (space <= 0 || space == s.length() - 1 || s.indexOf(' ', space + 1) >= 0) {
          throw f.error(key, "expected \"left right\" with one space, got \"" + s + "\"");
        }
        out[i] = s;
      } else if (m.isArray()
          && m.size() == 2
          && m.get(0).isTextual()
          && m.get(1).isTextual()
          && !m.get(0).textValue().isEmpty()
          && !m.get(1).textValue().isEmpty()) {
        out[i] =
            m.get(0).textValue().replace(' ', SPACE_IN_MERGE)
                + " "
                + m.get(1).textValue().replace(' ', SPACE_IN_MERGE);
      } else {
        throw f.error(
            key,
            "expected a \"left right\" string or a pair of strings, got " + JsonFields.describe(m));
      }
    }
    return out;
  }

  /** The GGUF pre-tokenizer name, chosen from tokenizer.json's Split regex. */
  private static String preTokenizer(JsonNode tokenizer, Path file, WarningListener warnings) {
    JsonNode pre = tokenizer.get("pre_tokenizer");
    List<JsonNode> parts = new ArrayList<>();
    if (pre != null && pre.isObject()) {
      JsonNode seq = pre.get("pretokenizers");
      if ("Sequence".equals(pre.path("type").asText()) && seq != null && seq.isArray()) {
        seq.forEach(parts::add);
      } else {
        parts.add(pre);
      }
    }
    for (JsonNode p : parts) {
      if ("Split".equals(p.path("type").asText())
          && LLAMA3_SPLIT_REGEX.equals(p.path("pattern").path("Regex").asText(null))) {
        return PRE_LLAMA_BPE;
      }
    }
    warnings.warn(
        file
            + ": pre-tokenizer not recognised (only the Llama-3 split regex is); llama.cpp will use its "
            + "'default' pre-tokenizer, which may split text differently from the original tokenizer");
    return PRE_DEFAULT;
  }

  /**
   * The post-processor's single-sequence template: whether there is one, and the special tokens it
   * starts and ends with (null when it starts or ends with the sequence itself).
   */
  private record Template(boolean present, String first, String last) {}

  private static Template template(JsonNode tokenizer, JsonFields f) throws ConversionException {
    JsonNode post = tokenizer.get("post_processor");
    if (post == null || !post.isObject()) return new Template(false, null, null);
    JsonNode processor = null;
    if ("TemplateProcessing".equals(post.path("type").asText())) {
      processor = post;
    } else if ("Sequence".equals(post.path("type").asText()) && post.path("processors").isArray()) {
      for (JsonNode p : post.get("processors")) {
        if ("TemplateProcessing".equals(p.path("type").asText())) processor = p;
      }
    }
    if (processor == null) return new Template(false, null, null);
    JsonNode single = processor.get("single");
    if (single == null || !single.isArray() || single.isEmpty()) {
      throw f.error(
          "post_processor.single", "TemplateProcessing without a single-sequence template");
    }
    return new Template(
        true, specialTokenOf(single.get(0)), specialTokenOf(single.get(single.size() - 1)));
  }

  private static String specialTokenOf(JsonNode item) {
    JsonNode id = item.path("SpecialToken").path("id");
    return id.isTextual() ? id.textValue() : null;
  }

  /** A token named in tokenizer_config.json, as a string or an AddedToken object with "content". */
  private static Optional<String> configToken(Optional<JsonNode> config, String key, JsonFields cf)
      throws ConversionException {
    if (config.isEmpty()) return Optional.empty();
    Optional<JsonNode> v = cf.get(config.get(), key);
    if (v.isEmpty()) return Optional.empty();
    if (v.get().isTextual()) return Optional.of(v.get().textValue());
    if (v.get().isObject() && v.get().path("content").isTextual())
      return Optional.of(v.get().get("content").textValue());
    throw cf.error(
        key,
        "expected a token string or an object with 'content', got " + JsonFields.describe(v.get()));
  }

  private static OptionalInt resolve(
      Optional<String> text,
      Map<String, Integer> idOf,
      String what,
      Path file,
      WarningListener warnings) {
    if (text.isEmpty()) return OptionalInt.empty();
    Integer id = idOf.get(text.get());
    if (id == null) {
      warnings.warn(
          file
              + ": "
              + what
              + " '"
              + text.get()
              + "' is not in the vocabulary; its id is not written");
      return OptionalInt.empty();
    }
    return OptionalInt.of(id);
  }

  private static void putId(GgufMetadata m, String key, OptionalInt id) {
    if (id.isPresent()) m.put(key, GgufValue.uint32(id.getAsInt()));
  }

  /**
   * tokenizer_config.json chat_template: a string, or a list of named templates ("default" is the
   * main one).
   */
  private static void chatTemplates(
      Optional<JsonNode> config, JsonFields cf, GgufMetadata m, WarningListener warnings)
      throws ConversionException {
    if (config.isEmpty()) return;
    Optional<JsonNode> t = cf.get(config.get(), "chat_template");
    if (t.isEmpty()) return;
    if (t.get().isTextual()) {
      m.put(TokenizerKeys.CHAT_TEMPLATE, GgufValue.string(t.get().textValue()));
      return;
    }
    if (!t.get().isArray()) {
      throw cf.error(
          "chat_template",
          "expected a string or a list of {name, template}, got " + JsonFields.describe(t.get()));
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < t.get().size(); i++) {
      JsonNode entry = t.get().get(i);
      String key = "chat_template[" + i + "]";
      if (!entry.isObject())
        throw cf.error(key, "expected an object, got " + JsonFields.describe(entry));
      String name =
          cf.optString(entry, "name").orElseThrow(() -> cf.error(key + ".name", "missing"));
      String template =
          cf.optString(entry, "template").orElseThrow(() -> cf.error(key + ".template", "missing"));
      if (name.equals("default")) {
        m.put(TokenizerKeys.CHAT_TEMPLATE, GgufValue.string(template));
      } else {
        if (!name.matches("[A-Za-z0-9_]+")) {
          warnings.warn(
              cf.file()
                  + ": chat template '"
                  + name
                  + "' skipped: its name is not a valid GGUF key part");
          continue;
        }
        m.put(TokenizerKeys.CHAT_TEMPLATE_PREFIX + name, GgufValue.string(template));
        names.add(name);
      }
    }
    if (!m.contains(TokenizerKeys.CHAT_TEMPLATE)) {
      warnings.warn(
          cf.file()
              + ": chat_template list has no 'default' entry; no default template is written");
    }
    if (!names.isEmpty())
      m.put(TokenizerKeys.CHAT_TEMPLATES, GgufValue.strings(names.toArray(String[]::new)));
  }

  // ---------------------------------------------------------------- SentencePiece
  // (tokenizer.model)

  /**
   * Converts a SentencePiece tokenizer.model.
   *
   * <p>Token types are the piece types (NORMAL 1 ... BYTE 6, the same numbering in GGUF). Special
   * ids: a token named by tokenizer_config.json ({@code bos_token}, {@code eos_token}, {@code
   * unk_token}, {@code pad_token}), else the trainer spec's id (unknown: the UNKNOWN piece first),
   * else the conventional 0 (unk), 1 (bos), 2 (eos). add_bos_token/add_eos_token come from
   * tokenizer_config.json, defaulting to true/false as for LlamaTokenizer.
   *
   * @param model the bytes of tokenizer.model
   * @param tokenizerConfig the parsed tokenizer_config.json, if any
   * @param vocabSize the model's vocabulary size, if known; missing ids become {@code [PAD<id>]}
   *     with score -1000 and type UNUSED
   * @param modelFile the path of tokenizer.model, for messages; tokenizer_config.json is assumed
   *     beside it
   */
  public static ConversionResult fromSentencePiece(
      byte[] model, Optional<JsonNode> tokenizerConfig, OptionalLong vocabSize, Path modelFile)
      throws ConversionException {
    List<String> collected = new ArrayList<>();
    WarningListener warnings = collected::add;
    SentencePieceModel sp = SentencePieceModel.parse(model, modelFile);
    int count = vocabularySize(sp.pieces().size() - 1, vocabSize, modelFile);
    String[] tokens = new String[count];
    float[] scores = new float[count];
    long[] types = new long[count];
    Map<String, Integer> idOf = new HashMap<>();
    OptionalInt firstUnknown = OptionalInt.empty();
    for (int i = 0; i < count; i++) {
      if (i < sp.pieces().size()) {
        SentencePieceModel.Piece p = sp.pieces().get(i);
        tokens[i] = p.piece();
        scores[i] = p.score();
        types[i] = p.type();
        if (idOf.putIfAbsent(p.piece(), i) != null) {
          throw new ConversionException(
              modelFile,
              "ModelProto.pieces[" + i + "]",
              "piece '" + p.piece() + "' is defined twice");
        }
        if (p.type() == TokenizerKeys.TYPE_UNKNOWN && firstUnknown.isEmpty())
          firstUnknown = OptionalInt.of(i);
      } else {
        tokens[i] = "[PAD" + i + "]";
        scores[i] = PAD_SCORE;
        types[i] = TokenizerKeys.TYPE_UNUSED;
      }
    }

    GgufMetadata m = new GgufMetadata();
    m.put(TokenizerKeys.MODEL, GgufValue.string("llama"));
    m.put(TokenizerKeys.TOKENS, GgufValue.strings(tokens));
    m.put(TokenizerKeys.SCORES, GgufValue.float32s(scores));
    m.put(TokenizerKeys.TOKEN_TYPE, GgufValue.integers(GgufValueType.INT32, types));

    JsonFields cf = new JsonFields(modelFile.resolveSibling(TOKENIZER_CONFIG));
    SentencePieceModel.TrainerIds trainer =
        sp.trainer().orElse(SentencePieceModel.TrainerIds.defaults());
    OptionalInt bos =
        specialId(
            tokenizerConfig, "bos_token", cf, idOf, trainer.bos(), count, modelFile, warnings);
    OptionalInt eos =
        specialId(
            tokenizerConfig, "eos_token", cf, idOf, trainer.eos(), count, modelFile, warnings);
    OptionalInt unk =
        specialId(
            tokenizerConfig,
            "unk_token",
            cf,
            idOf,
            firstUnknown.orElse(trainer.unk()),
            count,
            modelFile,
            warnings);
    OptionalInt pad =
        specialId(
            tokenizerConfig, "pad_token", cf, idOf, trainer.pad(), count, modelFile, warnings);
    putId(m, TokenizerKeys.BOS_ID, bos);
    putId(m, TokenizerKeys.EOS_ID, eos);
    putId(m, TokenizerKeys.UNKNOWN_ID, unk);
    putId(m, TokenizerKeys.PADDING_ID, pad);
    boolean addBos = true;
    boolean addEos = false;
    if (tokenizerConfig.isPresent()) {
      addBos = cf.optBoolean(tokenizerConfig.get(), "add_bos_token").orElse(true);
      addEos = cf.optBoolean(tokenizerConfig.get(), "add_eos_token").orElse(false);
    }
    m.put(TokenizerKeys.ADD_BOS, GgufValue.bool(addBos));
    m.put(TokenizerKeys.ADD_EOS, GgufValue.bool(addEos));
    chatTemplates(tokenizerConfig, cf, m, warnings);
    return new ConversionResult(m, collected);
  }

  private static OptionalInt specialId(
      Optional<JsonNode> config,
      String key,
      JsonFields cf,
      Map<String, Integer> idOf,
      int fallback,
      int count,
      Path file,
      WarningListener warnings)
      throws ConversionException {
    Optional<String> text = configToken(config, key, cf);
    if (text.isPresent()) {
      OptionalInt id = resolve(text, idOf, key, file, warnings);
      if (id.isPresent()) return id;
    }
    if (fallback < 0) return OptionalInt.empty();
    if (fallback >= count) {
      warnings.warn(
          file
              + ": "
              + key
              + " id "
              + fallback
              + " is outside the vocabulary of "
              + count
              + "; its id is not written");
      return OptionalInt.empty();
    }
    return OptionalInt.of(fallback);
  }
}
