package dev.amalgam.merge.tokenizer;

import dev.amalgam.convert.Architecture;
import dev.amalgam.io.ModelWeights;
import dev.amalgam.io.TensorSource;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A model's weights with its tensors of one row per token (its architecture's {@link
 * Architecture#vocabularyTensors()}: embed_tokens, lm_head) re-laid out to the output vocabulary;
 * every other tensor is passed through. Closing it closes the model.
 */
public final class RelaidWeights implements ModelWeights {
  private final ModelWeights weights;
  private final EmbeddingLayout layout;
  private final int model;
  private final Architecture architecture;

  /**
   * Wraps model {@code model} of the layout's plan, whose vocabulary tensors {@code architecture}
   * names.
   */
  public RelaidWeights(
      ModelWeights weights, EmbeddingLayout layout, int model, Architecture architecture) {
    this.weights = weights;
    this.layout = layout;
    this.model = model;
    this.architecture = architecture;
  }

  private TensorInfo relaid(TensorInfo t) {
    if (!architecture.hasVocabularyRows(t.name()) || t.rank() != 2) return t;
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
    if (!architecture.hasVocabularyRows(name) || own.info().rank() != 2) return own;
    return new RelaidEmbeddingSource(own, layout, model, name, name);
  }

  @Override
  public long totalBytes() {
    return weights.totalBytes();
  }

  @Override
  public void checkUnchanged() throws dev.amalgam.io.InputChangedException {
    weights.checkUnchanged();
  }

  @Override
  public void close() throws IOException {
    weights.close();
  }
}
