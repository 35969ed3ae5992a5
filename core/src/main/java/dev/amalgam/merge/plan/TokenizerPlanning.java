package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.convert.Architecture;
import dev.amalgam.convert.ConversionException;
import dev.amalgam.convert.TokenizerToGguf;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.ModelWeights;
import dev.amalgam.io.gguf.GgufKeys;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.config.TokenizerSpec;
import dev.amalgam.merge.tokenizer.EmbeddingLayout;
import dev.amalgam.merge.tokenizer.ModelVocabulary;
import dev.amalgam.merge.tokenizer.RelaidWeights;
import dev.amalgam.merge.tokenizer.VocabularyPlan;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The planner's side of the tokenizer options: reads every input's tokenizer, builds the {@link
 * VocabularyPlan} and wraps the inputs whose embeddings must be re-laid out. Runs before any tensor
 * data is read.
 */
final class TokenizerPlanning {
  private TokenizerPlanning() {}

  /** The built vocabulary and the tokenizer the output gets. */
  record Result(VocabularyPlan vocabulary, OutputTokenizer tokenizer) {}

  /**
   * Plans the vocabulary and replaces, in {@code inputs}, the weights of every model whose
   * embeddings change with a re-laid-out view. Empty when the output vocabulary is the donor's
   * tokenizer and every model's embeddings already match it: then the merge is exactly the one
   * without tokenizer options.
   */
  static Optional<Result> apply(
      TokenizerSpec spec,
      List<PlannedInput> inputs,
      Architecture architecture,
      WarningListener warnings)
      throws IOException {
    PlannedInput donor =
        inputs.stream().filter(PlannedInput::isBase).findFirst().orElse(inputs.get(0));
    List<ModelVocabulary> vocabularies = new ArrayList<>();
    for (PlannedInput in : inputs) vocabularies.add(vocabulary(in, architecture));
    VocabularyPlan plan =
        VocabularyPlan.build(spec, vocabularies, donor.index(), ref -> indexOf(ref, inputs));
    boolean allIdentity = true;
    List<Boolean> identity = new ArrayList<>();
    for (PlannedInput in : inputs) {
      boolean same = true;
      for (String name : architecture.vocabularyTensors()) {
        Optional<TensorInfo> t = in.weights().tensor(name);
        if (t.isPresent() && !plan.isIdentity(in.index(), t.get().dim(0))) same = false;
      }
      identity.add(same);
      allIdentity &= same;
    }
    int source = plan.metadataModel();
    boolean sameTokenizer = source == donor.index() && plan.sameTokensAs(vocabularies.get(source));
    if (allIdentity && sameTokenizer) return Optional.empty();
    plan.warnings().forEach(warnings::warn);
    List<ModelWeights> own = inputs.stream().map(PlannedInput::weights).toList();
    EmbeddingLayout layout = new EmbeddingLayout(plan, own);
    for (PlannedInput in : inputs) {
      if (identity.get(in.index())) continue;
      inputs.set(
          in.index(),
          new PlannedInput(
              in.index(),
              in.reference(),
              in.yamlPath(),
              in.isBase(),
              in.parameters(),
              new RelaidWeights(in.weights(), layout, in.index(), architecture),
              in.hfConfig(),
              in.gguf()));
    }
    PlannedInput from = inputs.get(source);
    Optional<Path> copyFrom =
        from.gguf().isEmpty() && plan.sameTokensAs(vocabularies.get(source))
            ? Optional.of(directory(from))
            : Optional.empty();
    return Optional.of(
        new Result(plan, new OutputTokenizer(plan.metadata(), from.weights().path(), copyFrom)));
  }

  /**
   * Replaces the tokenizer keys of a GGUF output's metadata with the built (padded) vocabulary's.
   */
  static void putGgufTokenizer(
      GgufMetadata metadata, VocabularyPlan plan, Architecture architecture) {
    GgufMetadata built = plan.paddedMetadata();
    for (String key : List.copyOf(metadata.entries().keySet())) {
      if (key.startsWith(GgufKeys.TOKENIZER_VOCABULARY_PREFIX)) metadata.remove(key);
    }
    built
        .entries()
        .forEach(
            (key, value) -> {
              if (key.startsWith(GgufKeys.TOKENIZER_VOCABULARY_PREFIX)) metadata.put(key, value);
            });
    String vocabSize = GgufKeys.vocabSize(architecture.ggufName());
    if (metadata.contains(vocabSize)) metadata.put(vocabSize, GgufValue.uint32(plan.paddedRows()));
  }

  private static int indexOf(ModelReference ref, List<PlannedInput> inputs) {
    for (PlannedInput in : inputs) if (in.reference().sameModel(ref)) return in.index();
    throw new ConfigException(
        ref.yamlPath(),
        "'"
            + ref.spec()
            + "' is not one of the models merged; name a model"
            + " listed under models or base_model");
  }

  private static Path directory(PlannedInput in) {
    Path p = in.weights().path();
    return Files.isDirectory(p) ? p : p.toAbsolutePath().getParent();
  }

  /** A model's tokenizer, cut to its config.json vocab_size and embedding rows. */
  private static ModelVocabulary vocabulary(PlannedInput in, Architecture architecture)
      throws IOException {
    GgufMetadata metadata;
    if (in.gguf().isPresent()) {
      metadata = in.gguf().get().metadata();
    } else {
      try {
        metadata = TokenizerToGguf.fromDirectory(directory(in), OptionalLong.empty()).metadata();
      } catch (ConversionException e) {
        throw new ConfigException(
            in.reference().yamlPath(),
            "the tokenizer options need every model's tokenizer: " + e.getMessage());
      }
    }
    String embeddings = architecture.hfWeight(Architecture.Role.TOKEN_EMBEDDINGS);
    long rows =
        in.weights()
            .tensor(embeddings)
            .map(t -> t.dim(0))
            .orElseThrow(
                () ->
                    new ConfigException(
                        in.reference().yamlPath(),
                        "'" + in.label() + "' has no " + embeddings + " to re-lay out"));
    long limit = rows;
    if (in.hfConfig().isPresent()) {
      JsonNode c = in.hfConfig().get();
      JsonNode v =
          c.path("vocab_size").isIntegralNumber()
              ? c.get("vocab_size")
              : c.path("text_config").path("vocab_size");
      if (v.isIntegralNumber()) limit = v.asLong();
    }
    try {
      return ModelVocabulary.of(in.label(), metadata, limit, rows);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(in.reference().yamlPath(), e.getMessage());
    }
  }
}
