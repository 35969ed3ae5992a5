package dev.amalgam.merge.config;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the configuration says about the output tokenizer: mergekit's {@code tokenizer_source}
 * (legacy) or its {@code tokenizer:} block. The vocabulary it describes is built by {@link
 * VocabularyPlan}, and the embedding rows are re-laid out to it by {@link EmbeddingLayout}.
 *
 * @param source where the vocabulary comes from
 * @param model for {@link Source#MODEL}, the model named
 * @param tokens per token text, how its embedding row is chosen when the rule of the vocabulary
 *     does not apply (or, with force, always)
 * @param padToMultipleOf the embedding rows are padded to a multiple of this, if given
 * @param yamlPath where it was configured ({@code tokenizer_source} or {@code tokenizer}), for
 *     messages
 */
public record TokenizerSpec(
    Source source,
    Optional<ModelReference> model,
    Map<String, TokenRow> tokens,
    OptionalInt padToMultipleOf,
    String yamlPath) {
  /** The vocabulary's origin. */
  public enum Source {
    /** The base model's tokenizer (the first model when there is no base). */
    BASE,
    /** The base's tokens, then every other model's tokens not yet seen. */
    UNION,
    /** One named model's tokenizer. */
    MODEL
  }

  /** Checks the model is given exactly for {@link Source#MODEL} and copies the map. */
  public TokenizerSpec {
    Objects.requireNonNull(source, "source");
    if ((source == Source.MODEL) != model.isPresent()) {
      throw new IllegalArgumentException("a model is given exactly when the source is MODEL");
    }
    tokens = Map.copyOf(tokens);
  }

  /**
   * One {@code tokens:} entry: where a token's row comes from.
   *
   * @param kind how the row is chosen
   * @param model for {@link Kind#MODEL_TOKEN}, the model whose row is taken
   * @param token for {@link Kind#MODEL_TOKEN}, the token text in that model (empty: the entry's own
   *     token, or {@code tokenId})
   * @param tokenId for {@link Kind#MODEL_TOKEN}, the row id in that model, instead of a token text
   * @param force use this entry even for models that have the token themselves
   * @param yamlPath where it was configured, for messages
   */
  public record TokenRow(
      Kind kind,
      Optional<ModelReference> model,
      Optional<String> token,
      OptionalInt tokenId,
      boolean force,
      String yamlPath) {
    /** Checks the fields fit the kind. */
    public TokenRow {
      if ((kind == Kind.MODEL_TOKEN) != model.isPresent()) {
        throw new IllegalArgumentException("a model is given exactly for MODEL_TOKEN");
      }
      if (token.isPresent() && tokenId.isPresent())
        throw new IllegalArgumentException("token and token_id");
    }
  }

  /** Kinds of {@code tokens:} entries. */
  public enum Kind {
    /** A model's row: of the same token ({@code source: model}), or of another token or id. */
    MODEL_TOKEN,
    /** A row of zeros. */
    ZERO
  }
}
