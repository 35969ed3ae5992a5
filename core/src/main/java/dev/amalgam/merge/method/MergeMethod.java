package dev.amalgam.merge.method;

import java.util.List;

/**
 * A merge method: its name as mergekit's YAML spells it, the parameters it declares, the input
 * shape it requires, and how it plans one output tensor. Implementations are stateless; the
 * registry's methods are each declared by these facts as data, with the planning of a tensor as
 * their only code.
 */
public interface MergeMethod {
  /** The {@code merge_method} value, e.g. "slerp". */
  String name();

  /** A human name for model cards, e.g. "SLERP". */
  String displayName();

  /** Where the method is described (paper or reference), for model cards. */
  String reference();

  /** Declared parameters, global and per-model. */
  List<ParameterSpec> parameters();

  /**
   * Checks the merge's inputs once, before any tensor is planned.
   *
   * @param inputLabels the inputs' references, in merge order
   * @param baseIndex index of the base model among them, or -1 without {@code base_model}
   * @throws dev.amalgam.merge.config.ConfigException naming the YAML path of the problem
   */
  void checkInputs(List<String> inputLabels, int baseIndex);

  /**
   * Whether the output takes the base model's element type when the configuration sets neither
   * {@code dtype} nor {@code out_dtype} (SLERP); otherwise the inputs' common type, or F32 if they
   * differ.
   */
  boolean outputFollowsBase();

  /** Plans one output tensor; parameter problems throw ConfigException. */
  TensorOperation plan(TensorContext context);
}
