package dev.amalgam.merge.tokenizer;

import dev.amalgam.io.ModelWeights;
import dev.amalgam.io.TensorSource;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A model's weights with its embedding tensors (embed_tokens, lm_head) re-laid out to the output vocabulary; every
 * other tensor is passed through. Closing it closes the model.
 */
public final class RelaidWeights implements ModelWeights {
  /** The tensors with one row per token (mergekit's is_embed). */
  public static final Set<String> EMBEDDING_NAMES = Set.of("model.embed_tokens.weight", "lm_head.weight");

  private final ModelWeights weights;
  private final EmbeddingLayout layout;
  private final int model;

  /** Wraps model {@code model} of the layout's plan. */
  public RelaidWeights(ModelWeights weights, EmbeddingLayout layout, int model) {
    this.weights = weights;
    this.layout = layout;
    this.model = model;
  }

  private TensorInfo relaid(TensorInfo t) {
    if (!EMBEDDING_NAMES.contains(t.name()) || t.rank() != 2) return t;
    return new TensorInfo(t.name(), t.dtype(), new long[] {layout.plan().paddedRows(), t.dim(1)});
  }

  @Override
  public Path path() {
    return weights.path();
  }

  @Override
  public List<Path> files() {
    return weights.files();
  }

  @Override
  public List<TensorInfo> tensors() {
    return weights.tensors().stream().map(this::relaid).collect(Collectors.toList());
  }

  @Override
  public Optional<TensorInfo> tensor(String name) {
    return weights.tensor(name).map(this::relaid);
  }

  @Override
  public TensorSource data(String name) {
    TensorSource own = weights.data(name);
    if (!EMBEDDING_NAMES.contains(name) || own.info().rank() != 2) return own;
    return new RelaidEmbeddingSource(own, layout, model, name, name);
  }

  @Override
  public long totalBytes() {
    return weights.totalBytes();
  }

  @Override
  public void close() throws IOException {
    weights.close();
  }
}
