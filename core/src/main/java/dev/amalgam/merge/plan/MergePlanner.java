package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.convert.Architecture;
import dev.amalgam.convert.GgufOutput;
import dev.amalgam.convert.Layout;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.FormatException;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufKeys;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.method.InputTensor;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.TensorOperation;
import dev.amalgam.merge.plan.NormalizedConfig.Form;
import dev.amalgam.merge.plan.NormalizedConfig.Slice;
import dev.amalgam.merge.plan.NormalizedConfig.Source;
import dev.amalgam.merge.plan.TensorParameters.Level;
import dev.amalgam.merge.tokenizer.VocabularyPlan;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a {@link MergeConfig} into a {@link MergePlan}, validating everything before any tensor
 * data is read: the method and its parameters, the models (directories, weights, config.json), the
 * tensor sets and shapes of every input, and every parameter's value for every tensor. Errors are
 * {@link ConfigException}s naming the YAML path, or {@link FormatException}s naming the file.
 *
 * <p>One planner for both forms of a configuration: a {@code models:} configuration is first
 * normalized into one slice of whole models, as mergekit's {@code normalize_config} does ({@link
 * NormalizedConfig}), and planned as slices are:
 *
 * <ul>
 *   <li>output slices are stacked in order; slice {@code s} contributes {@code end - start} layers,
 *       and its output layer {@code k} merges layer {@code start_j + k} of every source {@code j}
 *       with the method;
 *   <li>tensors outside the layers are planned from the first slice's sources when they come before
 *       the layers (the embeddings) and from the last slice's sources otherwise (final norm,
 *       lm_head), with the layer fraction 0, as mergekit does for non-layer tensors; the
 *       architecture table ({@link Architecture}) says which are which;
 *   <li>per-model parameters resolve source, then slice, then top level; global ones slice, then
 *       top level; a gradient's position restarts at 0 in every slice ({@link TensorParameters});
 *   <li>a slice's base is its own {@code base_model}, else the top-level one, when that model is
 *       among its sources; otherwise the slice has no base (the method decides whether it needs
 *       one);
 *   <li>the output takes config.json and the tokenizer from the donor: the top-level base, else the
 *       first slice's base, else the first slice's first source.
 * </ul>
 *
 * The rules in which the two forms differ ({@link NormalizedConfig.Form}) keep each one's tensor
 * order, checks and messages. Every model is opened once however many slices name it.
 */
public final class MergePlanner {
  /**
   * The GGUF key a merged file records its merge configuration under (llama.cpp ignores unknown
   * keys).
   */
  public static final String CONFIG_KEY = GgufKeys.MERGE_CONFIG;

  private final MergeConfig config;
  private final MergeMethod method;
  private final NormalizedConfig normalized;
  private final OutputSpec output;
  private final long randomSeed;

  /**
   * The opened models in merge order; tokenizer planning replaces the ones whose embeddings it
   * re-lays out.
   */
  private final List<PlannedInput> inputs;

  /** Per slice, the index in {@link #inputs} of each source's model. */
  private final List<List<Integer>> modelOf;

  private final List<String> warnings = new ArrayList<>();
  private final List<TensorTask> tasks = new ArrayList<>();
  private final Set<DType> outputTypes = new LinkedHashSet<>();
  private final Set<Integer> checkedSlices = new HashSet<>();
  private Architecture architecture = Architecture.LLAMA;

  private MergePlanner(
      MergeConfig config,
      MergeMethod method,
      NormalizedConfig normalized,
      OutputSpec output,
      long randomSeed,
      List<PlannedInput> inputs,
      List<List<Integer>> modelOf) {
    this.config = config;
    this.method = method;
    this.normalized = normalized;
    this.output = output;
    this.randomSeed = randomSeed;
    this.inputs = inputs;
    this.modelOf = modelOf;
  }

  /** Plans a merge into a Hugging Face directory; see {@link #plan(MergeConfig, OutputSpec)}. */
  public static MergePlan plan(MergeConfig config) throws IOException {
    return plan(config, OutputSpec.hf());
  }

  /**
   * Plans the merge; on failure every model opened so far is closed again. Inputs may be Hugging
   * Face checkpoints or GGUF files, mixed: all are read under HF names (for filters and layer
   * numbers) in the row layout of the output, so the merged bytes are written unchanged.
   */
  public static MergePlan plan(MergeConfig config, OutputSpec output) throws IOException {
    return plan(config, output, 0L);
  }

