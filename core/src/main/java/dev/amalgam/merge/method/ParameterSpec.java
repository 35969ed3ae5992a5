package dev.amalgam.merge.method;

import java.util.Optional;

/**
 * A parameter a merge method declares.
 *
 * @param name the YAML name ("weight", "t")
 * @param scope whether it has one value per tensor or one per input model and tensor
 * @param type the kind of value
 * @param required whether the configuration must supply it (per-model parameters are never required
 *     of the base)
 * @param defaultValue the value used when it is not required and not given
 * @param description one line for help texts
 */
public record ParameterSpec(
    String name,
    Scope scope,
    Type type,
    boolean required,
    Optional<Object> defaultValue,
    String description) {

  /** Where a parameter's values live. */
  public enum Scope {
    /** One value per output tensor (mergekit "global"): {@code t}, {@code normalize}. */
    GLOBAL,
    /** One value per input model and tensor: {@code weight}. */
    PER_MODEL
  }

  /** The kind of value. */
  public enum Type {
    /** A finite number. */
    NUMBER,
    /** true or false. */
    BOOLEAN
  }

  /** A required parameter. */
  public static ParameterSpec required(String name, Scope scope, Type type, String description) {
    return new ParameterSpec(name, scope, type, true, Optional.empty(), description);
  }

  /** An optional parameter with a default. */
  public static ParameterSpec optional(
      String name, Scope scope, Type type, Object defaultValue, String description) {
    return new ParameterSpec(name, scope, type, false, Optional.of(defaultValue), description);
  }
}
