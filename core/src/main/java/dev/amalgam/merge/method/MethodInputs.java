package dev.amalgam.merge.method;

import java.util.List;

/**
 * Index lookups shared by the methods that merge task vectors relative to {@code base_model}
 * (model_stock, nearswap, ram, ramplus_tl, sce); {@link InputRule} has already checked that the
 * base is there.
 */
final class MethodInputs {
  private MethodInputs() {}

  /** The index of the base input. */
  static int base(List<InputTensor> inputs) {
    for (InputTensor t : inputs) if (t.isBase()) return t.index();
    throw new IllegalStateException("no base input; checkInputs should have rejected this merge");
  }

  /** The indices of the non-base inputs, in merge order. */
  static int[] others(List<InputTensor> inputs) {
    return inputs.stream().filter(t -> !t.isBase()).mapToInt(InputTensor::index).toArray();
  }

  /** The chunk length for buffers: the chunk size, or less for a small tensor. */
  static int bufferLength(TensorStreams io) {
    return (int) Math.max(1, Math.min(io.chunkElements(), io.elementCount()));
  }
}
