package dev.amalgam.merge.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.FormatException;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.InputModel;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.config.ParameterSetting;
import dev.amalgam.merge.config.Suggestions;
import dev.amalgam.merge.method.InputTensor;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.ParameterSpec;
import dev.amalgam.merge.method.TensorContext;
import dev.amalgam.merge.method.TensorOperation;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns a {@link MergeConfig} into a {@link MergePlan}, validating everything before any tensor data is read:
 * the method and its parameters, the models (directories, weights, config.json), the tensor sets and shapes of
 * every input, and every parameter's value for every tensor. Errors are {@link ConfigException}s naming the YAML
 * path, or {@link FormatException}s naming the file.
 */
public final class MergePlanner {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][\\w.-]*/[\\w.-]+(@.+)?");
  private static final List<String> LAYER_COUNT_KEYS = List.of("num_hidden_layers", "n_layer", "num_layers");

  private MergePlanner() {}

  /** Plans the merge; on failure every model opened so far is closed again. */
  public static MergePlan plan(MergeConfig config) throws IOException {
    MergeMethod method = MergeMethods.forConfig(config.mergeMethod());
    checkParameterNames(config, method);
    List<PlannedInput> inputs = new ArrayList<>();
    try {
      openInputs(config, inputs);
      List<String> labels = inputs.stream().map(PlannedInput::label).collect(Collectors.toList());
      int baseIndex = inputs.stream().filter(PlannedInput::isBase).mapToInt(PlannedInput::index).findFirst().orElse(-1);
      method.checkInputs(labels, baseIndex);
      return planTensors(config, method, inputs);
    } catch (IOException | RuntimeException e) {
      for (PlannedInput in : inputs) {
        try {
          in.weights().close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  private static void checkParameterNames(MergeConfig config, MergeMethod method) {
    Map<String, ParameterSpec> specs = new HashMap<>();
    for (ParameterSpec s : method.parameters()) specs.put(s.name(), s);
    String takes = method.parameters().isEmpty() ? "no parameters"
        : "parameters " + method.parameters().stream().map(ParameterSpec::name).collect(Collectors.joining(", "));
    for (String name : config.parameters().keySet()) {
      if (!specs.containsKey(name)) {
        throw new ConfigException("parameters." + name, "unknown parameter for " + method.name()
            + Suggestions.didYouMean(name, specs.keySet()) + " (" + method.name() + " takes " + takes + ")");
      }
    }
    for (InputModel m : config.models()) {
      for (String name : m.parameters().keySet()) {
        ParameterSpec s = specs.get(name);
        String path = m.yamlPath() + ".parameters." + name;
        if (s == null) {
          throw new ConfigException(path, "unknown parameter for " + method.name()
              + Suggestions.didYouMean(name, specs.keySet()) + " (" + method.name() + " takes " + takes + ")");
        }
        if (s.scope() == ParameterSpec.Scope.GLOBAL) {
          throw new ConfigException(path, "'" + name + "' is a global parameter of " + method.name()
              + " and has no effect per model (mergekit ignores it here); set it under the top-level parameters");
        }
      }
    }
  }

  private static void openInputs(MergeConfig config, List<PlannedInput> inputs) throws IOException {
    List<ModelReference> seen = new ArrayList<>();
    Optional<ModelReference> base = config.baseModel();
    boolean baseListed = false;
    for (InputModel m : config.models()) {
      for (ModelReference other : seen) {
        if (other.sameModel(m.model())) {
          throw new ConfigException(m.model().yamlPath(), "'" + m.model().spec() + "' is listed twice (also at "
              + other.yamlPath() + ")");
        }
      }
      seen.add(m.model());
      boolean isBase = base.isPresent() && base.get().sameModel(m.model());
      baseListed |= isBase;
      inputs.add(open(inputs.size(), m.model(), m.yamlPath(), isBase, m.parameters()));
    }
    if (base.isPresent() && !baseListed) {
      // mergekit appends a base_model that models: does not list as one more input
      inputs.add(open(inputs.size(), base.get(), "base_model", true, Map.of()));
    }
  }

  private static PlannedInput open(int index, ModelReference ref, String yamlPath, boolean isBase,
      Map<String, ParameterSetting> parameters) throws IOException {
    Path path = ref.path();
    if (!Files.exists(path)) {
      String spec = ref.spec();
      String why;
      if (spec.contains("+")) {
        why = "'" + spec + "' does not exist; model+lora references (LoRA adapters) are not supported yet";
      } else if (HUB_ID.matcher(spec).matches() && !spec.startsWith(".")) {
        why = "'" + spec + "' is not a local directory; Amalgam reads local models only: download it first (for"
            + " example huggingface-cli download " + spec.split("@")[0] + " --local-dir DIR) and give DIR";
      } else {
        why = "no such file or directory: " + path;
      }
      throw new ConfigException(ref.yamlPath(), why);
    }
    SafetensorsModel weights;
    try {
      weights = SafetensorsModel.open(path);
    } catch (FormatException e) {
      if (e.reason() == FormatException.Reason.MISSING_FILE) throw new ConfigException(ref.yamlPath(), e.getMessage());
      throw e;
    }
    Optional<ObjectNode> hfConfig = Optional.empty();
    Path configJson = Files.isDirectory(path) ? path.resolve("config.json") : path.resolveSibling("config.json");
    if (Files.isRegularFile(configJson)) {
      try {
        JsonNode node = JSON.readTree(configJson.toFile());
        if (!(node instanceof ObjectNode)) {
          weights.close();
          throw new ConfigException(ref.yamlPath(), configJson + " is not a JSON object");
        }
        hfConfig = Optional.of((ObjectNode) node);
      } catch (JsonProcessingException e) {
        weights.close();
        throw new ConfigException(ref.yamlPath(), configJson + " is not valid JSON: " + e.getOriginalMessage());
      }
    }
    return new PlannedInput(index, ref, yamlPath, isBase, parameters, weights, hfConfig);
  }

  private static MergePlan planTensors(MergeConfig config, MergeMethod method, List<PlannedInput> inputs) {
    List<String> warnings = new ArrayList<>();
    PlannedInput donor = inputs.stream().filter(PlannedInput::isBase).findFirst().orElse(inputs.get(0));
    ObjectNode donorConfig = donor.hfConfig().orElseThrow(() -> new ConfigException(donor.reference().yamlPath(),
        "no config.json next to the weights of '" + donor.label() + "'; the merged model takes its config.json from"
            + " this model"));

    List<TensorInfo> reference = donor.weights().tensors();
    int layerCount = layerCount(donor, reference);
    for (PlannedInput in : inputs) {
      if (in != donor) checkSameTensors(donor, in, layerCount);
    }

    List<TensorTask> tasks = new ArrayList<>();
    Set<DType> outputTypes = new LinkedHashSet<>();
    for (TensorInfo ref : reference) {
      String name = ref.name();
      List<TensorInfo> infos = new ArrayList<>();
      for (PlannedInput in : inputs) infos.add(in.weights().tensor(name).orElseThrow());
      for (int i = 0; i < infos.size(); i++) {
        if (!infos.get(i).dtype().isMergeable()) {
          throw new ConfigException(inputs.get(i).reference().yamlPath(), "tensor '" + name + "' is "
              + infos.get(i).dtype() + "; only F32, F16 and BF16 tensors can be merged");
        }
      }
      Optional<Integer> layer = layerIndex(name);
      double x = layer.map(l -> layerCount > 1 ? (double) l / (layerCount - 1) : 1.0).orElse(0.0);
      List<InputTensor> inputTensors = new ArrayList<>();
      for (PlannedInput in : inputs) {
        inputTensors.add(new InputTensor(in.index(), infos.get(in.index()), in.isBase(), in.label()));
      }
      TensorOperation op = method.plan(new Context(config, method, inputs, inputTensors, name, x));
      DType outType = outputType(config, method, inputTensors);
      outputTypes.add(outType);
      List<Optional<DType>> casts = new ArrayList<>();
      for (TensorInfo info : infos) casts.add(castFor(config.dtype(), info.dtype()));
      tasks.add(new TensorTask(ref.withDtype(outType), infos, casts, layer, op));
    }

    ObjectNode outputConfig = donorConfig.deepCopy();
    if (outputTypes.size() == 1) {
      String torchName = outputTypes.iterator().next().torchName().orElseThrow();
      outputConfig.put("torch_dtype", torchName);
      if (outputConfig.has("dtype")) outputConfig.put("dtype", torchName); // transformers v5 spelling
    } else {
      warnings.add("output tensors have mixed dtypes " + outputTypes + "; config.json torch_dtype left as it was");
    }
    return new MergePlan(config, method, List.copyOf(inputs), donor, layerCount, List.copyOf(tasks), outputConfig,
        warnings);
  }

  /** Input casts follow mergekit's {@code dtype}: rounding on load. Widening to f32 is exact, so it is skipped. */
  private static Optional<DType> castFor(Optional<DType> configured, DType stored) {
    if (configured.isEmpty() || configured.get() == stored || configured.get() == DType.F32) return Optional.empty();
    return configured;
  }

  private static DType outputType(MergeConfig config, MergeMethod method, List<InputTensor> inputs) {
    if (config.outDtype().isPresent()) return config.outDtype().get();
    if (config.dtype().isPresent()) return config.dtype().get();
    if (method.outputFollowsBase()) {
      for (InputTensor t : inputs) if (t.isBase()) return t.info().dtype();
    }
    Set<DType> types = inputs.stream().map(t -> t.info().dtype()).collect(Collectors.toSet());
    return types.size() == 1 ? types.iterator().next() : DType.F32;
  }

  private static int layerCount(PlannedInput donor, List<TensorInfo> tensors) {
    int maxIndex = -1;
    for (TensorInfo t : tensors) maxIndex = Math.max(maxIndex, layerIndex(t.name()).orElse(-1));
    Optional<Integer> configured = configuredLayers(donor);
    if (configured.isEmpty()) return Math.max(1, maxIndex + 1);
    if (maxIndex >= configured.get()) {
      throw new ConfigException(donor.reference().yamlPath(), "config.json of '" + donor.label() + "' says "
          + configured.get() + " layers but the weights have layer " + maxIndex);
    }
    return configured.get();
  }

  private static Optional<Integer> configuredLayers(PlannedInput input) {
    if (input.hfConfig().isEmpty()) return Optional.empty();
    ObjectNode c = input.hfConfig().get();
    JsonNode text = c.get("text_config");
    for (String key : LAYER_COUNT_KEYS) {
      if (c.path(key).isIntegralNumber()) return Optional.of(c.get(key).asInt());
      if (text != null && text.path(key).isIntegralNumber()) return Optional.of(text.get(key).asInt());
    }
    return Optional.empty();
  }

  private static void checkSameTensors(PlannedInput donor, PlannedInput in, int layerCount) {
    String where = in.reference().yamlPath();
    Optional<Integer> layers = configuredLayers(in);
    if (layers.isPresent() && layers.get() != layerCount) {
      throw new ConfigException(where, "'" + in.label() + "' has " + layers.get() + " layers but '" + donor.label()
          + "' has " + layerCount + "; merged models must have the same layer count");
    }
    Map<String, TensorInfo> theirs = new HashMap<>();
    for (TensorInfo t : in.weights().tensors()) theirs.put(t.name(), t);
    for (TensorInfo mine : donor.weights().tensors()) {
      TensorInfo other = theirs.remove(mine.name());
      if (other == null) {
        throw new ConfigException(where, "tensor '" + mine.name() + "' is missing from '" + in.label()
            + "' (present in '" + donor.label() + "')");
      }
      if (!other.sameShape(mine)) {
        throw new ConfigException(where, "tensor '" + mine.name() + "' has shape " + other.shapeString() + " in '"
            + in.label() + "' but " + mine.shapeString() + " in '" + donor.label() + "'");
      }
    }
    if (!theirs.isEmpty()) {
      String extra = theirs.keySet().stream().sorted().findFirst().orElseThrow();
      throw new ConfigException(where, "tensor '" + extra + "' of '" + in.label() + "' is not in '" + donor.label()
          + "'" + (theirs.size() > 1 ? " (and " + (theirs.size() - 1) + " more)" : ""));
    }
  }

  /** The layer a tensor belongs to: its first all-digit dot-separated component ("model.layers.12.mlp" -> 12). */
  static Optional<Integer> layerIndex(String name) {
    for (String part : name.split("\\.")) {
      if (!part.isEmpty() && part.length() <= 9 && part.chars().allMatch(Character::isDigit)) {
        return Optional.of(Integer.parseInt(part));
      }
    }
    return Optional.empty();
  }

  /** Parameter lookups for one tensor, with mergekit's precedence and clear errors. */
  private static final class Context implements TensorContext {
    private final MergeConfig config;
    private final MergeMethod method;
    private final List<PlannedInput> models;
    private final List<InputTensor> inputs;
    private final String tensorName;
    private final double layerFraction;

    Context(MergeConfig config, MergeMethod method, List<PlannedInput> models, List<InputTensor> inputs,
        String tensorName, double layerFraction) {
      this.config = config;
      this.method = method;
      this.models = models;
      this.inputs = inputs;
      this.tensorName = tensorName;
      this.layerFraction = layerFraction;
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
      return method.parameters().stream().filter(p -> p.name().equals(name)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException(method.name() + " declares no parameter " + name));
    }

    private Object global(String name) {
      ParameterSpec spec = spec(name);
      ParameterSetting setting = config.parameters().get(name);
      if (setting != null) {
        Optional<ParameterSetting.Value> v = setting.resolve(tensorName, layerFraction);
        if (v.isPresent()) return convert(v.get().value(), spec, v.get().yamlPath());
      }
      if (spec.defaultValue().isPresent()) return spec.defaultValue().get();
      String path = "parameters." + name;
      throw new ConfigException(path, setting == null ? "required by " + method.name() + " (" + spec.description() + ")"
          : "no filter matches tensor '" + tensorName + "' and there is no default entry (add one without a filter)");
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
      PlannedInput model = models.get(input.index());
      String inputName = input.info().name();
      for (ParameterSetting setting : new ParameterSetting[] {model.parameters().get(parameter),
          config.parameters().get(parameter)}) {
        if (setting == null) continue;
        Optional<ParameterSetting.Value> v = setting.resolve(inputName, layerFraction);
        if (v.isPresent()) return (Double) convert(v.get().value(), spec, v.get().yamlPath());
      }
      if (spec.defaultValue().isPresent()) return (Double) spec.defaultValue().get();
      if (model.yamlPath().equals("base_model")) {
        throw new ConfigException("base_model", method.name() + " needs a " + parameter + " for every input, and"
            + " base_model '" + model.label() + "' is not listed under models; list it there with its " + parameter);
      }
      String path = model.yamlPath() + ".parameters." + parameter;
      boolean given = model.parameters().containsKey(parameter) || config.parameters().containsKey(parameter);
      throw new ConfigException(path, given ? "no filter matches tensor '" + inputName + "' and there is no default"
          + " entry (add one without a filter)" : "required by " + method.name() + " (" + spec.description() + ")");
    }

    private static Object convert(Object value, ParameterSpec spec, String path) {
      switch (spec.type()) {
        case NUMBER: {
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
          return d;
        }
        case BOOLEAN: {
          if (value instanceof Boolean) return value;
          if (value instanceof String) {
            switch (((String) value).trim().toLowerCase(Locale.ROOT)) {
              case "true": case "yes": case "on":
                return true;
              case "false": case "no": case "off":
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
}
