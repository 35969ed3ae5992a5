package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.convert.Architecture;
import dev.amalgam.convert.GgufOutput;
import dev.amalgam.convert.Layout;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.config.OutputSlice;
import dev.amalgam.merge.config.SliceSource;
import dev.amalgam.merge.method.InputTensor;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.TensorOperation;
import dev.amalgam.merge.tokenizer.VocabularyPlan;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Plans a {@code slices:} configuration (frankenmerges and layer-range merges), as mergekit does:
 *
 * <ul>
 *   <li>output slices are stacked in order; slice {@code s} contributes {@code end - start} layers, and its output
 *       layer {@code k} merges layer {@code start_j + k} of every source {@code j} with the method;
 *   <li>tensors outside the layers are planned from the first slice's sources when they come before the layers
 *       (the embeddings: names containing "embed") and from the last slice's sources otherwise (final norm,
 *       lm_head), with the layer fraction 0, as mergekit does for non-layer tensors;
 *   <li>per-model parameters resolve source, then slice, then top level; global ones slice, then top level; a
 *       gradient's position restarts at 0 in every slice;
 *   <li>a slice's base is its own {@code base_model}, else the top-level one, when that model is among its
 *       sources; otherwise the slice has no base (the method decides whether it needs one);
 *   <li>config.json's layer count becomes the sum of the slices' layers.
 * </ul>
 *
 * Every model is opened once however many slices name it. Everything is validated before any tensor is read.
 */
final class SlicePlanner {
  private SlicePlanner() {}

  static MergePlan plan(MergeConfig config, MergeMethod method, OutputSpec output, long randomSeed,
      boolean allowCrimes) throws IOException {
    checkParameterNames(config, method);
    List<PlannedInput> inputs = new ArrayList<>();
    try {
      Map<OutputSlice, List<Integer>> modelOf = openInputs(config, inputs, output.isGguf() ? Layout.GGUF : Layout.HF);
      return planTensors(config, method, inputs, modelOf, output, randomSeed, allowCrimes);
    } catch (IOException | RuntimeException e) {
      MergePlanner.closeAll(inputs, e);
      throw e;
    }
  }

  private static void checkParameterNames(MergeConfig config, MergeMethod method) {
    for (OutputSlice slice : config.slices()) {
      for (String name : slice.parameters().keySet()) {
        MergePlanner.checkParameterName(method, name, slice.yamlPath() + ".parameters." + name, false);
      }
      for (SliceSource source : slice.sources()) {
        for (String name : source.parameters().keySet()) {
          MergePlanner.checkParameterName(method, name, source.yamlPath() + ".parameters." + name, true);
        }
      }
    }
  }

  /** Opens every distinct model once; returns, per slice, the model index of each source. */
  private static Map<OutputSlice, List<Integer>> openInputs(MergeConfig config, List<PlannedInput> inputs,
      Layout layout) throws IOException {
    Map<OutputSlice, List<Integer>> modelOf = new HashMap<>();
    for (OutputSlice slice : config.slices()) {
      List<Integer> indexes = new ArrayList<>();
      for (SliceSource source : slice.sources()) indexes.add(indexOf(config, source.model(), inputs, layout));
      modelOf.put(slice, indexes);
    }
    // a base model that is no slice's source still donates config.json and the tokenizer
    if (config.baseModel().isPresent()) indexOf(config, config.baseModel().get(), inputs, layout);
    return modelOf;
  }

  private static int indexOf(MergeConfig config, ModelReference ref, List<PlannedInput> inputs, Layout layout)
      throws IOException {
    for (PlannedInput in : inputs) if (in.reference().sameModel(ref)) return in.index();
    // isBase marks the top-level base (the donor); each slice decides its own base among its sources
    boolean isBase = config.baseModel().map(b -> b.sameModel(ref)).orElse(false);
    PlannedInput opened = MergePlanner.open(inputs.size(), ref, ref.yamlPath(), isBase, Map.of(), layout);
    inputs.add(opened);
    return opened.index();
  }

