package dev.amalgam.merge.plan;

import dev.amalgam.merge.method.TensorOperation;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.util.List;
import java.util.Optional;

/**
 * The plan for one output tensor.
 *
 * @param output the tensor written: name, output dtype, shape
 * @param models per input, the index of the model it is read from in {@link MergePlan#inputs()}
 * @param inputs per input, the tensor read (its name in that model: the output's name, or with
 *     another layer number in a slice)
 * @param castTo per input, the dtype it is rounded to on load (the configuration's {@code dtype}),
 *     if any
 * @param layerIndex the tensor's layer in the output, if it belongs to one
 * @param operation what computes it
 */
public record TensorTask(
    TensorInfo output,
    List<Integer> models,
    List<TensorInfo> inputs,
    List<Optional<DType>> castTo,
    Optional<Integer> layerIndex,
    TensorOperation operation) {
  /** Copies the lists and checks they line up. */
  public TensorTask {
    models = List.copyOf(models);
    inputs = List.copyOf(inputs);
    castTo = List.copyOf(castTo);
    if (models.size() != inputs.size() || castTo.size() != inputs.size()) {
      throw new IllegalArgumentException(
          "models, inputs and casts differ in length for " + output.name());
    }
  }

  /** A task reading the same-named tensor from every model of the merge, in merge order. */
  public TensorTask(
      TensorInfo output,
      List<TensorInfo> inputs,
      List<Optional<DType>> castTo,
      Optional<Integer> layerIndex,
      TensorOperation operation) {
    this(
        output,
        java.util.stream.IntStream.range(0, inputs.size()).boxed().toList(),
        inputs,
        castTo,
        layerIndex,
        operation);
  }

  /** Bytes of stored input data this tensor reads (each input once). */
  public long inputBytes() {
    return inputs.stream().mapToLong(TensorInfo::byteSize).sum();
  }
}
