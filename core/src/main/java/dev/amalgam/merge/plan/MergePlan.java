package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.tensor.TensorInfo;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A fully validated merge: every input opened (headers only), every output tensor planned with its
 * parameters resolved. Executing it can fail only on I/O. Close it to release the input files.
 *
 * @param config the configuration
 * @param method the merge method
 * @param inputs the models, in merge order
 * @param donor the model whose config.json and tokenizer files the output takes (the base, else the
 *     first)
 * @param layerCount layers of the output model (the gradient's L)
 * @param tasks one per output tensor, in output order
 * @param outputConfig the config.json to write (the donor's, updated)
 * @param output what is written: a Hugging Face directory or a GGUF file
 * @param gguf for a GGUF output, its metadata, tensor types and extra tensors
 * @param warnings things the user should know that do not stop the merge
 * @param tokenizer with tokenizer options that change the vocabulary, the tokenizer to write
 *     instead of the donor's
 */
public record MergePlan(
    MergeConfig config,
    MergeMethod method,
    List<PlannedInput> inputs,
    PlannedInput donor,
    int layerCount,
    List<TensorTask> tasks,
    ObjectNode outputConfig,
    OutputSpec output,
    Optional<GgufPlan> gguf,
    List<String> warnings,
    Optional<OutputTokenizer> tokenizer)
    implements Closeable {

  /** A plan that writes the donor's tokenizer unchanged. */
  public MergePlan(
      MergeConfig config,
      MergeMethod method,
      List<PlannedInput> inputs,
      PlannedInput donor,
      int layerCount,
      List<TensorTask> tasks,
      ObjectNode outputConfig,
      OutputSpec output,
      Optional<GgufPlan> gguf,
      List<String> warnings) {
    this(
        config,
        method,
        inputs,
        donor,
        layerCount,
        tasks,
        outputConfig,
        output,
        gguf,
        warnings,
        Optional.empty());
  }

  /** The output tensors, in order. */
  public List<TensorInfo> outputTensors() {
    return tasks.stream().map(TensorTask::output).collect(Collectors.toList());
  }

  /** Bytes of tensor data written (in the stored types of a GGUF output). */
  public long outputBytes() {
    if (gguf.isEmpty()) return tasks.stream().mapToLong(t -> t.output().byteSize()).sum();
    long sum = 0;
    for (int i = 0; i < tasks.size(); i++)
      sum += gguf.get().types().get(i).byteCount(tasks.get(i).output().elementCount());
    return sum;
  }

  /** Bytes of tensor data read (each input tensor once). */
  public long inputBytes() {
    return tasks.stream().mapToLong(TensorTask::inputBytes).sum();
  }

  @Override
  public void close() {
    IOException first = null;
    for (PlannedInput in : inputs) {
      try {
        in.weights().close();
      } catch (IOException e) {
        if (first == null) first = e;
      }
    }
    if (first != null) throw new UncheckedIOException(first);
  }
}