  /**
   * As {@link #plan(MergeConfig, OutputSpec)}, with the random seed that methods drawing random
   * numbers (DARE, DELLA) key their generator with; the same seed gives the same bytes at any
   * thread count.
   */
  public static MergePlan plan(MergeConfig config, OutputSpec output, long randomSeed)
      throws IOException {
    return plan(config, output, randomSeed, false);
  }

  /**
   * As {@link #plan(MergeConfig, OutputSpec, long)}; {@code allowCrimes} lets models whose
   * config.json names different architectures merge (mergekit's --allow-crimes), with a warning,
   * instead of failing.
   */
  public static MergePlan plan(
      MergeConfig config, OutputSpec output, long randomSeed, boolean allowCrimes)
      throws IOException {
    MergeMethod method = MergeMethods.forConfig(config.mergeMethod());
    NormalizedConfig normalized = NormalizedConfig.of(config);
    checkParameterNames(config, normalized, method);
    List<PlannedInput> inputs = new ArrayList<>();
    try {
      List<List<Integer>> modelOf =
          openInputs(config, normalized, inputs, output.isGguf() ? Layout.GGUF : Layout.HF);
      return new MergePlanner(config, method, normalized, output, randomSeed, inputs, modelOf)
          .planTensors(allowCrimes);
    } catch (IOException | RuntimeException e) {
      PlannedInputs.closeAll(inputs, e);
      throw e;
    }
  }

  private static void checkParameterNames(
      MergeConfig config, NormalizedConfig normalized, MergeMethod method) {
    for (Level level : TensorParameters.globalLevels(config))
      TensorParameters.checkNames(method, level, false);
    for (Slice slice : normalized.slices()) {
      TensorParameters.checkNames(method, slice.parameters(), false);
      for (Source source : slice.sources())
        TensorParameters.checkNames(method, source.parameters(), true);
    }
  }

  /**
   * Opens every distinct model once, in the order the slices name them, then a top-level base that
   * no slice names (it still donates config.json and the tokenizer); returns, per slice, the model
   * index of each source.
   */
  private static List<List<Integer>> openInputs(
      MergeConfig config, NormalizedConfig normalized, List<PlannedInput> inputs, Layout layout)
      throws IOException {
    List<List<Integer>> modelOf = new ArrayList<>();
    for (Slice slice : normalized.slices()) {
      List<Integer> indexes = new ArrayList<>();
      for (Source source : slice.sources()) {
        Optional<PlannedInput> opened = find(inputs, source.model());
        if (opened.isPresent() && normalized.form() == Form.MODELS) {
          throw new ConfigException(
              source.model().yamlPath(),
              "'"
                  + source.model().spec()
                  + "' is listed twice"
                  + " (also at "
                  + opened.get().reference().yamlPath()
                  + ")");
        }
        indexes.add(
            opened.isPresent()
                ? opened.get().index()
                : open(config, source, normalized.form(), inputs, layout));
      }
      modelOf.add(indexes);
    }
    if (config.baseModel().isPresent() && find(inputs, config.baseModel().get()).isEmpty()) {
      ModelReference base = config.baseModel().get();
      inputs.add(PlannedInputs.open(inputs.size(), base, base.yamlPath(), true, Map.of(), layout));
    }
    return modelOf;
  }

  private static int open(
      MergeConfig config, Source source, Form form, List<PlannedInput> inputs, Layout layout)
      throws IOException {
    ModelReference ref = source.model();
    // isBase marks the top-level base (the donor); each slice decides its own base among its
    // sources
    boolean isBase = config.baseModel().map(b -> b.sameModel(ref)).orElse(false);
    // a models: entry is the model's one place in the configuration; a slice source is one of
    // several
    PlannedInput in =
        form == Form.MODELS
            ? PlannedInputs.open(
                inputs.size(),
                ref,
                source.yamlPath(),
                isBase,
                source.parameters().settings(),
                layout)
            : PlannedInputs.open(inputs.size(), ref, ref.yamlPath(), isBase, Map.of(), layout);
    inputs.add(in);
    return in.index();
  }

  private static Optional<PlannedInput> find(List<PlannedInput> inputs, ModelReference ref) {
    return inputs.stream().filter(in -> in.reference().sameModel(ref)).findFirst();
  }

