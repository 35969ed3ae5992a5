package dev.amalgam.synthetic;

import dev.amalgam.convert.GgufToTokenizer;
import dev.amalgam.convert.TokenizerKeys;
import dev.amalgam.convert.TokenizerToGguf;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufValueType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Small but valid tokenizers for synthetic models, tests and the demo: a Llama-3-style byte-level
 * BPE (tokenizer.json + tokenizer_config.json) and a Llama-2-style SentencePiece vocabulary
 * (tokenizer.model + tokenizer_config.json) of any size.
 *
 * <p>Both are deterministic. Merges are learnt by byte-pair counting on a short built-in English
 * text until no pair repeats, then the vocabulary is filled up to the requested size with further
 * merges (an existing token followed by a letter), so every merge joins two tokens of the
 * vocabulary into a third, as tokenizers require. The files are written by {@link GgufToTokenizer}
 * from the metadata {@link #llama3Metadata} and {@link #sentencePieceMetadata} return, so what a
 * GGUF converted from such a model holds is known exactly.
 */
public final class SyntheticTokenizers {
  /** Llama-3 special tokens, placed after the normal vocabulary. */
  public static final List<String> LLAMA3_SPECIAL_TOKENS =
      List.of(
          "<|begin_of_text|>",
          "<|end_of_text|>",
          "<|start_header_id|>",
          "<|end_header_id|>",
          "<|eot_id|>");

  /**
   * A Llama-3-style chat template (headers, eot after each message, optional generation prompt).
   */
  public static final String LLAMA3_CHAT_TEMPLATE =
      "{{- bos_token }}"
          + "{%- for message in messages %}"
          + "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim"
          + " + '<|eot_id|>' }}"
          + "{%- endfor %}"
          + "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

  private static final String CORPUS =
      "Once upon a time there was a little girl who lived in a small house "
          + "near the forest. Every morning she walked to the river with her dog, and every evening they came back "
          + "home together. The girl liked to read books about the stars, the sea and the mountains. One day she "
          + "found a strange stone in the water. The stone was warm and it was shining in the sun. She took the "
          + "stone home and put it on the table next to her bed. In the night the stone began to sing a quiet song, "
          + "and the girl listened until she fell asleep. When she woke up, the stone was gone, but the song stayed "
          + "with her for the rest of her life. Numbers like 1, 22 and 333 appear too; so do questions? Yes!";
  private static final int SPM_FIRST_PIECES = 3 + 256;

  private SyntheticTokenizers() {}

  /**
   * GGUF tokenizer metadata of a Llama-3-style tokenizer with {@code vocabSize} tokens: byte-level
   * BPE ("gpt2"/"llama-bpe"), the 256 byte tokens, learnt merges, then the {@link
   * #LLAMA3_SPECIAL_TOKENS} as control tokens; BOS {@code <|begin_of_text|>}, EOS {@code
   * <|eot_id|>}, add_bos true, a chat template.
   *
   * @throws IllegalArgumentException when {@code vocabSize} is below 256 + the special tokens + 1
   */
  public static GgufMetadata llama3Metadata(int vocabSize) {
    int specials = LLAMA3_SPECIAL_TOKENS.size();
    if (vocabSize < 256 + specials + 1) {
      throw new IllegalArgumentException(
          "a Llama-3-style vocabulary needs at least "
              + (257 + specials)
              + " tokens, got "
              + vocabSize);
    }
    List<String> vocab = new ArrayList<>();
    for (int b = 0; b < 256; b++) vocab.add(String.valueOf(byteLevelChar(b)));
    List<String> merges =
        learnMerges(
            vocab,
            vocabSize - specials,
            word -> {
              StringBuilder sb = new StringBuilder();
              for (byte b : word.getBytes(StandardCharsets.UTF_8))
                sb.append(byteLevelChar(b & 0xFF));
              return sb.toString();
            },
            "\u0120");
    vocab.addAll(LLAMA3_SPECIAL_TOKENS);
    long[] types = new long[vocab.size()];
    for (int i = 0; i < types.length; i++) {
      types[i] = i < vocabSize - specials ? TokenizerKeys.TYPE_NORMAL : TokenizerKeys.TYPE_CONTROL;
    }
    int first = vocabSize - specials;
    GgufMetadata m = new GgufMetadata();
    m.put(TokenizerKeys.MODEL, GgufValue.string("gpt2"));
    m.put(TokenizerKeys.PRE, GgufValue.string(TokenizerToGguf.PRE_LLAMA_BPE));
    m.put(TokenizerKeys.TOKENS, GgufValue.strings(vocab.toArray(String[]::new)));
    m.put(TokenizerKeys.TOKEN_TYPE, GgufValue.integers(GgufValueType.INT32, types));
    m.put(TokenizerKeys.MERGES, GgufValue.strings(merges.toArray(String[]::new)));
    m.put(
        TokenizerKeys.BOS_ID,
        GgufValue.uint32(first + LLAMA3_SPECIAL_TOKENS.indexOf("<|begin_of_text|>")));
    m.put(
        TokenizerKeys.EOS_ID,
        GgufValue.uint32(first + LLAMA3_SPECIAL_TOKENS.indexOf("<|eot_id|>")));
    m.put(TokenizerKeys.ADD_BOS, GgufValue.bool(true));
    m.put(TokenizerKeys.ADD_EOS, GgufValue.bool(false));
    m.put(TokenizerKeys.CHAT_TEMPLATE, GgufValue.string(LLAMA3_CHAT_TEMPLATE));
    return m;
  }

  /**
   * GGUF tokenizer metadata of a Llama-2-style SentencePiece vocabulary with {@code vocabSize}
   * pieces: {@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte pieces {@code <0x00>}..{@code
   * <0xFF>} (score 0), then learnt pieces with scores 0, -1, -2, ... (stories260K's layout); ids
   * 0/1/2, add_bos true.
   *
   * @throws IllegalArgumentException when {@code vocabSize} is below 260
   */
  public static GgufMetadata sentencePieceMetadata(int vocabSize) {
    if (vocabSize < SPM_FIRST_PIECES + 1) {
      throw new IllegalArgumentException(
          "a SentencePiece vocabulary needs at least "
              + (SPM_FIRST_PIECES + 1)
              + " pieces, got "
              + vocabSize);
    }
    List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
    for (int b = 0; b < 256; b++) pieces.add(String.format("<0x%02X>", b));
    // Learnt pieces start from the corpus characters, as SentencePiece's BPE composes pieces from
    // characters.
    Set<String> chars = new LinkedHashSet<>();
    for (String word : CORPUS.split(" ")) {
      ("\u2581" + word).codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
    }
    List<String> learnt = new ArrayList<>(chars);
    learnMerges(learnt, vocabSize - SPM_FIRST_PIECES, word -> word, "\u2581");
    // Longer pieces first, characters last, as in llama2.c vocabularies; scores rank them.
    List<String> ordered = new ArrayList<>(learnt.subList(chars.size(), learnt.size()));
    ordered.addAll(learnt.subList(0, Math.min(chars.size(), learnt.size())));
    ordered = ordered.subList(0, Math.min(ordered.size(), vocabSize - SPM_FIRST_PIECES));
    pieces.addAll(ordered);
    float[] scores = new float[pieces.size()];
    long[] types = new long[pieces.size()];
    types[0] = TokenizerKeys.TYPE_UNKNOWN;
    types[1] = TokenizerKeys.TYPE_CONTROL;
    types[2] = TokenizerKeys.TYPE_CONTROL;
    for (int i = 3; i < SPM_FIRST_PIECES; i++) types[i] = TokenizerKeys.TYPE_BYTE;
    for (int i = SPM_FIRST_PIECES; i < pieces.size(); i++) {
      types[i] = TokenizerKeys.TYPE_NORMAL;
      scores[i] = -(i - SPM_FIRST_PIECES);
    }
    GgufMetadata m = new GgufMetadata();
    m.put(TokenizerKeys.MODEL, GgufValue.string("llama"));
    m.put(TokenizerKeys.TOKENS, GgufValue.strings(pieces.toArray(String[]::new)));
    m.put(TokenizerKeys.SCORES, GgufValue.float32s(scores));
    m.put(TokenizerKeys.TOKEN_TYPE, GgufValue.integers(GgufValueType.INT32, types));
    m.put(TokenizerKeys.BOS_ID, GgufValue.uint32(1));
    m.put(TokenizerKeys.EOS_ID, GgufValue.uint32(2));
    m.put(TokenizerKeys.UNKNOWN_ID, GgufValue.uint32(0));
    m.put(TokenizerKeys.ADD_BOS, GgufValue.bool(true));
    m.put(TokenizerKeys.ADD_EOS, GgufValue.bool(false));
    return m;
  }

  /**
   * Writes a Llama-3-style tokenizer.json and tokenizer_config.json into {@code dir}; returns the
   * files.
   */
  public static List<Path> writeLlama3(Path dir, int vocabSize) throws IOException {
    return GgufToTokenizer.write(llama3Metadata(vocabSize), Path.of("synthetic-llama3"), dir)
        .files();
  }

  /**
   * Writes a SentencePiece tokenizer.model and tokenizer_config.json into {@code dir}; returns the
   * files.
   */
  public static List<Path> writeSentencePiece(Path dir, int vocabSize) throws IOException {
    return GgufToTokenizer.write(sentencePieceMetadata(vocabSize), Path.of("synthetic-spm"), dir)
        .files();
  }

  /**
   * GPT-2's byte-to-character map (bytes_to_unicode): printable Latin-1 bytes map to themselves,
   * the others to U+0100 upwards in byte order, so that every byte is a visible character (a space
   * becomes U+0120).
   */
  public static char byteLevelChar(int b) {
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
      return (char) b;
    int n = 0;
    for (int x = 0; x < b; x++) {
      if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) n++;
    }
    return (char) (256 + n);
  }

  /**
   * Learns merges on the corpus and appends the merged tokens to {@code vocab} until it has {@code
   * target} entries. Words are the corpus split at spaces, each after the first prefixed by {@code
   * space}, then mapped by {@code encode}; symbols start as single characters (code points).
   *
   * @return the merges in rank order, "left right"
   */
  private static List<String> learnMerges(
      List<String> vocab,
      int target,
      java.util.function.UnaryOperator<String> encode,
      String space) {
    Set<String> known = new java.util.HashSet<>(vocab);
    List<String> merges = new ArrayList<>();
    Map<List<String>, Integer> words = new HashMap<>();
    String[] raw = CORPUS.split(" ");
    for (int i = 0; i < raw.length; i++) {
      String w = encode.apply(i == 0 ? raw[i] : " " + raw[i]).replace(encode.apply(" "), space);
      List<String> symbols = new ArrayList<>();
      w.codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
      words.merge(symbols, 1, Integer::sum);
    }
    while (vocab.size() < target) {
      Map<String, Integer> pairs = new HashMap<>();
      for (Map.Entry<List<String>, Integer> e : words.entrySet()) {
        List<String> s = e.getKey();
        for (int i = 0; i + 1 < s.size(); i++)
          pairs.merge(s.get(i) + " " + s.get(i + 1), e.getValue(), Integer::sum);
      }
      String best = null;
      int bestCount = 1;
      for (Map.Entry<String, Integer> p : pairs.entrySet()) {
        String[] parts = p.getKey().split(" ", 2);
        if (!known.contains(parts[0]) || !known.contains(parts[1])) continue;
        if (p.getValue() > bestCount
            || (p.getValue() == bestCount && best != null && p.getKey().compareTo(best) < 0)) {
          best = p.getKey();
          bestCount = p.getValue();
        }
      }
      if (best == null) break;
      String[] parts = best.split(" ", 2);
      String merged = parts[0] + parts[1];
      merges.add(best);
      if (known.add(merged)) vocab.add(merged);
      Map<List<String>, Integer> next = new HashMap<>();
      for (Map.Entry<List<String>, Integer> e : words.entrySet()) {
        List<String> s = e.getKey();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
          if (i + 1 < s.size() && s.get(i).equals(parts[0]) && s.get(i + 1).equals(parts[1])) {
            out.add(merged);
            i++;
          } else {
            out.add(s.get(i));
          }
        }
        next.merge(out, e.getValue(), Integer::sum);
      }
      words = next;
    }
    fill(vocab, known, merges, target, i -> encode.apply(String.valueOf((char) ('a' + i))));
    return merges;
  }

  /**
   * Adds "token + letter" merges, walking the vocabulary in order, until it has {@code target}
   * entries.
   */
  private static void fill(
      List<String> vocab,
      Set<String> known,
      List<String> merges,
      int target,
      IntFunction<String> letter) {
    for (int base = 0; vocab.size() < target; base++) {
      String left = vocab.get(base);
      for (int l = 0; l < 26 && vocab.size() < target; l++) {
        String right = letter.apply(l);
        if (!known.contains(right)) continue;
        String merged = left + right;
        if (known.add(merged)) {
          vocab.add(merged);
          merges.add(left + " " + right);
        }
      }
    }
  }
}
