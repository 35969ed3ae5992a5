package dev.amalgam.convert;

import dev.amalgam.io.ModelWeights;
import dev.amalgam.io.RowPermutedSource;
import dev.amalgam.io.ScratchBuffer;
import dev.amalgam.io.TensorSource;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A Hugging Face checkpoint with its query and key projections presented in GGUF row order ({@link
 * Layout#GGUF}), so that it can be merged with GGUF inputs or written to a GGUF file without
 * holding a tensor in memory. Names, shapes and every other tensor are unchanged. The permuted rows
 * are gathered into one buffer owned by this view, so one permuted tensor is read at a time.
 */
public final class PermutedHfWeights implements ModelWeights {
  private final ModelWeights hf;
  private final long headCount;
  private final long headCountKv;
  private final ScratchBuffer gathered = new ScratchBuffer();

  /**
   * Wraps a checkpoint.
   *
   * @param headCount config.json {@code num_attention_heads}
   * @param headCountKv config.json {@code num_key_value_heads} (the head count without
   *     grouped-query attention)
   */
  public PermutedHfWeights(ModelWeights hf, long headCount, long headCountKv) {
    this.hf = hf;
    this.headCount = headCount;
    this.headCountKv = headCountKv;
  }

  /** The permutation a tensor needs, if it is a query or key projection (weight or bias). */
  Optional<QkPermutation> permutation(TensorInfo t) {
    Optional<Architecture.Permuted> p =
        Architecture.LLAMA.toGguf(t.name()).flatMap(Architecture.LLAMA::permutation);
    if (p.isEmpty()) return Optional.empty();
    long heads = p.get() == Architecture.Permuted.QUERY ? headCount : headCountKv;
    return Optional.of(new QkPermutation(t.dim(0), heads));
  }

  @Override
  public Path path() {
    return hf.path();
  }

  @Override
  public List<Path> files() {
    return hf.files();
  }

  @Override
  public List<TensorInfo> tensors() {
    return hf.tensors();
  }

  @Override
  public Optional<TensorInfo> tensor(String name) {
    return hf.tensor(name);
  }

  @Override
  public TensorSource data(String name) {
    TensorSource source = hf.data(name);
    TensorInfo info = source.info();
    Optional<QkPermutation> p = permutation(info);
    if (p.isEmpty()) return source;
    long rowLength = info.rank() == 1 ? 1 : info.elementCount() / info.dim(0);
    return new RowPermutedSource(source, info, rowLength, p.get()::ggufRowToHfRow, gathered);
  }

  @Override
  public long totalBytes() {
    return hf.totalBytes();
  }

  @Override
  public void checkUnchanged() throws dev.amalgam.io.InputChangedException {
    hf.checkUnchanged();
  }

  @Override
  public void close() throws IOException {
    hf.close();
  }
}