  private MergePlan planTensors(boolean allowCrimes) throws IOException {
    boolean models = normalized.form() == Form.MODELS;
    if (models) checkSliceInputs(0);
    int donorIndex = donorIndex();
    architecture = PlannedInputs.architecture(inputs.get(donorIndex));
    // the order of these steps, and so of their errors and warnings, is each form's own
    Optional<TokenizerPlanning.Result> tokenizer = models ? planTokenizer() : Optional.empty();
    ObjectNode donorConfig = PlannedInputs.donorConfig(inputs.get(donorIndex));
    PlannedInputs.checkArchitectures(inputs, inputs.get(donorIndex), allowCrimes, warnings::add);
    if (!models) tokenizer = planTokenizer();
    PlannedInput donor = inputs.get(donorIndex);
    Optional<VocabularyPlan> vocabulary = tokenizer.map(TokenizerPlanning.Result::vocabulary);

    ObjectNode outputConfig = donorConfig.deepCopy();
    int layerCount;
    if (models) {
      layerCount = planWholeModels(donor, outputConfig, vocabulary);
    } else {
      layerCount = planSlices();
      setLayerCount(outputConfig, layerCount);
      vocabulary.ifPresent(v -> outputConfig.put("vocab_size", v.paddedRows()));
    }

    Optional<GgufPlan> gguf = Optional.empty();
    List<GgmlType> types = new ArrayList<>();
    List<String> fellBack = new ArrayList<>();
    if (output.isGguf()) {
      for (TensorTask task : tasks) {
        String name = task.output().name();
        if (!models && architecture.toGguf(name).isEmpty()) {
          throw new ConfigException(
              donor.reference().yamlPath(),
              "tensor '"
                  + name
                  + "' has no GGUF name (not a"
                  + " Llama-family tensor); write a Hugging Face output instead");
        }
        // The merge computes in its own dtype, as for a Hugging Face output, and the GGUF output
        // converts on
        // write: a direct GGUF merge then equals the Hugging Face merge converted afterwards (norms
        // included).
        types.add(GgufOutput.typeFor(task.output(), output.ggufType(), fellBack));
      }
    }
    output
        .ggufType()
        .flatMap(r -> GgufOutput.fallbackWarning(fellBack, r))
        .ifPresent(warnings::add);
    if (output.isGguf()) {
      // a models: merge takes the donor's hyperparameters unchanged; slices change the layer count
      gguf =
          Optional.of(
              GgufPlanning.plan(
                  config,
                  inputs,
                  donor,
                  architecture,
                  models ? donorConfig : outputConfig,
                  tasks,
                  types,
                  output,
                  warnings::add));
      if (vocabulary.isPresent())
        TokenizerPlanning.putGgufTokenizer(gguf.get().metadata(), vocabulary.get(), architecture);
    } else {
      setTorchDtype(outputConfig, outputTypes, warnings::add);
    }
    return new MergePlan(
        config,
        method,
        List.copyOf(inputs),
        donor,
        layerCount,
        List.copyOf(tasks),
        outputConfig,
        output,
        gguf,
        warnings,
        tokenizer.map(TokenizerPlanning.Result::tokenizer));
  }

  /**
   * The donor: the top-level base, else the first slice's base, else the first slice's first
   * source.
   */
  private int donorIndex() {
    return config
        .baseModel()
        .or(() -> normalized.slices().get(0).baseModel())
        .map(b -> find(inputs, b).orElseThrow().index())
        .orElse(modelOf.get(0).get(0));
  }

  /**
   * Re-lays every input's embeddings out to the output vocabulary, if the tokenizer options change
   * it.
   */
  private Optional<TokenizerPlanning.Result> planTokenizer() throws IOException {
    if (config.tokenizer().isEmpty()) return Optional.empty();
    return TokenizerPlanning.apply(config.tokenizer().get(), inputs, architecture, warnings::add);
  }

  /** Sets config.json's dtype when every output tensor has the same one; warns otherwise. */
  private static void setTorchDtype(
      ObjectNode outputConfig, Set<DType> outputTypes, WarningListener warnings) {
    if (outputTypes.size() != 1) {
      warnings.warn(
          "output tensors have mixed dtypes "
              + outputTypes
              + "; config.json torch_dtype left as it was");
      return;
    }
    String torchName = outputTypes.iterator().next().torchName().orElseThrow();
    outputConfig.put("torch_dtype", torchName);
    if (outputConfig.has("dtype")) outputConfig.put("dtype", torchName); // transformers v5 spelling
  }

