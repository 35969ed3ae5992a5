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
   * {@code maxOthers}) other models. The one check of every method that merges other models into a base.
   *
   * @param purpose what the method does with the base, for the message when it is missing ("interpolates from
   *     base_model to one other model")
   */
  static void requireBaseAndOthers(String method, String purpose, List<String> inputLabels, int baseIndex,
      int minOthers, int maxOthers) {
    if (baseIndex < 0) throw new ConfigException("base_model", method + " " + purpose + "; set base_model");
    int others = inputLabels.size() - 1;
    if (others >= minOthers && (maxOthers < 0 || others <= maxOthers)) return;
    String got = others + " (inputs: " + String.join(", ", inputLabels) + ")";
    if (minOthers == 1 && maxOthers == 1) {
      throw new ConfigException("models", method + " merges exactly two models (the base and one other), got "
          + inputLabels.size() + ": " + String.join(", ", inputLabels));
    }
    String want = (maxOthers == minOthers ? "exactly " : "at least ") + minOthers;
    throw new ConfigException("models", method + " needs " + want + " model" + (minOthers == 1 ? "" : "s")
        + " besides base_model, got " + got);
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
