package dev.amalgam.merge.method;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A merge method declared by its facts, with its maths as the one piece of code: every method of
 * the registry is one of these. Declare one with {@link #named}.
 *
 * @param name the {@code merge_method} value
 * @param displayName the name for model cards
 * @param reference where the method is described
 * @param parameters the declared parameters, in the order {@code amalgam methods} lists them
 * @param inputs how many models it merges and what {@code base_model} is to it
 * @param outputFollowsBase whether the output takes the base's element type by default (see {@link
 *     MergeMethod})
 * @param planner turns one tensor's context into its operation
 */
record DeclaredMethod(
    String name,
    String displayName,
    String reference,
    List<ParameterSpec> parameters,
    InputRule inputs,
    boolean outputFollowsBase,
    Function<TensorContext, TensorOperation> planner)
    implements MergeMethod {
  DeclaredMethod {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(reference, "reference");
    parameters = List.copyOf(parameters);
    Objects.requireNonNull(inputs, "inputs");
    Objects.requireNonNull(planner, "planner");
  }

  /** Starts the declaration of the method called {@code name} in YAML. */
  static Declaration named(String name) {
    return new Declaration(name);
  }

  @Override
  public void checkInputs(List<String> inputLabels, int baseIndex) {
    inputs.check(name, inputLabels, baseIndex);
  }

  @Override
  public TensorOperation plan(TensorContext context) {
    return planner.apply(context);
  }

  /**
   * The facts of a method being declared; {@link #plans} completes it. No parameters by default.
   */
  static final class Declaration {
    private final String name;
    private String displayName;
    private String reference;
    private List<ParameterSpec> parameters = List.of();
    private InputRule inputs;
    private boolean outputFollowsBase;

    private Declaration(String name) {
      this.name = name;
    }

    /** The human name, e.g. "SLERP". */
    Declaration displayName(String displayName) {
      this.displayName = displayName;
      return this;
    }

    /** The paper or page that describes the method. */
    Declaration reference(String reference) {
      this.reference = reference;
      return this;
    }

    /** The declared parameters, in order. */
    Declaration parameters(ParameterSpec... parameters) {
      return parameters(List.of(parameters));
    }

    /** The declared parameters, in order. */
    Declaration parameters(List<ParameterSpec> parameters) {
      this.parameters = parameters;
      return this;
    }

    /** How many models the method merges and what {@code base_model} is to it. */
    Declaration inputs(InputRule inputs) {
      this.inputs = inputs;
      return this;
    }

    /** The output takes the base's element type when the configuration names none. */
    Declaration outputFollowsBase() {
      this.outputFollowsBase = true;
      return this;
    }

    /** The method, planning each tensor with {@code planner}. */
    MergeMethod plans(Function<TensorContext, TensorOperation> planner) {
      return new DeclaredMethod(
          name, displayName, reference, parameters, inputs, outputFollowsBase, planner);
    }
  }
}
