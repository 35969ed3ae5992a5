package dev.amalgam.merge.method;

import java.util.List;

/**
 * What a merge method may ask while planning one output tensor. Parameter lookups apply mergekit's
 * precedence, filters and gradients, and throw {@link dev.amalgam.merge.config.ConfigException}
 * naming the YAML path and the tensor when a value is missing or has the wrong type, so every such
 * error surfaces before any tensor is read.
 */
public interface TensorContext {
  /** The output tensor's name. */
  String tensorName();

  /** The inputs, in merge order. */
  List<InputTensor> inputs();

  /** A global number parameter for this tensor. */
  double number(String parameter);

  /** A global boolean parameter for this tensor. */
  boolean bool(String parameter);

  /** A per-model number parameter of one input for this tensor. */
  double number(InputTensor input, String parameter);

  /**
   * The merge's random seed ({@code --random-seed}, 0 when not given). Methods that draw random
   * numbers key a counter-based generator by this seed and {@link #tensorName()}, so results do not
   * depend on the thread count or the order in which tensors are merged.
   */
  long randomSeed();
}