  // ------------------------------------------------------------------------------------------
  // models: form

  /**
   * Plans the one slice of whole models, in the donor's tensor order; returns the layer count.
   * Checks that every model has the donor's tensors and layer count, pairs lm_head with the
   * embeddings of tied models, and merges tensors of vocabulary rows over the rows all models have.
   */
  private int planWholeModels(
      PlannedInput donor, ObjectNode outputConfig, Optional<VocabularyPlan> vocabulary) {
    String lmHead = architecture.hfWeight(Architecture.Role.LM_HEAD);
    String embeddings = architecture.hfWeight(Architecture.Role.TOKEN_EMBEDDINGS);
    List<TensorInfo> reference = new ArrayList<>(donor.weights().tensors());
    int layerCount = PlannedInputs.layerCount(donor);
    for (PlannedInput in : inputs) {
      if (in.index() != donor.index())
        PlannedInputs.checkSameTensors(donor, in, layerCount, architecture);
    }
    // Tied embeddings: when some inputs have lm_head and the donor does not, the output gets one;
    // models without
    // it contribute their embeddings (mergekit PR #464).
    boolean untied = false;
    if (donor.weights().tensor(lmHead).isEmpty()) {
      for (PlannedInput in : inputs) {
        Optional<TensorInfo> head = in.weights().tensor(lmHead);
        if (head.isPresent()) {
          reference.add(head.get());
          untied = true;
          break;
        }
      }
    }
    long commonRows = -1;
    for (TensorInfo listed : reference) {
      TensorInfo ref = listed;
      String name = ref.name();
      List<TensorInfo> infos = new ArrayList<>();
      for (PlannedInput in : inputs) {
        Optional<TensorInfo> own = in.weights().tensor(name);
        infos.add(
            own.isPresent() || !name.equals(lmHead)
                ? own.orElseThrow()
                : in.weights()
                    .tensor(embeddings)
                    .orElseThrow(
                        () ->
                            new ConfigException(
                                in.reference().yamlPath(),
                                "'"
                                    + in.label()
                                    + "' has neither "
                                    + lmHead
                                    + " nor "
                                    + embeddings)));
      }
      if (architecture.hasVocabularyRows(name)) {
        // rectify_embed: different vocabulary sizes merge over the rows they share (mergekit's
        // common sub-matrix)
        long rows = infos.stream().mapToLong(t -> t.dim(0)).min().orElseThrow();
        if (rows != ref.dim(0) || infos.stream().anyMatch(t -> t.dim(0) != rows)) {
          ref = new TensorInfo(name, ref.dtype(), new long[] {rows, ref.dim(1)});
          commonRows = commonRows < 0 ? rows : Math.min(commonRows, rows);
        }
      }
      for (int i = 0; i < infos.size(); i++) {
        if (!infos.get(i).dtype().isMergeable()) {
          throw new ConfigException(
              inputs.get(i).reference().yamlPath(),
              "tensor '"
                  + name
                  + "' is "
                  + infos.get(i).dtype()
                  + "; only F32, F16 and BF16 tensors can be merged");
        }
      }
      Optional<Integer> layer = Architecture.layerIndex(name);
      double x = layer.map(l -> layerCount > 1 ? (double) l / (layerCount - 1) : 1.0).orElse(0.0);
      addTask(0, name, ref.shape(), infos, layer, x);
      if (output.isGguf() && architecture.toGguf(name).isEmpty()) {
        throw new ConfigException(
            donor.reference().yamlPath(),
            "tensor '"
                + name
                + "' of '"
                + donor.label()
                + "' has no GGUF name (not a Llama-family tensor); write a Hugging Face output instead");
      }
    }

    if (untied) {
      outputConfig.put("tie_word_embeddings", false);
      warnings.add(
          "'"
              + donor.label()
              + "' ties lm_head to its embeddings but other models have their own: the"
              + " output gets an lm_head, merged from each model's lm_head or, where it has none, its embeddings");
    }
    if (vocabulary.isPresent()) {
      outputConfig.put("vocab_size", vocabulary.get().paddedRows());
    } else if (commonRows >= 0) {
      outputConfig.put("vocab_size", commonRows);
      warnings.add(
          "the models' vocabulary sizes differ: embeddings and lm_head are merged over their first "
              + commonRows
              + " rows, and config.json's vocab_size says "
              + commonRows
              + " (mergekit keeps the base's"
              + " value, which no longer matches the tensors)");
    }
    return layerCount;
  }

