package dev.amalgam.merge.plan;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.ParameterSetting;
import dev.amalgam.merge.config.Suggestions;
import dev.amalgam.merge.method.InputTensor;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.ParameterSpec;
import dev.amalgam.merge.method.TensorContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Parameter resolution for one output tensor, with mergekit's precedence and errors that name the
 * YAML path: a per-model parameter is looked up in the input's own level (a {@code models:} entry
 * or a slice source), then in the shared levels; a global one only in the shared levels: the
 * slice's {@code parameters}, the module's ({@code modules:} configurations), the top-level ones.
 * In each level a setting may be a gradient (interpolated at the tensor's layer fraction) or a list
 * of filtered values (the first whose filter matches the tensor's name wins); a method's default
 * applies when no level gives a value. Values convert to the declared type.
 */
final class TensorParameters implements TensorContext {
  /**
   * One parameter-lookup level: the settings given at a YAML path ("parameters",
   * "slices[0].parameters", "models[1].parameters"; "base_model" for a base model that {@code
   * models:} does not list).
   */
  record Level(Map<String, ParameterSetting> settings, String yamlPath) {}

  private final MergeMethod method;
  private final List<InputTensor> inputs;
  private final List<Level> inputLevels;
  private final List<Level> globalLevels;
  private final String tensorName;
  private final double layerFraction;
  private final long randomSeed;

  /**
   * @param inputLevels per input, its own parameters (models[i] or a slice source); for an unlisted
   *     base_model an empty level at "base_model"
   * @param globalLevels the shared levels, most specific first (a slice's parameters, then the top
   *     level's)
   */
  TensorParameters(
      MergeMethod method,
      List<InputTensor> inputs,
      List<Level> inputLevels,
      List<Level> globalLevels,
      String tensorName,
      double layerFraction,
      long randomSeed) {
    this.method = method;
    this.inputs = inputs;
    this.inputLevels = inputLevels;
    this.globalLevels = globalLevels;
    this.tensorName = tensorName;
    this.layerFraction = layerFraction;
    this.randomSeed = randomSeed;
  }

  /**
   * The levels above the slices', highest precedence first: the module's {@code parameters} (a
   * {@code modules:} configuration), then the top-level ones.
   */
  static List<Level> globalLevels(MergeConfig config) {
    List<Level> levels = new ArrayList<>();
    config.module().ifPresent(m -> levels.add(new Level(m.parameters(), m.parametersPath())));
    levels.add(new Level(config.parameters(), "parameters"));
    return levels;
  }

  /**
   * Checks that {@code method} declares every parameter a level sets; where only per-model
   * parameters take effect (a model's or a slice source's own parameters), a global one is an error
   * too, since mergekit silently ignores it there.
   */
  static void checkNames(MergeMethod method, Level level, boolean perModelOnly) {
    for (String name : level.settings().keySet()) {
      checkName(method, name, level.yamlPath() + "." + name, perModelOnly);
    }
  }

  private static void checkName(
      MergeMethod method, String name, String yamlPath, boolean perModelOnly) {
    Optional<ParameterSpec> spec =
        method.parameters().stream().filter(p -> p.name().equals(name)).findFirst();
    if (spec.isEmpty()) {
      String takes =
          method.parameters().isEmpty()
              ? "no parameters"
              : "parameters "
                  + method.parameters().stream()
                      .map(ParameterSpec::name)
                      .collect(Collectors.joining(", "));
      Set<String> names =
          method.parameters().stream().map(ParameterSpec::name).collect(Collectors.toSet());
      throw new ConfigException(
          yamlPath,
          "unknown parameter for "
              + method.name()
              + Suggestions.didYouMean(name, names)
              + " ("
              + method.name()
              + " takes "
              + takes
              + ")");
    }
    if (perModelOnly && spec.get().scope() == ParameterSpec.Scope.GLOBAL) {
      throw new ConfigException(
          yamlPath,
          "'"
              + name
              + "' is a global parameter of "
              + method.name()
              + " and has no effect per model (mergekit ignores it here); set it under the top-level parameters");
    }
  }

  @Override
  public long randomSeed() {
    return randomSeed;
  }

  @Override
  public String tensorName() {
    return tensorName;
  }

  @Override
  public List<InputTensor> inputs() {
    return inputs;
  }

  private ParameterSpec spec(String name) {
    return method.parameters().stream()
        .filter(p -> p.name().equals(name))
        .findFirst()
        .orElseThrow(
            () -> new IllegalArgumentException(method.name() + " declares no parameter " + name));
  }

  private Object global(String name) {
    ParameterSpec spec = spec(name);
    ParameterSetting given = null;
    for (Level level : globalLevels) {
      ParameterSetting setting = level.settings().get(name);
      if (setting == null) continue;
      given = setting;
      Optional<ParameterSetting.Value> v = setting.resolve(tensorName, layerFraction);
      if (v.isPresent()) return convert(v.get().value(), spec, v.get().yamlPath());
    }
    if (spec.defaultValue().isPresent()) return spec.defaultValue().get();
    String path = globalLevels.get(globalLevels.size() - 1).yamlPath() + "." + name;
    throw new ConfigException(
        path,
        given == null
            ? "required by " + method.name() + " (" + spec.description() + ")"
            : "no filter matches tensor '"
                + tensorName
                + "' and there is no default entry (add one without a filter)");
  }

  @Override
  public double number(String parameter) {
    return (Double) global(parameter);
  }

  @Override
  public boolean bool(String parameter) {
    return (Boolean) global(parameter);
  }

  @Override
  public double number(InputTensor input, String parameter) {
    ParameterSpec spec = spec(parameter);
    int position = inputs.indexOf(input);
    if (position < 0)
      throw new IllegalArgumentException(input + " is not an input of " + tensorName);
    Level own = inputLevels.get(position);
    String inputName = input.info().name();
    List<Level> levels = new ArrayList<>();
    levels.add(own);
    levels.addAll(globalLevels);
    boolean given = false;
    for (Level level : levels) {
      ParameterSetting setting = level.settings().get(parameter);
      if (setting == null) continue;
      given = true;
      Optional<ParameterSetting.Value> v = setting.resolve(inputName, layerFraction);
      if (v.isPresent()) return (Double) convert(v.get().value(), spec, v.get().yamlPath());
    }
    if (spec.defaultValue().isPresent()) return (Double) spec.defaultValue().get();
    if (own.yamlPath().equals("base_model")) {
      throw new ConfigException(
          "base_model",
          method.name()
              + " needs a "
              + parameter
              + " for every input, and"
              + " base_model '"
              + input.label()
              + "' is not listed under models; list it there with its "
              + parameter);
    }
    String path = own.yamlPath() + "." + parameter;
    throw new ConfigException(
        path,
        given
            ? "no filter matches tensor '"
                + inputName
                + "' and there is no default"
                + " entry (add one without a filter)"
            : "required by " + method.name() + " (" + spec.description() + ")");
  }

  /**
   * The largest magnitude a number parameter may have: every method's parameters (weights, t,
   * densities, lambda, iteration counts) are small numbers, and a value near f32's range (3.4e38)
   * makes the f32 coefficients infinite, so one far beyond any sensible value is a typo.
   */
  static final double MAX_NUMBER = 1e6;

  private static Object convert(Object value, ParameterSpec spec, String path) {
    switch (spec.type()) {
      case NUMBER:
        {
          Double d = null;
          if (value instanceof Double) {
            d = (Double) value;
          } else if (value instanceof String) {
            try {
              d = Double.parseDouble(((String) value).trim());
            } catch (NumberFormatException ignored) {
              // reported below
            }
          }
          if (d == null) throw new ConfigException(path, "expected a number, got '" + value + "'");
          if (!Double.isFinite(d)) throw new ConfigException(path, "must be finite, got " + d);
          if (Math.abs(d) > MAX_NUMBER) {
            throw new ConfigException(
                path,
                "must lie within ±"
                    + (long) MAX_NUMBER
                    + ", got "
                    + d
                    + " (the kernels compute in f32: such a value turns the whole tensor into"
                    + " infinities and NaN)");
          }
          return d;
        }
      case BOOLEAN:
        {
          if (value instanceof Boolean) return value;
          if (value instanceof String) {
            switch (((String) value).trim().toLowerCase(Locale.ROOT)) {
              case "true":
              case "yes":
              case "on":
                return true;
              case "false":
              case "no":
              case "off":
                return false;
              default:
                break;
            }
          }
          throw new ConfigException(path, "expected true or false, got '" + value + "'");
        }
      default:
        throw new IllegalStateException(spec.type().toString());
    }
  }
}
