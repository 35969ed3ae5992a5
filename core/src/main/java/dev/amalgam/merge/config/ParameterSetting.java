package dev.amalgam.merge.config;

import java.util.List;
import java.util.Optional;

/**
 * One parameter's setting as mergekit's YAML allows it: a constant, a gradient (a list interpolated
 * across layers), or a list of {@code {filter, value}} rules whose first match decides. See
 * docs/merge-semantics.md §3.
 */
public sealed interface ParameterSetting
    permits ParameterSetting.Constant, ParameterSetting.Gradient, ParameterSetting.Conditional {

  /** The YAML path of this setting, for error messages. */
  String yamlPath();

  /**
   * The value for one tensor, or empty if no rule matches (the caller then falls through to the
   * next level of precedence).
   *
   * @param tensorName the tensor name filters are matched against
   * @param layerFraction where the tensor's layer lies in its slice: i / (L - 1), 0 for non-layer
   *     tensors
   */
  Optional<Value> resolve(String tensorName, double layerFraction);

  /**
   * A resolved value and where it was configured.
   *
   * @param value a Double, Boolean or String
   * @param yamlPath the YAML path of the constant, gradient or rule that supplied it
   */
  record Value(Object value, String yamlPath) {}

  /** A number (Double), boolean or string. */
  record Constant(Object value, String yamlPath) implements ParameterSetting {
    @Override
    public Optional<Value> resolve(String tensorName, double layerFraction) {
      return Optional.of(new Value(value, yamlPath));
    }
  }

  /**
   * A list of values spread evenly over the layers of a slice. Numbers are interpolated linearly
   * between the two nearest anchors; any other values are picked by {@code floor(x * (n - 1))}.
   */
  record Gradient(List<Object> values, String yamlPath) implements ParameterSetting {
    /** Creates the gradient; it must hold at least one value. */
    public Gradient {
      values = List.copyOf(values);
      if (values.isEmpty())
        throw new ConfigException(yamlPath, "a gradient needs at least one value");
    }

    @Override
    public Optional<Value> resolve(String tensorName, double layerFraction) {
      return Optional.of(new Value(valueAt(layerFraction), yamlPath));
    }

    /** The value at layer fraction {@code x} in [0, 1]. */
    public Object valueAt(double x) {
      int n = values.size();
      boolean numeric = values.stream().allMatch(v -> v instanceof Double);
      double s = x * (n - 1);
      if (!numeric) return values.get((int) Math.min(n - 1, Math.max(0, Math.floor(s))));
      int i0 = (int) Math.min(n - 1, Math.max(0, Math.floor(s)));
      int i1 = Math.min(n - 1, i0 + 1);
      double f = s - i0;
      return (1 - f) * (Double) values.get(i0) + f * (Double) values.get(i1);
    }
  }

  /**
   * Rules tried in order; a rule without a filter, with "*", or whose filter is a substring of the
   * name wins.
   */
  record Conditional(List<Rule> rules, String yamlPath) implements ParameterSetting {
    /** Copies the rules. */
    public Conditional {
      rules = List.copyOf(rules);
    }

    @Override
    public Optional<Value> resolve(String tensorName, double layerFraction) {
      for (Rule rule : rules) {
        if (rule.matches(tensorName)) return rule.value().resolve(tensorName, layerFraction);
      }
      return Optional.empty();
    }
  }

  /**
   * One {@code {filter, value}} entry.
   *
   * @param filter a plain substring of tensor names (no regex or glob, as in mergekit), "*" or null
   *     for any
   * @param value a constant or gradient
   */
  record Rule(String filter, ParameterSetting value) {
    /** Whether this rule applies to the tensor. */
    public boolean matches(String tensorName) {
      return filter == null || filter.equals("*") || tensorName.contains(filter);
    }
  }
}