  // ------------------------------------------------------------------------------------------
  // slices: form

  /**
   * Plans the stacked slices: the first slice's tensors before the layers, every slice's layers
   * renumbered in order, the last slice's tensors after the layers; returns the output's layer
   * count.
   */
  private int planSlices() {
    List<Slice> slices = normalized.slices();
    for (int s = 0; s < slices.size(); s++) {
      for (int j = 0; j < slices.get(s).sources().size(); j++) {
        Source source = slices.get(s).sources().get(j);
        PlannedInput in = inputs.get(modelOf.get(s).get(j));
        int layers = PlannedInputs.layerCount(in);
        if (source.end().orElseThrow() > layers) {
          throw new ConfigException(
              source.yamlPath() + ".layer_range",
              "end "
                  + source.end().orElseThrow()
                  + " > the "
                  + layers
                  + " layers of '"
                  + in.label()
                  + "'");
        }
      }
    }
    int last = slices.size() - 1;
    for (TensorInfo t : inputs.get(modelOf.get(0).get(0)).weights().tensors()) {
      if (Architecture.layerIndex(t.name()).isEmpty() && architecture.isBeforeLayers(t.name())) {
        planSliceTensor(0, t.name(), t.name(), -1, 0.0);
      }
    }
    int outLayer = 0;
    for (int s = 0; s < slices.size(); s++) {
      int layers = slices.get(s).layers();
      Source lead = slices.get(s).sources().get(0);
      PlannedInput leadModel = inputs.get(modelOf.get(s).get(0));
      for (int k = 0; k < layers; k++) {
        double x = layers > 1 ? (double) k / (layers - 1) : 1.0;
        int sourceLayer = lead.start() + k;
        boolean any = false;
        for (TensorInfo t : leadModel.weights().tensors()) {
          if (Architecture.layerIndex(t.name()).orElse(-1) != sourceLayer) continue;
          any = true;
          planSliceTensor(s, t.name(), Architecture.withLayer(t.name(), outLayer + k), k, x);
        }
        if (!any) {
          throw new ConfigException(
              lead.yamlPath() + ".layer_range",
              "'" + leadModel.label() + "' has no tensors" + " of layer " + sourceLayer);
        }
      }
      outLayer += layers;
    }
    for (TensorInfo t : inputs.get(modelOf.get(last).get(0)).weights().tensors()) {
      if (Architecture.layerIndex(t.name()).isEmpty() && !architecture.isBeforeLayers(t.name())) {
        planSliceTensor(last, t.name(), t.name(), -1, 0.0);
      }
    }
    if (tasks.isEmpty()) throw new ConfigException("slices", "the slices select no tensors");
    return outLayer;
  }

  /**
   * Plans one output tensor of a slice from the same tensor of every source.
   *
   * @param leadName the tensor's name in the slice's first source
   * @param outName the output tensor's name
   * @param offset the layer offset within the slice, or -1 outside the layers
   * @param x the gradient position
   */
  private void planSliceTensor(int s, String leadName, String outName, int offset, double x) {
    checkSliceInputs(s);
    Slice slice = normalized.slices().get(s);
    List<TensorInfo> infos = new ArrayList<>();
    for (int j = 0; j < slice.sources().size(); j++) {
      Source source = slice.sources().get(j);
      PlannedInput in = inputs.get(modelOf.get(s).get(j));
      String name =
          offset < 0 ? leadName : Architecture.withLayer(leadName, source.start() + offset);
      TensorInfo info =
          in.weights()
              .tensor(name)
              .orElseThrow(
                  () ->
                      new ConfigException(
                          source.yamlPath(),
                          "tensor '" + name + "' is missing from '" + in.label() + "'"));
      if (!info.dtype().isMergeable()) {
        throw new ConfigException(
            source.yamlPath(),
            "tensor '"
                + name
                + "' is "
                + info.dtype()
                + "; only F32, F16 and BF16 tensors can be merged");
      }
      if (!infos.isEmpty() && !infos.get(0).sameShape(info)) {
        throw new ConfigException(
            source.yamlPath(),
            "tensor '"
                + name
                + "' has shape "
                + info.shapeString()
                + " in '"
                + in.label()
                + "' but "
                + infos.get(0).shapeString()
                + " in the slice's first source");
      }
      infos.add(info);
    }
    addTask(
        s,
        outName,
        infos.get(0).shape(),
        infos,
        offset < 0 ? Optional.empty() : Architecture.layerIndex(outName),
        x);
  }

