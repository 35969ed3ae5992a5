package dev.amalgam.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.gguf.GgufMetadata;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Rebuilds Hugging Face tokenizer files from GGUF tokenizer metadata, the inverse of {@link
 * TokenizerToGguf}:
 *
 * <ul>
 *   <li>model "llama" (SentencePiece): {@code tokenizer.model} (pieces with score and type, a BPE
 *       trainer spec with the special ids, an identity normalizer with a dummy prefix, as Llama 2
 *       ships) and {@code tokenizer_config.json} for {@code LlamaTokenizer};
 *   <li>model "gpt2" (byte-level BPE): {@code tokenizer.json} (BPE vocabulary of the normal tokens,
 *       merges, control and user-defined tokens as added tokens, the Llama-3 split regex when the
 *       pre-tokenizer is "llama-bpe", ByteLevel decoder, a TemplateProcessing post-processor that
 *       adds BOS/EOS as the flags say) and {@code tokenizer_config.json} for {@code
 *       PreTrainedTokenizerFast}.
 * </ul>
 *
 * Unused ids (type UNUSED, the {@code [PAD<id>]} fillers) are left out of a BPE tokenizer.json; the
 * model's config.json {@code vocab_size} keeps the embedding size.
 */
public final class GgufToTokenizer {
  /**
   * What {@link #write} produced.
   *
   * @param files the files written, in writing order
   * @param warnings what could not be represented exactly
   */
  public record TokenizerFiles(List<Path> files, List<String> warnings) {
    /** Copies the lists so the record stays immutable. */
    public TokenizerFiles {
      files = List.copyOf(files);
      warnings = List.copyOf(warnings);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private GgufToTokenizer() {}

  /**
   * Writes the tokenizer files for the metadata's tokenizer model into {@code dir} (created if
   * missing). Each file is written under a temporary name and renamed into place once all were
   * written; on failure the temporary files are deleted and nothing is replaced.
   *
   * @param metadata GGUF metadata holding the tokenizer keys
   * @param source the GGUF file, for messages
   * @param dir the output directory
   * @throws ConversionException when the tokenizer model is missing or not llama/gpt2, or a key is
   *     malformed
   */
  public static TokenizerFiles write(GgufMetadata metadata, Path source, Path dir)
      throws IOException {
    List<String> collected = new ArrayList<>();
    WarningListener warnings = collected::add;
    String model =
        new LlamaMetadata.GgufFields(metadata, source).requireString(TokenizerKeys.MODEL);
    Map<String, byte[]> files = new LinkedHashMap<>();
    switch (model) {
      case "llama" ->
          files.put(
              TokenizerToGguf.TOKENIZER_MODEL, sentencePieceModel(metadata, source, warnings));
      case "gpt2" ->
          files.put(
              TokenizerToGguf.TOKENIZER_JSON, pretty(tokenizerJson(metadata, source, warnings)));
      default ->
          throw new ConversionException(
              source,
              TokenizerKeys.MODEL,
              "tokenizer model '"
                  + model
                  + "' is not supported; only llama (SentencePiece) and gpt2 (byte-level BPE) convert");
    }
    files.put(
        TokenizerToGguf.TOKENIZER_CONFIG, pretty(tokenizerConfig(metadata, source, warnings)));
    Files.createDirectories(dir);
    List<Path> temps = new ArrayList<>();
    List<Path> written = new ArrayList<>();
    boolean done = false;
    try {
      for (Map.Entry<String, byte[]> e : files.entrySet()) {
        Path temp = dir.resolve("." + e.getKey() + ".partial");
        temps.add(temp);
        Files.write(temp, e.getValue());
      }
      int i = 0;
      for (String name : files.keySet()) {
        Path target = dir.resolve(name);
        move(temps.get(i++), target);
        written.add(target);
      }
      done = true;
    } finally {
      if (!done) {
        for (Path t : temps) Files.deleteIfExists(t);
      }
    }
    return new TokenizerFiles(written, collected);
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static byte[] pretty(ObjectNode node) throws IOException {
    return JSON.writerWithDefaultPrettyPrinter()
        .writeValueAsString(node)
        .getBytes(StandardCharsets.UTF_8);
  }

  /** The vocabulary of the metadata, with validated types, scores and special ids. */
  private record Vocabulary(
      String[] tokens,
      long[] types,
      float[] scores,
      OptionalInt bos,
      OptionalInt eos,
      OptionalInt unk,
      OptionalInt pad) {}

  private static Vocabulary vocabulary(
      GgufMetadata metadata, Path source, boolean needScores, WarningListener warnings)
      throws ConversionException {
    LlamaMetadata.GgufFields g = new LlamaMetadata.GgufFields(metadata, source);
    String[] tokens =
        g.optStrings(TokenizerKeys.TOKENS)
            .orElseThrow(
                () ->
                    new ConversionException(
                        source, TokenizerKeys.TOKENS, "required key is missing"));
    if (tokens.length == 0)
      throw new ConversionException(source, TokenizerKeys.TOKENS, "the vocabulary is empty");
    long[] types = g.optIntegers(TokenizerKeys.TOKEN_TYPE).orElse(null);
    if (types == null) {
      types = new long[tokens.length];
      java.util.Arrays.fill(types, TokenizerKeys.TYPE_NORMAL);
      warnings.warn(
          source + ": no " + TokenizerKeys.TOKEN_TYPE + "; every token is written as normal");
    }
    if (types.length != tokens.length) {
      throw new ConversionException(
          source,
          TokenizerKeys.TOKEN_TYPE,
          types.length + " types for " + tokens.length + " tokens");
    }
    for (int i = 0; i < types.length; i++) {
      if (types[i] < TokenizerKeys.TYPE_NORMAL || types[i] > TokenizerKeys.TYPE_BYTE) {
        throw new ConversionException(
            source, TokenizerKeys.TOKEN_TYPE, "token " + i + " has unknown type " + types[i]);
      }
    }
    float[] scores = g.optFloats(TokenizerKeys.SCORES).orElse(null);
    if (scores == null) {
      scores = new float[tokens.length];
      if (needScores)
        warnings.warn(source + ": no " + TokenizerKeys.SCORES + "; every piece gets score 0");
    }
    if (scores.length != tokens.length) {
      throw new ConversionException(
          source, TokenizerKeys.SCORES, scores.length + " scores for " + tokens.length + " tokens");
    }
    return new Vocabulary(
        tokens,
        types,
        scores,
        id(g, TokenizerKeys.BOS_ID, tokens.length, warnings),
        id(g, TokenizerKeys.EOS_ID, tokens.length, warnings),
        id(g, TokenizerKeys.UNKNOWN_ID, tokens.length, warnings),
        id(g, TokenizerKeys.PADDING_ID, tokens.length, warnings));
  }

  /**
   * A special id; 0xFFFFFFFF means unset, and ids outside the vocabulary are dropped with a
   * warning.
   */
  private static OptionalInt id(
      LlamaMetadata.GgufFields g, String key, int count, WarningListener warnings)
      throws ConversionException {
    var v = g.optUint(key);
    if (v.isEmpty() || v.getAsLong() == LlamaMetadata.UNSET_ID) return OptionalInt.empty();
    if (v.getAsLong() >= count) {
      warnings.warn(
          g.source()
              + ": "
              + key
              + " "
              + v.getAsLong()
              + " is outside the vocabulary of "
              + count
              + " tokens and was dropped");
      return OptionalInt.empty();
    }
    return OptionalInt.of((int) v.getAsLong());
  }

  // ---------------------------------------------------------------- SentencePiece

  /** The bytes of a tokenizer.model for a "llama" (SentencePiece) vocabulary. */
  public static byte[] sentencePieceModel(GgufMetadata metadata, Path source)
      throws ConversionException {
    return sentencePieceModel(metadata, source, WarningListener.ignoring());
  }

  private static byte[] sentencePieceModel(
      GgufMetadata metadata, Path source, WarningListener warnings) throws ConversionException {
    Vocabulary v = vocabulary(metadata, source, true, warnings);
    List<SentencePieceModel.Piece> pieces = new ArrayList<>(v.tokens().length);
    Set<String> seen = new HashSet<>();
    int unknownPieces = 0;
    for (int i = 0; i < v.tokens().length; i++) {
      String t = v.tokens()[i];
      if (t.isEmpty())
        throw new ConversionException(source, TokenizerKeys.TOKENS, "token " + i + " is empty");
      if (!seen.add(t)) {
        throw new ConversionException(
            source,
            TokenizerKeys.TOKENS,
            "token " + i + " '" + t + "' occurs twice; SentencePiece needs unique pieces");
      }
      if (v.types()[i] == TokenizerKeys.TYPE_UNKNOWN) unknownPieces++;
      pieces.add(new SentencePieceModel.Piece(t, v.scores()[i], (int) v.types()[i]));
    }
    if (unknownPieces != 1) {
      throw new ConversionException(
          source,
          TokenizerKeys.TOKEN_TYPE,
          "SentencePiece needs exactly one UNKNOWN " + "token, found " + unknownPieces);
    }
    int unk = v.unk().orElse(-1);
    if (unk < 0 || v.types()[unk] != TokenizerKeys.TYPE_UNKNOWN) {
      for (int i = 0; i < v.types().length; i++)
        if (v.types()[i] == TokenizerKeys.TYPE_UNKNOWN) unk = i;
    }
    SentencePieceModel.TrainerIds ids =
        new SentencePieceModel.TrainerIds(
            unk, v.bos().orElse(-1), v.eos().orElse(-1), v.pad().orElse(-1));
    return new SentencePieceModel(pieces, Optional.of(ids)).toBytes();
  }

  // ---------------------------------------------------------------- byte-level BPE

  /** tokenizer.json for a "gpt2" (byte-level BPE) vocabulary. */
  public static ObjectNode tokenizerJson(GgufMetadata metadata, Path source)
      throws ConversionException {
    return tokenizerJson(metadata, source, WarningListener.ignoring());
  }

  private static ObjectNode tokenizerJson(
      GgufMetadata metadata, Path source, WarningListener warnings) throws ConversionException {
    LlamaMetadata.GgufFields g = new LlamaMetadata.GgufFields(metadata, source);
    Vocabulary v = vocabulary(metadata, source, false, warnings);
    String pre = g.optString(TokenizerKeys.PRE).orElse(TokenizerToGguf.PRE_DEFAULT);
    String[] merges =
        g.optStrings(TokenizerKeys.MERGES)
            .orElseThrow(
                () ->
                    new ConversionException(
                        source, TokenizerKeys.MERGES, "required key is missing"));
    boolean addBos = g.optBoolean(TokenizerKeys.ADD_BOS).orElse(false);
    boolean addEos = g.optBoolean(TokenizerKeys.ADD_EOS).orElse(false);

    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode vocab = JSON.createObjectNode();
    Set<String> addedSeen = new HashSet<>();
    String unkToken = null;
    int skippedUnused = 0;
    for (int i = 0; i < v.tokens().length; i++) {
      String t = v.tokens()[i];
      int type = (int) v.types()[i];
      if (type == TokenizerKeys.TYPE_UNUSED) {
        if (!t.equals("[PAD" + i + "]")) skippedUnused++;
        continue;
      }
      if (type == TokenizerKeys.TYPE_CONTROL || type == TokenizerKeys.TYPE_USER_DEFINED) {
        if (!addedSeen.add(t)) {
          warnings.warn(
              source
                  + ": added token "
                  + i
                  + " '"
                  + t
                  + "' duplicates an earlier one and was dropped");
          continue;
        }
        ObjectNode a = added.addObject();
        a.put("id", i);
        a.put("content", t);
        a.put("single_word", false);
        a.put("lstrip", false);
        a.put("rstrip", false);
        a.put("normalized", false);
        a.put("special", type == TokenizerKeys.TYPE_CONTROL);
        continue;
      }
      if (vocab.has(t)) {
        warnings.warn(
            source + ": token " + i + " '" + t + "' duplicates an earlier one and was dropped");
        continue;
      }
      vocab.put(t, i);
      if (type == TokenizerKeys.TYPE_UNKNOWN && unkToken == null) unkToken = t;
    }
    if (skippedUnused > 0) {
      warnings.warn(
          source + ": " + skippedUnused + " unused tokens are not written to tokenizer.json");
    }
    root.putNull("normalizer");
    root.set("pre_tokenizer", preTokenizer(pre, source, warnings));
    root.set("post_processor", postProcessor(v, addBos, addEos, source, warnings));
    ObjectNode decoder = root.putObject("decoder");
    byteLevel(decoder, true, true, true);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    if (unkToken != null) model.put("unk_token", unkToken);
    else model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    if (pre.equals(TokenizerToGguf.PRE_LLAMA_BPE)) model.put("ignore_merges", true);
    model.set("vocab", vocab);
    ArrayNode m = model.putArray("merges");
    for (String merge : merges) m.add(merge);
    return root;
  }

  private static ObjectNode preTokenizer(String pre, Path source, WarningListener warnings) {
    ObjectNode p = JSON.createObjectNode();
    if (pre.equals(TokenizerToGguf.PRE_LLAMA_BPE)) {
      p.put("type", "Sequence");
      ArrayNode list = p.putArray("pretokenizers");
      ObjectNode split = list.addObject();
      split.put("type", "Split");
      split.putObject("pattern").put("Regex", TokenizerToGguf.LLAMA3_SPLIT_REGEX);
      split.put("behavior", "Isolated");
      split.put("invert", false);
      byteLevel(list.addObject(), false, true, false);
      return p;
    }
    if (!pre.equals(TokenizerToGguf.PRE_DEFAULT)) {
      warnings.warn(
          source
              + ": pre-tokenizer '"
              + pre
              + "' has no tokenizer.json equivalent here; the GPT-2 "
              + "byte-level split is written instead");
    }
    byteLevel(p, false, true, true);
    return p;
  }

  private static void byteLevel(
      ObjectNode node, boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
    node.put("type", "ByteLevel");
    node.put("add_prefix_space", addPrefixSpace);
    node.put("trim_offsets", trimOffsets);
    node.put("use_regex", useRegex);
  }

  /**
   * ByteLevel offsets processing, followed by a TemplateProcessing adding BOS/EOS when the flags
   * ask.
   */
  private static ObjectNode postProcessor(
      Vocabulary v, boolean addBos, boolean addEos, Path source, WarningListener warnings) {
    ObjectNode byteLevel = JSON.createObjectNode();
    byteLevel(byteLevel, true, false, true);
    String bos = addBos ? tokenOrWarn(v, v.bos(), "BOS", source, warnings) : null;
    String eos = addEos ? tokenOrWarn(v, v.eos(), "EOS", source, warnings) : null;
    if (bos == null && eos == null) return byteLevel;
    ObjectNode template = JSON.createObjectNode();
    template.put("type", "TemplateProcessing");
    ArrayNode single = template.putArray("single");
    ArrayNode pair = template.putArray("pair");
    if (bos != null) special(single, bos, 0);
    sequence(single, "A", 0);
    if (eos != null) special(single, eos, 0);
    if (bos != null) special(pair, bos, 0);
    sequence(pair, "A", 0);
    if (eos != null) special(pair, eos, 0);
    if (bos != null) special(pair, bos, 1);
    sequence(pair, "B", 1);
    if (eos != null) special(pair, eos, 1);
    ObjectNode specials = template.putObject("special_tokens");
    if (bos != null) specialEntry(specials, bos, v.bos().getAsInt());
    if (eos != null && !eos.equals(bos)) specialEntry(specials, eos, v.eos().getAsInt());
    ObjectNode sequence = JSON.createObjectNode();
    sequence.put("type", "Sequence");
    ArrayNode processors = sequence.putArray("processors");
    processors.add(byteLevel);
    processors.add(template);
    return sequence;
  }

  private static String tokenOrWarn(
      Vocabulary v, OptionalInt id, String what, Path source, WarningListener warnings) {
    if (id.isEmpty()) {
      warnings.warn(
          source
              + ": add_"
              + what.toLowerCase()
              + "_token is set but there is no "
              + what
              + " id; the post-processor does not add it");
      return null;
    }
    return v.tokens()[id.getAsInt()];
  }

  private static void special(ArrayNode items, String token, int typeId) {
    ObjectNode s = items.addObject().putObject("SpecialToken");
    s.put("id", token);
    s.put("type_id", typeId);
  }

  private static void sequence(ArrayNode items, String id, int typeId) {
    ObjectNode s = items.addObject().putObject("Sequence");
    s.put("id", id);
    s.put("type_id", typeId);
  }

  private static void specialEntry(ObjectNode specials, String token, int id) {
    ObjectNode e = specials.putObject(token);
    e.put("id", token);
    e.putArray("ids").add(id);
    e.putArray("tokens").add(token);
  }

  // ---------------------------------------------------------------- tokenizer_config.json

  /**
   * tokenizer_config.json: special tokens by text, add_bos_token/add_eos_token, the chat
   * template(s) and the tokenizer class (LlamaTokenizer for SentencePiece, PreTrainedTokenizerFast
   * for BPE).
   */
  public static ObjectNode tokenizerConfig(GgufMetadata metadata, Path source)
      throws ConversionException {
    return tokenizerConfig(metadata, source, WarningListener.ignoring());
  }

  private static ObjectNode tokenizerConfig(
      GgufMetadata metadata, Path source, WarningListener warnings) throws ConversionException {
    LlamaMetadata.GgufFields g = new LlamaMetadata.GgufFields(metadata, source);
    boolean sentencePiece = g.requireString(TokenizerKeys.MODEL).equals("llama");
    Vocabulary v = vocabulary(metadata, source, false, WarningListener.ignoring());
    ObjectNode c = JSON.createObjectNode();
    Optional<Boolean> addBos = g.optBoolean(TokenizerKeys.ADD_BOS);
    Optional<Boolean> addEos = g.optBoolean(TokenizerKeys.ADD_EOS);
    if (sentencePiece) {
      // llama.cpp's SentencePiece default is to add BOS and not EOS; LlamaTokenizer needs the flags
      // explicit.
      c.put("add_bos_token", addBos.orElse(true));
      c.put("add_eos_token", addEos.orElse(false));
    } else {
      addBos.ifPresent(b -> c.put("add_bos_token", b));
      addEos.ifPresent(e -> c.put("add_eos_token", e));
    }
    tokenText(c, "bos_token", v, v.bos());
    tokenText(c, "eos_token", v, v.eos());
    tokenText(c, "unk_token", v, v.unk());
    tokenText(c, "pad_token", v, v.pad());
    Optional<String> template = g.optString(TokenizerKeys.CHAT_TEMPLATE);
    Optional<String[]> names = g.optStrings(TokenizerKeys.CHAT_TEMPLATES);
    if (names.isPresent() && names.get().length > 0) {
      ArrayNode list = c.putArray("chat_template");
      template.ifPresent(t -> list.addObject().put("name", "default").put("template", t));
      for (String name : names.get()) {
        Optional<String> named = g.optString(TokenizerKeys.CHAT_TEMPLATE_PREFIX + name);
        if (named.isEmpty()) {
          warnings.warn(source + ": chat template '" + name + "' is listed but missing");
          continue;
        }
        list.addObject().put("name", name).put("template", named.get());
      }
    } else {
      template.ifPresent(t -> c.put("chat_template", t));
    }
    c.put("clean_up_tokenization_spaces", !sentencePiece);
    if (sentencePiece) {
      c.put("legacy", false);
      c.putObject("sp_model_kwargs");
    }
    c.put("tokenizer_class", sentencePiece ? "LlamaTokenizer" : "PreTrainedTokenizerFast");
    return c;
  }

  private static void tokenText(ObjectNode c, String key, Vocabulary v, OptionalInt id) {
    if (id.isPresent()) c.put(key, v.tokens()[id.getAsInt()]);
  }
}