  private static MergePlan planTensors(MergeConfig config, MergeMethod method, List<PlannedInput> inputs,
      Map<OutputSlice, List<Integer>> modelOf, OutputSpec output, long randomSeed, boolean allowCrimes)
      throws IOException {
    List<OutputSlice> slices = config.slices();
    List<String> warnings = new ArrayList<>();
    PlannedInput donor = config.baseModel().map(b -> find(inputs, b))
        .or(() -> slices.get(0).baseModel().map(b -> find(inputs, b)))
        .orElse(inputs.get(modelOf.get(slices.get(0)).get(0)));
    ObjectNode donorConfig = donor.hfConfig().orElseThrow(() -> new ConfigException(donor.reference().yamlPath(),
        "no config.json next to the weights of '" + donor.label() + "'; the merged model takes its config.json from"
            + " this model"));
    MergePlanner.checkArchitectures(inputs, donor, allowCrimes, warnings);
    Optional<VocabularyPlan> vocabulary = Optional.empty();
    Optional<OutputTokenizer> outputTokenizer = Optional.empty();
    if (config.tokenizer().isPresent()) {
      // re-lays every input's embeddings out to the output vocabulary (wrapping their weights in inputs)
      Optional<TokenizerPlanning.Result> planned = TokenizerPlanning.apply(config.tokenizer().get(), inputs,
          Architecture.LLAMA, warnings);
      vocabulary = planned.map(TokenizerPlanning.Result::vocabulary);
      outputTokenizer = planned.map(TokenizerPlanning.Result::tokenizer);
    }

    // layer counts and ranges
    for (OutputSlice slice : slices) {
      for (int j = 0; j < slice.sources().size(); j++) {
        SliceSource source = slice.sources().get(j);
        PlannedInput in = inputs.get(modelOf.get(slice).get(j));
        int layers = MergePlanner.layerCount(in, in.weights().tensors());
        if (source.end() > layers) {
          throw new ConfigException(source.yamlPath() + ".layer_range", "end " + source.end() + " > the "
              + layers + " layers of '" + in.label() + "'");
        }
      }
    }

    List<TensorTask> tasks = new ArrayList<>();
    Set<DType> outputTypes = new LinkedHashSet<>();
    OutputSlice first = slices.get(0);
    OutputSlice last = slices.get(slices.size() - 1);
    PlannedInput firstSource = inputs.get(modelOf.get(first).get(0));
    PlannedInput lastSource = inputs.get(modelOf.get(last).get(0));
    Planner p = new Planner(config, method, inputs, modelOf, randomSeed, tasks, outputTypes);

    for (TensorInfo t : firstSource.weights().tensors()) {
      if (layerOf(t.name()).isEmpty() && isPreLayer(t.name())) p.plan(first, t.name(), t.name(), -1, 0.0);
    }
    int outLayer = 0;
    for (OutputSlice slice : slices) {
      int layers = slice.layers();
      SliceSource lead = slice.sources().get(0);
      PlannedInput leadModel = inputs.get(modelOf.get(slice).get(0));
      for (int k = 0; k < layers; k++) {
        double x = layers > 1 ? (double) k / (layers - 1) : 1.0;
        int sourceLayer = lead.start() + k;
        boolean any = false;
        for (TensorInfo t : leadModel.weights().tensors()) {
          if (layerOf(t.name()).orElse(-1) != sourceLayer) continue;
          any = true;
          p.plan(slice, t.name(), withLayer(t.name(), outLayer + k), k, x);
        }
        if (!any) {
          throw new ConfigException(lead.yamlPath() + ".layer_range", "'" + leadModel.label() + "' has no tensors"
              + " of layer " + sourceLayer);
        }
      }
      outLayer += layers;
    }
    for (TensorInfo t : lastSource.weights().tensors()) {
      if (layerOf(t.name()).isEmpty() && !isPreLayer(t.name())) p.plan(last, t.name(), t.name(), -1, 0.0);
    }
    if (tasks.isEmpty()) throw new ConfigException("slices", "the slices select no tensors");

    ObjectNode outputConfig = donorConfig.deepCopy();
    setLayerCount(outputConfig, outLayer);
    vocabulary.ifPresent(v -> outputConfig.put("vocab_size", v.paddedRows()));
    Optional<GgufPlan> gguf = Optional.empty();
    if (output.isGguf()) {
      List<GgmlType> types = new ArrayList<>();
      List<String> fellBack = new ArrayList<>();
      for (TensorTask task : tasks) {
        String name = task.output().name();
        if (Architecture.LLAMA.toGguf(name).isEmpty()) {
          throw new ConfigException(donor.reference().yamlPath(), "tensor '" + name + "' has no GGUF name (not a"
              + " Llama-family tensor); write a Hugging Face output instead");
        }
        types.add(GgufOutput.typeFor(task.output(), output.ggufType(), fellBack));
      }
      output.ggufType().flatMap(r -> GgufOutput.fallbackWarning(fellBack, r)).ifPresent(warnings::add);
      gguf = Optional.of(MergePlanner.ggufPlan(config, inputs, donor, outputConfig, tasks, types, output, warnings));
      if (vocabulary.isPresent()) {
        TokenizerPlanning.putGgufTokenizer(gguf.get().metadata(), vocabulary.get(), Architecture.LLAMA);
      }
    } else {
      MergePlanner.setTorchDtype(outputConfig, outputTypes, warnings);
    }
    return new MergePlan(config, method, List.copyOf(inputs), donor, outLayer, List.copyOf(tasks), outputConfig,
        output, gguf, warnings, outputTokenizer);
  }

  /** Plans one output tensor of a slice; collects tasks and output types. */
  private static final class Planner {
    private final MergeConfig config;
    private final MergeMethod method;
    private final List<PlannedInput> inputs;
    private final Map<OutputSlice, List<Integer>> modelOf;
    private final long randomSeed;
    private final List<TensorTask> tasks;
    private final Set<DType> outputTypes;
    private final Set<OutputSlice> checked = new java.util.HashSet<>();