  private static void setLayerCount(ObjectNode config, int layers) {
    boolean set = false;
    for (String key : PlannedInputs.LAYER_COUNT_KEYS) {
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

  // ----------------------------------------------------------------------------------------------
  // both forms

  /**
   * Lets the method check a slice's inputs, once: a {@code models:} configuration before anything
   * else, as mergekit does, a slice when its first tensor is planned, under the slice's YAML path.
   */
  private void checkSliceInputs(int s) {
    if (!checkedSlices.add(s)) return;
    List<String> labels = new ArrayList<>();
    for (int m : modelOf.get(s)) labels.add(inputs.get(m).label());
    try {
      method.checkInputs(labels, baseIndex(s));
    } catch (ConfigException e) {
      if (normalized.form() == Form.MODELS) throw e;
      throw new ConfigException(normalized.slices().get(s).yamlPath(), e.getMessage());
    }
  }

  /** The position of the slice's base among its sources, or -1 when the slice has none. */
  private int baseIndex(int s) {
    Optional<ModelReference> base = normalized.slices().get(s).baseModel().or(config::baseModel);
    List<Integer> models = modelOf.get(s);
    int baseIndex = -1;
    for (int j = 0; j < models.size() && base.isPresent(); j++) {
      if (inputs.get(models.get(j)).reference().sameModel(base.get())) baseIndex = j;
    }
    return baseIndex;
  }

  /**
   * Plans one output tensor from its input tensors (one per source of slice {@code s}, already
   * checked): resolves the parameters, lets the method plan the operation and decides the output
   * type and input casts.
   */
  private void addTask(
      int s,
      String outName,
      long[] shape,
      List<TensorInfo> infos,
      Optional<Integer> layer,
      double x) {
    Slice slice = normalized.slices().get(s);
    List<Integer> models = modelOf.get(s);
    int baseIndex = baseIndex(s);
    List<InputTensor> inputTensors = new ArrayList<>();
    List<Level> levels = new ArrayList<>();
    for (int j = 0; j < models.size(); j++) {
      inputTensors.add(
          new InputTensor(j, infos.get(j), j == baseIndex, inputs.get(models.get(j)).label()));
      levels.add(slice.sources().get(j).parameters());
    }
    List<Level> globals = new ArrayList<>();
    globals.add(slice.parameters());
    globals.addAll(TensorParameters.globalLevels(config));
    TensorOperation op =
        method.plan(
            new TensorParameters(method, inputTensors, levels, globals, outName, x, randomSeed));
    DType outType = outputType(config, method, inputTensors);
    outputTypes.add(outType);
    List<Optional<DType>> casts = new ArrayList<>();
    for (TensorInfo info : infos) casts.add(castFor(config.dtype(), info.dtype()));
    tasks.add(
        new TensorTask(new TensorInfo(outName, outType, shape), models, infos, casts, layer, op));
  }

  /**
   * Input casts follow mergekit's {@code dtype}: rounding on load. Widening to f32 is exact, so it
   * is skipped.
   */
  private static Optional<DType> castFor(Optional<DType> configured, DType stored) {
    if (configured.isEmpty() || configured.get() == stored || configured.get() == DType.F32)
      return Optional.empty();
    return configured;
  }

  private static DType outputType(
      MergeConfig config, MergeMethod method, List<InputTensor> inputs) {
    if (config.outDtype().isPresent()) return config.outDtype().get();
    if (config.dtype().isPresent()) return config.dtype().get();
    if (method.outputFollowsBase()) {
      for (InputTensor t : inputs) if (t.isBase()) return t.info().dtype();
    }
    Set<DType> types = inputs.stream().map(t -> t.info().dtype()).collect(Collectors.toSet());
    return types.size() == 1 ? types.iterator().next() : DType.F32;
  }
}
