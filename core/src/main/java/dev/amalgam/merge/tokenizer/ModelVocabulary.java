package dev.amalgam.merge.tokenizer;

import dev.amalgam.convert.TokenizerKeys;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One model's vocabulary as the tokenizer build sees it: its tokens by id, cut to the ids that have
 * an embedding row (below config.json's vocab_size and the embedding's row count), with their GGUF
 * token types.
 *
 * @param label the model, for messages
 * @param metadata its tokenizer as GGUF metadata (tokens, types, scores, merges, special ids)
 * @param tokens token texts by id, cut to {@code rows}
 * @param types GGUF token types by id
 * @param fullTokenCount tokens its tokenizer defines, before the cut
 * @param rows rows of its embedding matrix
 */
public record ModelVocabulary(
    String label,
    GgufMetadata metadata,
    String[] tokens,
    long[] types,
    int fullTokenCount,
    long rows) {
  /** Reads the vocabulary out of tokenizer metadata, keeping ids below {@code limit}. */
  public static ModelVocabulary of(String label, GgufMetadata metadata, long limit, long rows) {
    String[] all =
        metadata
            .get(TokenizerKeys.TOKENS)
            .map(GgufValue::asStrings)
            .orElseThrow(
                () -> new IllegalArgumentException(label + " has no " + TokenizerKeys.TOKENS));
    long[] types = metadata.get(TokenizerKeys.TOKEN_TYPE).map(GgufValue::asLongs).orElse(null);
    if (types == null || types.length != all.length) {
      types = new long[all.length];
      Arrays.fill(types, TokenizerKeys.TYPE_NORMAL);
    }
    int keep = (int) Math.min(all.length, Math.min(limit, rows));
    return new ModelVocabulary(
        label, metadata, Arrays.copyOf(all, keep), Arrays.copyOf(types, keep), all.length, rows);
  }

  /** Token text to its first id. */
  public Map<String, Integer> ids() {
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < tokens.length; i++) ids.putIfAbsent(tokens[i], i);
    return ids;
  }

  /** Scores by id, when the tokenizer has them (SentencePiece). */
  Optional<float[]> scores() {
    return metadata.get(TokenizerKeys.SCORES).map(GgufValue::asFloats);
  }
}
