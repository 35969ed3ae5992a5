package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.convert.Architecture;
import dev.amalgam.convert.ConversionException;
import dev.amalgam.convert.GgufOutput;
import dev.amalgam.convert.GgufWeights;
import dev.amalgam.convert.Layout;
import dev.amalgam.convert.LlamaMetadata;
import dev.amalgam.convert.ModelConverter;
import dev.amalgam.convert.ModelFormats;
import dev.amalgam.io.FormatException;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufKeys;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
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
import dev.amalgam.merge.tokenizer.VocabularyPlan;
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
  private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][\\w.-]*/[\\w.-]+(@.+)?");
  static final List<String> LAYER_COUNT_KEYS = List.of("num_hidden_layers", "n_layer", "num_layers");

  private MergePlanner() {}

  /** Plans a merge into a Hugging Face directory; see {@link #plan(MergeConfig, OutputSpec)}. */
  public static MergePlan plan(MergeConfig config) throws IOException {
    return plan(config, OutputSpec.hf());
  }

  /**
   * Plans the merge; on failure every model opened so far is closed again. Inputs may be Hugging Face
   * checkpoints or GGUF files, mixed: all are read under HF names (for filters and layer numbers) in the row
   * layout of the output, so the merged bytes are written unchanged.
   */
  public static MergePlan plan(MergeConfig config, OutputSpec output) throws IOException {
    return plan(config, output, 0L);
  }

  /**
   * As {@link #plan(MergeConfig, OutputSpec)}, with the random seed that methods drawing random numbers (DARE,
   * DELLA) key their generator with; the same seed gives the same bytes at any thread count.
   */
  public static MergePlan plan(MergeConfig config, OutputSpec output, long randomSeed) throws IOException {
    return plan(config, output, randomSeed, false);
  }

  /**
   * As {@link #plan(MergeConfig, OutputSpec, long)}; {@code allowCrimes} lets models whose config.json names
   * different architectures merge (mergekit's --allow-crimes), with a warning, instead of failing.
   */
  public static MergePlan plan(MergeConfig config, OutputSpec output, long randomSeed, boolean allowCrimes)
      throws IOException {
    MergeMethod method = MergeMethods.forConfig(config.mergeMethod());
    checkParameterNames(config, method);
    if (!config.slices().isEmpty()) return SlicePlanner.plan(config, method, output, randomSeed, allowCrimes);
    List<PlannedInput> inputs = new ArrayList<>();
    try {
      openInputs(config, inputs, output.isGguf() ? Layout.GGUF : Layout.HF);
      List<String> labels = inputs.stream().map(PlannedInput::label).collect(Collectors.toList());
      int baseIndex = inputs.stream().filter(PlannedInput::isBase).mapToInt(PlannedInput::index).findFirst().orElse(-1);
      method.checkInputs(labels, baseIndex);
      return planTensors(config, method, inputs, output, randomSeed, allowCrimes);
    } catch (IOException | RuntimeException e) {
      closeAll(inputs, e);
      throw e;
    }
  }

  /** Sets config.json's dtype when every output tensor has the same one; warns otherwise. */
  static void setTorchDtype(ObjectNode outputConfig, Set<DType> outputTypes, List<String> warnings) {
    if (outputTypes.size() != 1) {
      warnings.add("output tensors have mixed dtypes " + outputTypes + "; config.json torch_dtype left as it was");
      return;
    }
    String torchName = outputTypes.iterator().next().torchName().orElseThrow();
    outputConfig.put("torch_dtype", torchName);
    if (outputConfig.has("dtype")) outputConfig.put("dtype", torchName); // transformers v5 spelling
  }

  /** Closes every model opened so far after a failed plan, adding close failures to {@code failure}. */
  static void closeAll(List<PlannedInput> inputs, Throwable failure) {
    for (PlannedInput in : inputs) {
      try {
        in.weights().close();
      } catch (IOException suppressed) {
        failure.addSuppressed(suppressed);
      }
    }
  }

  /**
   * The levels above the slices', highest precedence first: the module's {@code parameters} (a {@code modules:}
   * configuration), then the top-level ones.
   */
  static List<Level> globalLevels(MergeConfig config) {
    List<Level> levels = new ArrayList<>();
    config.module().ifPresent(m -> levels.add(new Level(m.parameters(), m.parametersPath())));
    levels.add(new Level(config.parameters(), "parameters"));
    return levels;
  }

  static void checkParameterNames(MergeConfig config, MergeMethod method) {
    for (Level level : globalLevels(config)) {
      for (String name : level.settings().keySet()) {
        checkParameterName(method, name, level.yamlPath() + "." + name, false);
      }
    }
    for (InputModel m : config.models()) {
      for (String name : m.parameters().keySet()) {
        checkParameterName(method, name, m.yamlPath() + ".parameters." + name, true);
      }
    }
  }

  /**
   * Checks that {@code method} declares a parameter; where only per-model parameters take effect (a model's or a
   * slice source's own parameters), a global one is an error too, since mergekit silently ignores it there.
   */
  static void checkParameterName(MergeMethod method, String name, String yamlPath, boolean perModelOnly) {
    Optional<ParameterSpec> spec = method.parameters().stream().filter(p -> p.name().equals(name)).findFirst();
    if (spec.isEmpty()) {
      String takes = method.parameters().isEmpty() ? "no parameters"
          : "parameters " + method.parameters().stream().map(ParameterSpec::name).collect(Collectors.joining(", "));
      Set<String> names = method.parameters().stream().map(ParameterSpec::name).collect(Collectors.toSet());
      throw new ConfigException(yamlPath, "unknown parameter for " + method.name() + Suggestions.didYouMean(name,
          names) + " (" + method.name() + " takes " + takes + ")");
    }
    if (perModelOnly && spec.get().scope() == ParameterSpec.Scope.GLOBAL) {
      throw new ConfigException(yamlPath, "'" + name + "' is a global parameter of " + method.name()
          + " and has no effect per model (mergekit ignores it here); set it under the top-level parameters");
    }
  }

  private static void openInputs(MergeConfig config, List<PlannedInput> inputs, Layout layout) throws IOException {
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
      inputs.add(open(inputs.size(), m.model(), m.yamlPath(), isBase, m.parameters(), layout));
    }
    if (base.isPresent() && !baseListed) {
      // mergekit appends a base_model that models: does not list as one more input
      inputs.add(open(inputs.size(), base.get(), "base_model", true, Map.of(), layout));
    }
  }

  static PlannedInput open(int index, ModelReference ref, String yamlPath, boolean isBase,
      Map<String, ParameterSetting> parameters, Layout layout) throws IOException {
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
    ModelFormats.Opened opened;
    try {
      opened = ModelFormats.open(path, layout);
    } catch (FormatException e) {
      boolean config = e.file().getFileName() != null && e.file().getFileName().toString().equals("config.json");
      if (e.reason() == FormatException.Reason.MISSING_FILE || config) {
        throw new ConfigException(ref.yamlPath(), e.getMessage());
      }
      throw e;
    } catch (ConversionException e) {
      // GGUF metadata that cannot become a config.json (a missing or mistyped llama.* key) is bad input
      throw new ConfigException(ref.yamlPath(), e.getMessage());
    }
    return new PlannedInput(index, ref, yamlPath, isBase, parameters, opened.weights(), opened.hfConfig(),
        opened.gguf());
  }

  private static MergePlan planTensors(MergeConfig config, MergeMethod method, List<PlannedInput> inputs,
      OutputSpec output, long randomSeed, boolean allowCrimes) throws IOException {
    List<String> warnings = new ArrayList<>();
    Optional<VocabularyPlan> vocabulary = Optional.empty();
    Optional<OutputTokenizer> outputTokenizer = Optional.empty();
    if (config.tokenizer().isPresent()) {
      // re-lays the embeddings of every input out to the output vocabulary (wrapping their weights)
      Optional<TokenizerPlanning.Result> planned = TokenizerPlanning.apply(config.tokenizer().get(), inputs,
          Architecture.LLAMA, warnings);
      vocabulary = planned.map(TokenizerPlanning.Result::vocabulary);
      outputTokenizer = planned.map(TokenizerPlanning.Result::tokenizer);
    }
    PlannedInput donor = inputs.stream().filter(PlannedInput::isBase).findFirst().orElse(inputs.get(0));
    ObjectNode donorConfig = donor.hfConfig().orElseThrow(() -> new ConfigException(donor.reference().yamlPath(),
        "no config.json next to the weights of '" + donor.label() + "'; the merged model takes its config.json from"
            + " this model"));
    checkArchitectures(inputs, donor, allowCrimes, warnings);

    List<TensorInfo> reference = new ArrayList<>(donor.weights().tensors());
    int layerCount = layerCount(donor, reference);
    for (PlannedInput in : inputs) {
      if (in != donor) checkSameTensors(donor, in, layerCount);
    }
    // Tied embeddings: when some inputs have lm_head and the donor does not, the output gets one; models without
    // it contribute their embeddings (mergekit PR #464).
    boolean untied = false;
    if (donor.weights().tensor(LM_HEAD).isEmpty()) {
      for (PlannedInput in : inputs) {
        Optional<TensorInfo> head = in.weights().tensor(LM_HEAD);
        if (head.isPresent()) {
          reference.add(head.get());
          untied = true;
          break;
        }
      }
    }
    long commonRows = -1;

    List<TensorTask> tasks = new ArrayList<>();
    List<GgmlType> ggufTypes = new ArrayList<>();
    List<String> fellBack = new ArrayList<>();
    Set<DType> outputTypes = new LinkedHashSet<>();
    for (TensorInfo listed : reference) {
      TensorInfo ref = listed;
      String name = ref.name();
      List<TensorInfo> infos = new ArrayList<>();
      for (PlannedInput in : inputs) {
        Optional<TensorInfo> own = in.weights().tensor(name);
        infos.add(own.isPresent() || !name.equals(LM_HEAD) ? own.orElseThrow()
            : in.weights().tensor(EMBED_TOKENS).orElseThrow(() -> new ConfigException(in.reference().yamlPath(),
                "'" + in.label() + "' has neither " + LM_HEAD + " nor " + EMBED_TOKENS)));
      }
      if (isEmbedding(name)) {
        // rectify_embed: different vocabulary sizes merge over the rows they share (mergekit's common sub-matrix)
        long rows = infos.stream().mapToLong(t -> t.dim(0)).min().orElseThrow();
        if (rows != ref.dim(0) || infos.stream().anyMatch(t -> t.dim(0) != rows)) {
          ref = new TensorInfo(name, ref.dtype(), new long[] {rows, ref.dim(1)});
          commonRows = commonRows < 0 ? rows : Math.min(commonRows, rows);
        }
      }
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
      TensorOperation op = method.plan(new Context(method, inputTensors, inputLevels(inputs),
          globalLevels(config), name, x, randomSeed));
      DType outType = outputType(config, method, inputTensors);
      if (output.isGguf()) {
        if (Architecture.LLAMA.toGguf(name).isEmpty()) {
          throw new ConfigException(donor.reference().yamlPath(), "tensor '" + name + "' of '" + donor.label()
              + "' has no GGUF name (not a Llama-family tensor); write a Hugging Face output instead");
        }
        GgmlType stored = GgufOutput.typeFor(ref.withDtype(outType), output.ggufType(), fellBack);
        // The merge computes in its own dtype, as for a Hugging Face output, and the GGUF output converts on
        // write: a direct GGUF merge then equals the Hugging Face merge converted afterwards (norms included).
        ggufTypes.add(stored);
      }
      outputTypes.add(outType);
      List<Optional<DType>> casts = new ArrayList<>();
      for (TensorInfo info : infos) casts.add(castFor(config.dtype(), info.dtype()));
      tasks.add(new TensorTask(ref.withDtype(outType), infos, casts, layer, op));
    }

    ObjectNode outputConfig = donorConfig.deepCopy();
    if (untied) {
      outputConfig.put("tie_word_embeddings", false);
      warnings.add("'" + donor.label() + "' ties lm_head to its embeddings but other models have their own: the"
          + " output gets an lm_head, merged from each model's lm_head or, where it has none, its embeddings");
    }
    if (vocabulary.isPresent()) {
      outputConfig.put("vocab_size", vocabulary.get().paddedRows());
    } else if (commonRows >= 0) {
      outputConfig.put("vocab_size", commonRows);
      warnings.add("the models' vocabulary sizes differ: embeddings and lm_head are merged over their first "
          + commonRows + " rows, and config.json's vocab_size says " + commonRows + " (mergekit keeps the base's"
          + " value, which no longer matches the tensors)");
    }
    output.ggufType().flatMap(r -> GgufOutput.fallbackWarning(fellBack, r)).ifPresent(warnings::add);
    Optional<GgufPlan> gguf = Optional.empty();
    if (output.isGguf()) {
      gguf = Optional.of(ggufPlan(config, inputs, donor, donorConfig, tasks, ggufTypes, output, warnings));
      if (vocabulary.isPresent()) {
        TokenizerPlanning.putGgufTokenizer(gguf.get().metadata(), vocabulary.get(), Architecture.LLAMA);
      }
    } else {
      setTorchDtype(outputConfig, outputTypes, warnings);
    }
    return new MergePlan(config, method, List.copyOf(inputs), donor, layerCount, List.copyOf(tasks), outputConfig,
        output, gguf, warnings, outputTokenizer);
  }

  /**
   * The metadata of a GGUF output, from the donor: a GGUF donor's own keys (tokenizer included) with the new file
   * type; for a Hugging Face donor, its config.json and tokenizer converted as {@code amalgam convert} does. The
   * merge configuration is recorded under {@value #CONFIG_KEY}.
   */
  static GgufPlan ggufPlan(MergeConfig config, List<PlannedInput> inputs, PlannedInput donor,
      ObjectNode donorConfig, List<TensorTask> tasks, List<GgmlType> types, OutputSpec output, List<String> warnings)
      throws IOException {
    if (output.ggufType().isEmpty()) {
      for (PlannedInput in : inputs) {
        String quantized = in.gguf().map(g -> g.file().tensors().stream().map(t -> t.type()).filter(
            GgmlType::isQuantized).map(GgmlType::name).distinct().collect(Collectors.joining(", "))).orElse("");
        if (!quantized.isEmpty()) {
          warnings.add("'" + in.label() + "' is quantized (" + quantized + "); it merges dequantized and the output"
              + " is written in the merge's dtype: add --out-type q8_0 (or bf16) for a smaller file");
          break;
        }
      }
    }
    GgmlType fileType = output.ggufType().orElseGet(() -> {
      for (int i = 0; i < tasks.size(); i++) if (tasks.get(i).output().rank() >= 2) return types.get(i);
      return GgmlType.F32;
    });
    GgufMetadata metadata;
    Optional<float[]> rope;
    if (donor.gguf().isPresent()) {
      GgufWeights g = donor.gguf().get();
      metadata = new GgufMetadata(g.metadata());
      LlamaMetadata.putFileType(metadata, fileType, types.stream().anyMatch(GgmlType::isQuantized), true);
      if (donorConfig.path("num_hidden_layers").isIntegralNumber()) {
        // slices change the layer count; donorConfig is the output's config.json
        metadata.put(GgufKeys.blockCount(LlamaMetadata.ARCHITECTURE),
            GgufValue.uint32(donorConfig.get("num_hidden_layers").asLong()));
      }
      rope = g.ropeFreqs();
    } else {
      Path dir = donor.weights().path();
      if (!Files.isDirectory(dir)) dir = dir.toAbsolutePath().getParent();
      String name = dir.getFileName() != null ? dir.getFileName().toString() : "merged";
      try {
        metadata = ModelConverter.hfMetadata(donorConfig, dir.resolve("config.json"), dir, name, fileType, warnings);
        float[] r = LlamaMetadata.ropeFreqs(donorConfig, dir.resolve("config.json"));
        rope = r.length > 0 ? Optional.of(r) : Optional.empty();
      } catch (ConversionException e) {
        throw new ConfigException(donor.reference().yamlPath(), "cannot write a GGUF output from '" + donor.label()
            + "': " + e.getMessage());
      }
    }
    config.chatTemplate().ifPresent(t -> metadata.put(GgufKeys.CHAT_TEMPLATE, GgufValue.string(t)));
    metadata.put(CONFIG_KEY, GgufValue.string(config.source()));
    return new GgufPlan(metadata, types, rope);
  }

  /** The GGUF key a merged file records its merge configuration under (llama.cpp ignores unknown keys). */
  public static final String CONFIG_KEY = GgufKeys.MERGE_CONFIG;

  /** Input casts follow mergekit's {@code dtype}: rounding on load. Widening to f32 is exact, so it is skipped. */
  static Optional<DType> castFor(Optional<DType> configured, DType stored) {
    if (configured.isEmpty() || configured.get() == stored || configured.get() == DType.F32) return Optional.empty();
    return configured;
  }

  static DType outputType(MergeConfig config, MergeMethod method, List<InputTensor> inputs) {
    if (config.outDtype().isPresent()) return config.outDtype().get();
    if (config.dtype().isPresent()) return config.dtype().get();
    if (method.outputFollowsBase()) {
      for (InputTensor t : inputs) if (t.isBase()) return t.info().dtype();
    }
    Set<DType> types = inputs.stream().map(t -> t.info().dtype()).collect(Collectors.toSet());
    return types.size() == 1 ? types.iterator().next() : DType.F32;
  }

  static int layerCount(PlannedInput donor, List<TensorInfo> tensors) {
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

  static Optional<Integer> configuredLayers(PlannedInput input) {
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
    theirs.remove(LM_HEAD); // optional: tied models have none, and the planner pairs it with the embeddings
    for (TensorInfo mine : donor.weights().tensors()) {
      if (mine.name().equals(LM_HEAD)) continue;
      TensorInfo other = theirs.remove(mine.name());
      if (other == null) {
        throw new ConfigException(where, "tensor '" + mine.name() + "' is missing from '" + in.label()
            + "' (present in '" + donor.label() + "')");
      }
      boolean vocabOnly = isEmbedding(mine.name()) && mine.rank() == 2 && other.rank() == 2
          && mine.dim(1) == other.dim(1);
      if (!other.sameShape(mine) && !vocabOnly) {
        throw new ConfigException(where, "tensor '" + mine.name() + "' has shape " + other.shapeString() + " in '"
            + in.label() + "' but " + mine.shapeString() + " in '" + donor.label() + "'");
      }
    }
    Optional<TensorInfo> head = in.weights().tensor(LM_HEAD).or(() -> donor.weights().tensor(LM_HEAD));
    if (head.isPresent() && head.get().rank() == 2) {
      long width = in.weights().tensor(EMBED_TOKENS).map(t -> t.dim(1)).orElse(head.get().dim(1));
      if (head.get().dim(1) != width) {
        throw new ConfigException(where, LM_HEAD + " of width " + head.get().dim(1) + " cannot pair with embeddings"
            + " of width " + width);
      }
    }
    if (!theirs.isEmpty()) {
      String extra = theirs.keySet().stream().sorted().findFirst().orElseThrow();
      throw new ConfigException(where, "tensor '" + extra + "' of '" + in.label() + "' is not in '" + donor.label()
          + "'" + (theirs.size() > 1 ? " (and " + (theirs.size() - 1) + " more)" : ""));
    }
  }

  /**
   * mergekit refuses to merge models of different architectures unless told to (--allow-crimes); the architecture
   * is config.json's {@code architectures[0]}, else its {@code model_type}.
   */
  static void checkArchitectures(List<PlannedInput> inputs, PlannedInput donor, boolean allowCrimes,
      List<String> warnings) {
    Optional<String> mine = architecture(donor);
    if (mine.isEmpty()) return;
    for (PlannedInput in : inputs) {
      Optional<String> theirs = architecture(in);
      if (in == donor || theirs.isEmpty() || theirs.equals(mine)) continue;
      String what = "'" + in.label() + "' is a " + theirs.get() + " but '" + donor.label() + "' is a " + mine.get();
      if (!allowCrimes) {
        throw new ConfigException(in.reference().yamlPath(), what + "; pass --allow-crimes to merge different"
            + " architectures (the output keeps " + donor.label() + "'s config.json)");
      }
      warnings.add(what + " (--allow-crimes: the output keeps the config.json of '" + donor.label() + "')");
    }
  }

  private static Optional<String> architecture(PlannedInput in) {
    if (in.hfConfig().isEmpty()) return Optional.empty();
    JsonNode c = in.hfConfig().get();
    JsonNode archs = c.get("architectures");
    if (archs != null && archs.isArray() && archs.size() > 0 && archs.get(0).isTextual()) {
      return Optional.of(archs.get(0).asText());
    }
    return c.path("model_type").isTextual() ? Optional.of(c.get("model_type").asText()) : Optional.empty();
  }

  static final String LM_HEAD = Architecture.LLAMA.hfWeight(Architecture.Role.LM_HEAD);
  static final String EMBED_TOKENS = Architecture.LLAMA.hfWeight(Architecture.Role.TOKEN_EMBEDDINGS);

  /** Whether a tensor has one row per vocabulary entry (mergekit's is_embed). */
  static boolean isEmbedding(String name) {
    return Architecture.LLAMA.hasVocabularyRows(name);
  }


  /** Each input's own parameter level, in merge order. */
  private static List<Level> inputLevels(List<PlannedInput> inputs) {
    List<Level> levels = new ArrayList<>();
    for (PlannedInput in : inputs) {
      String path = in.yamlPath().equals("base_model") ? "base_model" : in.yamlPath() + ".parameters";
      levels.add(new Level(in.parameters(), path));
    }
    return levels;
  }

  /** The layer a tensor belongs to: its first all-digit dot-separated component ("model.layers.12.mlp" -> 12). */
  static Optional<Integer> layerIndex(String name) {
    return Architecture.layerIndex(name);
  }

  /** Parameter lookups for one tensor, with mergekit's precedence and clear errors. */
  /**
   * One parameter-lookup level: the settings given at a YAML path ("parameters", "slices[0].parameters",
   * "models[1].parameters").
   */
  record Level(Map<String, ParameterSetting> settings, String yamlPath) {}

  /** Parameter lookups for one tensor, with mergekit's precedence and clear errors. */
  static final class Context implements TensorContext {
    private final MergeMethod method;
    private final List<InputTensor> inputs;
    private final List<Level> inputLevels;
    private final List<Level> globalLevels;
    private final String tensorName;
    private final double layerFraction;
    private final long randomSeed;

    /**
     * @param inputLevels per input, its own parameters (models[i] or a slice source); for an unlisted base_model
     *     an empty level at "base_model"
     * @param globalLevels the shared levels, most specific first (a slice's parameters, then the top level's)
     */
    Context(MergeMethod method, List<InputTensor> inputs, List<Level> inputLevels, List<Level> globalLevels,
        String tensorName, double layerFraction, long randomSeed) {
      this.method = method;
      this.inputs = inputs;
      this.inputLevels = inputLevels;
      this.globalLevels = globalLevels;
      this.tensorName = tensorName;
      this.layerFraction = layerFraction;
      this.randomSeed = randomSeed;
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
      return method.parameters().stream().filter(p -> p.name().equals(name)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException(method.name() + " declares no parameter " + name));
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
      throw new ConfigException(path, given == null ? "required by " + method.name() + " (" + spec.description() + ")"
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
      int position = inputs.indexOf(input);
      if (position < 0) throw new IllegalArgumentException(input + " is not an input of " + tensorName);
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
        throw new ConfigException("base_model", method.name() + " needs a " + parameter + " for every input, and"
            + " base_model '" + input.label() + "' is not listed under models; list it there with its " + parameter);
      }
      String path = own.yamlPath() + "." + parameter;
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
