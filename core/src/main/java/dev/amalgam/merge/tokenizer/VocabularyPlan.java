package dev.amalgam.merge.tokenizer;

import dev.amalgam.convert.TokenizerKeys;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufValueType;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.config.TokenizerSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The output vocabulary and, per model, where each output row comes from (mergekit's
 * tokenizer/build.py and embed.py). Built from the tokenizers alone, before any tensor is read.
 *
 * <p>A model's row for output token {@code r} is its own row {@code oldId(m, r)} when it has the
 * token (unless the token's {@code tokens:} entry forces it), else the token's {@link Fallback}:
 * the {@code tokens:} entry; the row of the single model that has it; zeros when no model has it
 * (with a warning); the base's row; else the mean of the rows of the models that have it. Padding
 * rows are the mean of the model's real rows.
 */
public final class VocabularyPlan {
  /** How a row a model lacks (or is forced) is made. */
  public enum FallbackKind {
    /** Another model's stored row: {@link Fallback#model()}'s row {@link Fallback#row()}. */
    ROW,
    /** Zeros. */
    ZERO,
    /** The mean of the own rows of every model that has the token. */
    MEAN
  }

  /**
   * A synthesized row's recipe.
   *
   * @param kind what it is
   * @param model for {@link FallbackKind#ROW}, the model index
   * @param row for {@link FallbackKind#ROW}, the row in that model
   */
  public record Fallback(FallbackKind kind, int model, int row) {}

  private final String[] tokens;
  private final long[] types;
  private final int[][] oldIds;
  private final boolean[] forced;
  private final Fallback[] fallbacks;
  private final long paddedRows;
  private final int metadataModel;
  private final GgufMetadata metadata;
  private final List<String> warnings;

  private VocabularyPlan(
      String[] tokens,
      long[] types,
      int[][] oldIds,
      boolean[] forced,
      Fallback[] fallbacks,
      long paddedRows,
      int metadataModel,
      GgufMetadata metadata,
      List<String> warnings) {
    this.tokens = tokens;
    this.types = types;
    this.oldIds = oldIds;
    this.forced = forced;
    this.fallbacks = fallbacks;
    this.paddedRows = paddedRows;
    this.metadataModel = metadataModel;
    this.metadata = metadata;
    this.warnings = warnings;
  }

  /**
   * Builds the plan.
   *
   * @param spec the configuration's tokenizer options
   * @param models every input's vocabulary, in merge order
   * @param baseIndex the base model (or the first model when there is none)
   * @param indexOf resolves a model reference of the configuration to its input index, or throws
   *     {@link ConfigException} naming the reference's YAML path
   */
  public static VocabularyPlan build(
      TokenizerSpec spec,
      List<ModelVocabulary> models,
      int baseIndex,
      ToIntFunction<ModelReference> indexOf) {
    List<String> warnings = new ArrayList<>();
    int source =
        spec.source() == TokenizerSpec.Source.MODEL
            ? indexOf.applyAsInt(spec.model().get())
            : baseIndex;
    List<String> tokens = new ArrayList<>();
    List<Long> types = new ArrayList<>();
    Map<String, Integer> newIds = new LinkedHashMap<>();
    List<Integer> order = new ArrayList<>();
    order.add(source);
    if (spec.source() == TokenizerSpec.Source.UNION) {
      for (int m = 0; m < models.size(); m++) if (m != source) order.add(m);
    }
    for (int m : order) {
      ModelVocabulary v = models.get(m);
      for (int id = 0; id < v.tokens().length; id++) {
        String t = v.tokens()[id];
        if (newIds.putIfAbsent(t, tokens.size()) == null) {
          tokens.add(t);
          types.add(v.types()[id]);
        }
      }
    }
    // tokens: entries for tokens no tokenizer has are added, as user-defined tokens
    for (String t : spec.tokens().keySet()) {
      if (newIds.putIfAbsent(t, tokens.size()) == null) {
        tokens.add(t);
        types.add((long) TokenizerKeys.TYPE_USER_DEFINED);
      }
    }
    int n = tokens.size();
    int[][] oldIds = new int[models.size()][n];
    for (int m = 0; m < models.size(); m++) {
      Arrays.fill(oldIds[m], -1);
      Map<String, Integer> ids = models.get(m).ids();
      for (int r = 0; r < n; r++) oldIds[m][r] = ids.getOrDefault(tokens.get(r), -1);
    }
    boolean[] forced = new boolean[n];
    Fallback[] fallbacks = new Fallback[n];
    for (Map.Entry<String, TokenizerSpec.TokenRow> e : spec.tokens().entrySet()) {
      int r = newIds.get(e.getKey());
      TokenizerSpec.TokenRow entry = e.getValue();
      forced[r] = entry.force();
      if (entry.kind() == TokenizerSpec.Kind.ZERO) {
        fallbacks[r] = new Fallback(FallbackKind.ZERO, -1, -1);
        continue;
      }
      int k = indexOf.applyAsInt(entry.model().get());
      ModelVocabulary v = models.get(k);
      int row;
      if (entry.tokenId().isPresent()) {
        row = entry.tokenId().getAsInt();
        if (row >= v.rows()) {
          throw new ConfigException(
              entry.yamlPath() + ".source.token_id",
              "token id "
                  + row
                  + " is outside '"
                  + v.label()
                  + "', which has "
                  + v.rows()
                  + " embedding rows");
        }
      } else {
        String text = entry.token().orElse(e.getKey());
        Integer id = v.ids().get(text);
        if (id == null) {
          throw new ConfigException(
              entry.yamlPath() + ".source" + (entry.token().isPresent() ? ".token" : ""),
              "'" + v.label() + "' has no token '" + text + "' in its vocabulary");
        }
        row = id;
      }
      fallbacks[r] = new Fallback(FallbackKind.ROW, k, row);
    }
    List<String> unseen = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      if (fallbacks[r] != null) continue;
      int holders = 0;
      int holder = -1;
      for (int m = 0; m < models.size(); m++) {
        if (oldIds[m][r] >= 0) {
          holders++;
          holder = m;
        }
      }
      if (holders == models.size()) continue; // every model has its own row: no fallback needed
      if (holders == 1) {
        fallbacks[r] = new Fallback(FallbackKind.ROW, holder, oldIds[holder][r]);
      } else if (holders == 0) {
        fallbacks[r] = new Fallback(FallbackKind.ZERO, -1, -1);
        unseen.add(tokens.get(r));
      } else if (oldIds[baseIndex][r] >= 0) {
        fallbacks[r] = new Fallback(FallbackKind.ROW, baseIndex, oldIds[baseIndex][r]);
      } else {
        fallbacks[r] = new Fallback(FallbackKind.MEAN, -1, -1);
      }
    }
    if (!unseen.isEmpty()) {
      warnings.add(
          unseen.size()
              + " output token(s) are in no model's vocabulary and get zero embeddings: "
              + String.join(", ", unseen.subList(0, Math.min(5, unseen.size())))
              + (unseen.size() > 5 ? ", ..." : ""));
    }
    long padded = n;
    if (spec.padToMultipleOf().isPresent()) {
      long k = spec.padToMultipleOf().getAsInt();
      padded = Math.multiplyExact((n + k - 1) / k, k);
    }
    long[] typeArray = types.stream().mapToLong(Long::longValue).toArray();
    String[] tokenArray = tokens.toArray(String[]::new);
    GgufMetadata metadata = outputMetadata(models.get(source), tokenArray, typeArray);
    return new VocabularyPlan(
        tokenArray,
        typeArray,
        oldIds,
        forced,
        fallbacks,
        padded,
        source,
        metadata,
        List.copyOf(warnings));
  }

  /** The source model's tokenizer metadata with the built token list (scores of new tokens 0). */
  private static GgufMetadata outputMetadata(
      ModelVocabulary source, String[] tokens, long[] types) {
    GgufMetadata m = new GgufMetadata(source.metadata());
    m.put(TokenizerKeys.TOKENS, GgufValue.strings(tokens));
    m.put(TokenizerKeys.TOKEN_TYPE, GgufValue.integers(GgufValueType.INT32, types));
    source
        .scores()
        .ifPresent(
            s -> {
              float[] scores = new float[tokens.length];
              System.arraycopy(
                  s,
                  0,
                  scores,
                  0,
                  Math.min(s.length, Math.min(tokens.length, source.tokens().length)));
              m.put(TokenizerKeys.SCORES, GgufValue.float32s(scores));
            });
    for (String key :
        List.of(
            TokenizerKeys.BOS_ID,
            TokenizerKeys.EOS_ID,
            TokenizerKeys.UNKNOWN_ID,
            TokenizerKeys.PADDING_ID)) {
      if (m.getLong(key).map(id -> id >= tokens.length).orElse(false))
        m.remove(key); // stripped away
    }
    return m;
  }

  /** Output tokens, without padding. */
  public int tokenCount() {
    return tokens.length;
  }

  /** Output embedding rows: the tokens, padded to the configured multiple. */
  public long paddedRows() {
    return paddedRows;
  }

  /** The output tokens by id. */
  public List<String> tokens() {
    return List.of(tokens);
  }

  /** Model {@code model}'s row of output token {@code row}, or -1 when it lacks the token. */
  public int oldId(int model, int row) {
    return oldIds[model][row];
  }

  /**
   * Whether the model's own row is used for output row {@code row} (it has the token and it is not
   * forced).
   */
  public boolean usesOwnRow(int model, int row) {
    return row < tokens.length && oldIds[model][row] >= 0 && !forced[row];
  }

  /**
   * The recipe of a row that some model lacks or that is forced; null when every model has it
   * unforced.
   */
  public Fallback fallback(int row) {
    return fallbacks[row];
  }

  /** Number of models planned. */
  public int modelCount() {
    return oldIds.length;
  }

  /** Whether model {@code model}'s embeddings are the output rows unchanged (no gather needed). */
  public boolean isIdentity(int model, long rows) {
    if (rows != paddedRows) return false;
    for (int r = 0; r < tokens.length; r++)
      if (!usesOwnRow(model, r) || oldIds[model][r] != r) return false;
    return true;
  }

  /** The model whose tokenizer the output's is built from. */
  public int metadataModel() {
    return metadataModel;
  }

  /** The output tokenizer as GGUF metadata (no padding tokens). */
  public GgufMetadata metadata() {
    return new GgufMetadata(metadata);
  }

  /**
   * The output tokenizer for a GGUF file, whose token count must equal the embedding rows: padding
   * rows become {@code [PAD<i>]} tokens of the unused type, as llama.cpp's converter writes them.
   */
  public GgufMetadata paddedMetadata() {
    GgufMetadata m = metadata();
    int padded = Math.toIntExact(paddedRows);
    if (padded == tokens.length) return m;
    String[] t = Arrays.copyOf(tokens, padded);
    long[] ty = Arrays.copyOf(types, padded);
    for (int i = tokens.length; i < padded; i++) {
      t[i] = "[PAD" + i + "]";
      ty[i] = TokenizerKeys.TYPE_UNUSED;
    }
    m.put(TokenizerKeys.TOKENS, GgufValue.strings(t));
    m.put(TokenizerKeys.TOKEN_TYPE, GgufValue.integers(GgufValueType.INT32, ty));
    m.get(TokenizerKeys.SCORES)
        .ifPresent(
            s ->
                m.put(
                    TokenizerKeys.SCORES, GgufValue.float32s(Arrays.copyOf(s.asFloats(), padded))));
    return m;
  }

  /**
   * Whether the output token list equals a model's whole tokenizer (so its files can be copied
   * unchanged).
   */
  public boolean sameTokensAs(ModelVocabulary v) {
    return v.fullTokenCount() == tokens.length && Arrays.equals(v.tokens(), tokens);
  }

  /** Notes for the user (tokens with zero embeddings). */
  public List<String> warnings() {
    return warnings;
  }
}
