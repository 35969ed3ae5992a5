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
 * @param inputs the same-named tensor of every input, in merge order
 * @param castTo per input, the dtype it is rounded to on load (the configuration's {@code dtype}), if any
 * @param layerIndex the tensor's layer, if it belongs to one
 * @param operation what computes it
 */
public record TensorTask(TensorInfo output, List<TensorInfo> inputs, List<Optional<DType>> castTo,
    Optional<Integer> layerIndex, TensorOperation operation) {
  /** Copies the lists. */
  public TensorTask {
    inputs = List.copyOf(inputs);
    castTo = List.copyOf(castTo);
  }

  /** Bytes of stored input data this tensor reads (each input once). */
  public long inputBytes() {
    return inputs.stream().mapToLong(TensorInfo::byteSize).sum();
  }
}