    Planner(MergeConfig config, MergeMethod method, List<PlannedInput> inputs, Map<OutputSlice, List<Integer>> modelOf,
        long randomSeed, List<TensorTask> tasks, Set<DType> outputTypes) {
      this.config = config;
      this.method = method;
      this.inputs = inputs;
      this.modelOf = modelOf;
      this.randomSeed = randomSeed;
      this.tasks = tasks;
      this.outputTypes = outputTypes;
    }

    /**
     * @param leadName the tensor's name in the slice's first source
     * @param outName the output tensor's name
     * @param offset the layer offset within the slice, or -1 outside the layers
     * @param x the gradient position
     */
    void plan(OutputSlice slice, String leadName, String outName, int offset, double x) {
      List<Integer> models = modelOf.get(slice);
      Optional<ModelReference> base = slice.baseModel().or(config::baseModel);
      int baseIndex = -1;
      for (int j = 0; j < models.size() && base.isPresent(); j++) {
        if (inputs.get(models.get(j)).reference().sameModel(base.get())) baseIndex = j;
      }
      if (checked.add(slice)) {
        List<String> labels = new ArrayList<>();
        for (int m : models) labels.add(inputs.get(m).label());
        try {
          method.checkInputs(labels, baseIndex);
        } catch (ConfigException e) {
          throw new ConfigException(slice.yamlPath(), e.getMessage());
        }
      }
      List<TensorInfo> infos = new ArrayList<>();
      List<InputTensor> inputTensors = new ArrayList<>();
      List<MergePlanner.Level> levels = new ArrayList<>();
      TensorInfo lead = null;
      for (int j = 0; j < models.size(); j++) {
        SliceSource source = slice.sources().get(j);
        PlannedInput in = inputs.get(models.get(j));
        String name = offset < 0 ? leadName : withLayer(leadName, source.start() + offset);
        TensorInfo info = in.weights().tensor(name).orElseThrow(() -> new ConfigException(source.yamlPath(),
            "tensor '" + name + "' is missing from '" + in.label() + "'"));
        if (!info.dtype().isMergeable()) {
          throw new ConfigException(source.yamlPath(), "tensor '" + name + "' is " + info.dtype()
              + "; only F32, F16 and BF16 tensors can be merged");
        }
        if (lead == null) {
          lead = info;
        } else if (!lead.sameShape(info)) {
          throw new ConfigException(source.yamlPath(), "tensor '" + name + "' has shape " + info.shapeString()
              + " in '" + in.label() + "' but " + lead.shapeString() + " in the slice's first source");
        }
        infos.add(info);
        inputTensors.add(new InputTensor(j, info, j == baseIndex, in.label()));
        levels.add(new MergePlanner.Level(source.parameters(), source.yamlPath() + ".parameters"));
      }
      List<MergePlanner.Level> globals = new ArrayList<>();
      globals.add(new MergePlanner.Level(slice.parameters(), slice.yamlPath() + ".parameters"));
      globals.addAll(MergePlanner.globalLevels(config));
      TensorOperation op = method.plan(new MergePlanner.Context(method, inputTensors, levels, globals, outName, x,
          randomSeed));
      DType outType = MergePlanner.outputType(config, method, inputTensors);
      outputTypes.add(outType);
      List<Optional<DType>> casts = new ArrayList<>();
      for (TensorInfo info : infos) casts.add(MergePlanner.castFor(config.dtype(), info.dtype()));
      TensorInfo out = new TensorInfo(outName, outType, lead.shape());
      tasks.add(new TensorTask(out, models, infos, casts, offset < 0 ? Optional.empty()
          : MergePlanner.layerIndex(outName), op));
    }
  }

  private static PlannedInput find(List<PlannedInput> inputs, ModelReference ref) {
    return inputs.stream().filter(in -> in.reference().sameModel(ref)).findFirst().orElseThrow();
  }

  /** Embeddings come before the layers; every other non-layer tensor (final norm, lm_head) after them. */
  private static boolean isPreLayer(String name) {
    return Architecture.LLAMA.isBeforeLayers(name);
  }

  private static Optional<Integer> layerOf(String name) {
    return MergePlanner.layerIndex(name);
  }

  /** The name with its layer number (the first all-digit component) replaced. */
  static String withLayer(String name, int layer) {
    return Architecture.withLayer(name, layer);
  }

  private static void setLayerCount(ObjectNode config, int layers) {
    boolean set = false;
    for (String key : MergePlanner.LAYER_COUNT_KEYS) {
      if (config.path(key).isIntegralNumber()) {
        config.put(key, layers);
        set = true;
      }
      JsonNode text = config.get("text_config");
      if (text instanceof ObjectNode t && t.path(key).isIntegralNumber()) {
        t.put(key, layers);
        set = true;
      }
    }
    if (!set) config.put("num_hidden_layers", layers);
  }
}
