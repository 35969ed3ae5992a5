package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import java.util.List;

/**
 * Input checks and index lookups shared by the methods that merge task vectors relative to {@code base_model}
 * (model_stock, nearswap, ram, ramplus_tl, sce).
 */
final class MethodInputs {
  private MethodInputs() {}

  /**
   * Requires a base model and at least {@code minOthers} (and, when {@code maxOthers >= 0}, at most
   * {@code maxOthers}) other models.
   */
  static void requireBaseAndOthers(String method, List<String> inputLabels, int baseIndex, int minOthers,
      int maxOthers) {
    if (baseIndex < 0) {
      throw new ConfigException("base_model", method + " merges the other models' differences to base_model;"
          + " set base_model");
    }
    int others = inputLabels.size() - 1;
    String want = maxOthers == minOthers ? "exactly " + minOthers : "at least " + minOthers;
    if (others < minOthers || (maxOthers >= 0 && others > maxOthers)) {
      throw new ConfigException("models", method + " needs " + want + " model" + (minOthers == 1 ? "" : "s")
          + " besides base_model, got " + others + " (inputs: " + String.join(", ", inputLabels) + ")");
    }
  }

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
