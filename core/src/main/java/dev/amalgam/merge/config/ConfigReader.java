package dev.amalgam.merge.config;

import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Reads mergekit's YAML merge configuration into a {@link MergeConfig}. Errors name the YAML path
 * and line, e.g. {@code models[1].parameters.weight: expected a number, a list of numbers or a list
 * of {filter, value} (line 9)}.
 *
 * <p>Scalars follow the YAML 1.2 core schema, which reads what mergekit's configs contain ({@code
 * 1e-3} is a number, {@code true}/{@code True} booleans); PyYAML's 1.1 extras ({@code yes}/{@code
 * no}) are accepted where a boolean is expected.
 */
public final class ConfigReader {
  /** Keys this version understands at the top level. */
  private static final Set<String> TOP_LEVEL_KEYS =
      Set.of(
          "merge_method",
          "base_model",
          "models",
          "parameters",
          "dtype",
          "out_dtype",
          "tokenizer_source",
          "slices",
          "modules",
          "tokenizer",
          "chat_template",
          "name");

  /** mergekit keys that a later version of Amalgam will support; named so the error can say so. */
  /** The chat templates chat_template can name (mergekit's built-ins). */
  public static final List<String> CHAT_TEMPLATES =
      List.of("alpaca", "chatml", "exaone", "llama3", "mistral");

  private final Path workingDirectory;

  private ConfigReader(Path workingDirectory) {
    this.workingDirectory = workingDirectory;
  }

  /**
   * Reads a configuration file; relative model paths resolve against {@code workingDirectory}, as
   * in mergekit.
   *
   * @throws ConfigException if the file is not a valid configuration
   * @throws IOException if it cannot be read
   */
  public static MergeConfig read(Path file, Path workingDirectory) throws IOException {
    String text;
    try {
      // An oversized file is refused before it is read.
      long size = Files.size(file);
      if (size > YamlLimits.MAX_DOCUMENT) {
        throw new ConfigException(
            "",
            "configuration file "
                + file
                + " has "
                + size
                + " bytes; at most "
                + YamlLimits.MAX_DOCUMENT
                + " are accepted");
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException("", "configuration file " + file + " does not exist");
    } catch (java.nio.charset.MalformedInputException e) {
      throw new ConfigException("", "configuration file " + file + " is not UTF-8 text");
    }
    return parse(text, file.toString(), workingDirectory);
  }

  /** Parses configuration text; {@code sourceName} labels YAML syntax errors. */
  public static MergeConfig parse(String yaml, String sourceName, Path workingDirectory) {
    Node root;
    try {
      LoadSettings settings =
          LoadSettings.builder()
              .setLabel(sourceName)
              .setSchema(new CoreSchema())
              .setAllowDuplicateKeys(false)
              .setCodePointLimit(YamlLimits.MAX_DOCUMENT)
              .build();
      YamlLimits.check(yaml, settings);
      root = new Compose(settings).composeString(yaml).orElse(null);
    } catch (MarkedYamlEngineException e) {
      String where =
          e.getProblemMark()
              .map(m -> " at line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1))
              .orElse("");
      throw new ConfigException("", "invalid YAML" + where + ": " + e.getProblem());
    } catch (YamlEngineException e) {
      throw new ConfigException("", "invalid YAML: " + e.getMessage());
    }
    if (root == null) throw new ConfigException("", "the configuration is empty");
    return new ConfigReader(workingDirectory).readRoot(root, yaml);
  }

  private MergeConfig readRoot(Node root, String source) {
    Map<String, Node> top = mapping(root, "");
    for (String key : top.keySet()) {
      if (!TOP_LEVEL_KEYS.contains(key)) {
        throw error(
            key, keyNode(root, key), "unknown key" + Suggestions.didYouMean(key, TOP_LEVEL_KEYS));
      }
    }
    Node method = top.get("merge_method");
    if (method == null)
      throw new ConfigException("merge_method", "required (for example linear or slerp)");
    String mergeMethod = string(method, "merge_method");

    Optional<ModelReference> base =
        top.containsKey("base_model")
            ? Optional.of(modelReference(top.get("base_model"), "base_model"))
            : Optional.empty();

    int forms =
        (top.containsKey("models") ? 1 : 0)
            + (top.containsKey("slices") ? 1 : 0)
            + (top.containsKey("modules") ? 1 : 0);
    if (forms > 1) {
      String second = top.containsKey("modules") ? "modules" : "slices";
      throw error(second, keyNode(root, second), "give exactly one of models, slices or modules");
    }
    if (forms == 0) {
      throw new ConfigException(
          "models", "required: the list of models to merge (or slices: for layer ranges)");
    }
    Node mergeInputs = root;
    String prefix = "";
    Map<String, Node> inputsBlock = top;
    Optional<MergeConfig.ModuleScope> module = Optional.empty();
    if (top.containsKey("modules")) {
      Node modulesNode = top.get("modules");
      Map<String, Node> modules = mapping(modulesNode, "modules");
      if (modules.isEmpty())
        throw error("modules", modulesNode, "must define the module 'default'");
      for (String name : modules.keySet()) {
        if (!name.equals(DEFAULT_MODULE)) {
          throw error(
              "modules." + name,
              keyNode(modulesNode, name),
              "unknown module '"
                  + name
                  + "': Llama-family models have one module, 'default' (multi-module architectures such as "
                  + "vision-language models are not supported)");
        }
      }
      prefix = "modules." + DEFAULT_MODULE + ".";
      mergeInputs = modules.get(DEFAULT_MODULE);
      inputsBlock = mapping(mergeInputs, "modules." + DEFAULT_MODULE);
      for (String key : inputsBlock.keySet()) {
        if (!MODULE_KEYS.contains(key)) {
          throw error(
              prefix + key,
              keyNode(mergeInputs, key),
              "unknown key" + Suggestions.didYouMean(key, MODULE_KEYS));
        }
      }
      if (inputsBlock.containsKey("models") == inputsBlock.containsKey("slices")) {
        throw error(
            "modules." + DEFAULT_MODULE, mergeInputs, "give exactly one of models or slices");
      }
      Map<String, ParameterSetting> moduleParameters =
          inputsBlock.containsKey("parameters")
              ? parameters(inputsBlock.get("parameters"), prefix + "parameters")
              : Map.of();
      module = Optional.of(new MergeConfig.ModuleScope(DEFAULT_MODULE, moduleParameters));
    }
    Node modelsNode = inputsBlock.get("models");
    Node slicesNode = inputsBlock.get("slices");
    List<InputModel> models = new ArrayList<>();
    List<OutputSlice> slices = new ArrayList<>();
    if (modelsNode != null) {
      List<Node> items = sequence(modelsNode, prefix + "models");
      if (items.isEmpty())
        throw error(prefix + "models", modelsNode, "must list at least one model");
      for (int i = 0; i < items.size(); i++)
        models.add(inputModel(items.get(i), prefix + "models[" + i + "]"));
    } else {
      List<Node> items = sequence(slicesNode, prefix + "slices");
      if (items.isEmpty())
        throw error(prefix + "slices", slicesNode, "must list at least one slice");
      for (int i = 0; i < items.size(); i++)
        slices.add(outputSlice(items.get(i), prefix + "slices[" + i + "]"));
    }

    Map<String, ParameterSetting> parameters =
        top.containsKey("parameters") ? parameters(top.get("parameters"), "parameters") : Map.of();
    Optional<DType> dtype =
        top.containsKey("dtype") ? Optional.of(dtype(top.get("dtype"), "dtype")) : Optional.empty();
    Optional<DType> outDtype =
        top.containsKey("out_dtype")
            ? Optional.of(dtype(top.get("out_dtype"), "out_dtype"))
            : Optional.empty();
    Optional<String> tokenizerSource = Optional.empty();
    Optional<TokenizerSpec> tokenizer = Optional.empty();
    if (top.containsKey("tokenizer_source") && top.containsKey("tokenizer")) {
      throw error(
          "tokenizer",
          keyNode(root, "tokenizer"),
          "give either tokenizer_source or tokenizer, not both");
    }
    if (top.containsKey("tokenizer_source")) {
      Node node = top.get("tokenizer_source");
      tokenizerSource = Optional.of(string(node, "tokenizer_source"));
      tokenizer =
          Optional.of(
              tokenizerSource(node, "tokenizer_source", Map.of(), java.util.OptionalInt.empty()));
    } else if (top.containsKey("tokenizer")) {
      tokenizer = Optional.of(tokenizerBlock(top.get("tokenizer")));
    }
    Optional<String> chatTemplate = Optional.empty();
    if (top.containsKey("chat_template")) chatTemplate = chatTemplate(top.get("chat_template"));
    return new MergeConfig(
        mergeMethod,
        base,
        models,
        slices,
        parameters,
        dtype,
        outDtype,
        tokenizerSource,
        tokenizer,
        chatTemplate,
        source,
        module);
  }

  /**
   * A built-in template's text, a literal Jinja template, or empty for "auto" (keep the donor's).
   */
  private static Optional<String> chatTemplate(Node node) {
    String value = string(node, "chat_template");
    if (value.equals("auto")) return Optional.empty();
    if (CHAT_TEMPLATES.contains(value)) {
      try (InputStream in =
          ConfigReader.class.getResourceAsStream(
              "/dev/amalgam/merge/templates/" + value + ".jinja")) {
        if (in == null)
          throw new IllegalStateException("built-in chat template " + value + " is missing");
        return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).strip());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    if (value.length() >= 20 && value.contains("{")) return Optional.of(value);
    throw error(
        "chat_template",
        node,
        "expected auto, a built-in template ("
            + String.join(", ", CHAT_TEMPLATES)
            + ") or a Jinja template (at least 20 characters with '{')"
            + Suggestions.didYouMean(value, Set.copyOf(CHAT_TEMPLATES)));
  }

  /**
   * mergekit's name for the only module of a single-module architecture (every Llama-family model).
   */
  static final String DEFAULT_MODULE = "default";

  private static final Set<String> MODULE_KEYS = Set.of("models", "slices", "parameters");

  private static final Set<String> TOKENIZER_KEYS =
      Set.of("source", "tokens", "pad_to_multiple_of");
  private static final Set<String> TOKEN_KEYS = Set.of("source", "force");
  private static final Set<String> TOKEN_SOURCE_KEYS = Set.of("kind", "model", "token", "token_id");

  /**
   * {@code tokenizer: {source, tokens, pad_to_multiple_of}}; the source defaults to union, as in
   * mergekit.
   */
  private TokenizerSpec tokenizerBlock(Node node) {
    Map<String, Node> m = mapping(node, "tokenizer");
    for (String key : m.keySet()) {
      if (!TOKENIZER_KEYS.contains(key)) {
        throw error(
            "tokenizer." + key,
            keyNode(node, key),
            "unknown key" + Suggestions.didYouMean(key, TOKENIZER_KEYS));
      }
    }
    java.util.OptionalInt pad = java.util.OptionalInt.empty();
    if (m.containsKey("pad_to_multiple_of")) {
      Node p = m.get("pad_to_multiple_of");
      Object v =
          p instanceof ScalarNode
              ? scalarValue((ScalarNode) p, "tokenizer.pad_to_multiple_of")
              : null;
      if (!(v instanceof Double d) || d != Math.rint(d) || d < 1 || d > 1 << 20) {
        throw error(
            "tokenizer.pad_to_multiple_of",
            p,
            "expected a positive integer (at most " + (1 << 20) + ")");
      }
      pad = java.util.OptionalInt.of((int) (double) (Double) v);
    }
    Map<String, TokenizerSpec.TokenRow> tokens = new LinkedHashMap<>();
    if (m.containsKey("tokens")) {
      Node t = m.get("tokens");
      if (!(t instanceof ScalarNode && ((ScalarNode) t).getTag().equals(Tag.NULL))) {
        mapping(t, "tokenizer.tokens")
            .forEach(
                (token, value) -> tokens.put(token, tokenRow(value, "tokenizer.tokens." + token)));
      }
    }
    if (!m.containsKey("source")) {
      return new TokenizerSpec(
          TokenizerSpec.Source.UNION, Optional.empty(), tokens, pad, "tokenizer");
    }
    return tokenizerSource(m.get("source"), "tokenizer.source", tokens, pad);
  }

  private TokenizerSpec tokenizerSource(
      Node node,
      String path,
      Map<String, TokenizerSpec.TokenRow> tokens,
      java.util.OptionalInt pad) {
    String yamlPath = path.equals("tokenizer_source") ? path : "tokenizer";
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      if (s.getValue().equals("base")) {
        return new TokenizerSpec(
            TokenizerSpec.Source.BASE, Optional.empty(), tokens, pad, yamlPath);
      }
      if (s.getValue().equals("union")) {
        return new TokenizerSpec(
            TokenizerSpec.Source.UNION, Optional.empty(), tokens, pad, yamlPath);
      }
    }
    if (node instanceof SequenceNode)
      throw error(path, node, "expected base, union or a model reference");
    return new TokenizerSpec(
        TokenizerSpec.Source.MODEL, Optional.of(modelReference(node, path)), tokens, pad, yamlPath);
  }

  /**
   * One {@code tokens:} entry: {@code {source: MODEL | {kind: model_token, ...} | {kind: zero},
   * force}}.
   */
  private TokenizerSpec.TokenRow tokenRow(Node node, String path) {
    Map<String, Node> m = mapping(node, path);
    for (String key : m.keySet()) {
      if (!TOKEN_KEYS.contains(key)) {
        throw error(
            path + "." + key,
            keyNode(node, key),
            "unknown key" + Suggestions.didYouMean(key, TOKEN_KEYS));
      }
    }
    boolean force = false;
    if (m.containsKey("force")) {
      Node f = m.get("force");
      Object v = f instanceof ScalarNode ? scalarValue((ScalarNode) f, path + ".force") : null;
      if (v instanceof String str
          && Set.of("yes", "no", "on", "off").contains(str.toLowerCase(Locale.ROOT))) {
        v = Set.of("yes", "on").contains(str.toLowerCase(Locale.ROOT));
      }
      if (!(v instanceof Boolean)) throw error(path + ".force", f, "expected true or false");
      force = (Boolean) v;
    }
    Node source = m.get("source");
    if (source == null)
      throw error(
          path + ".source",
          node,
          "required: a model, {kind: model_token, model, token" + " | token_id} or {kind: zero}");
    String sp = path + ".source";
    if (!(source instanceof MappingNode) || !mapping(source, sp).containsKey("kind")) {
      return new TokenizerSpec.TokenRow(
          TokenizerSpec.Kind.MODEL_TOKEN,
          Optional.of(modelReference(source, sp)),
          Optional.empty(),
          java.util.OptionalInt.empty(),
          force,
          path);
    }
    Map<String, Node> s = mapping(source, sp);
    for (String key : s.keySet()) {
      if (!TOKEN_SOURCE_KEYS.contains(key)) {
        throw error(
            sp + "." + key,
            keyNode(source, key),
            "unknown key" + Suggestions.didYouMean(key, TOKEN_SOURCE_KEYS));
      }
    }
    String kind = string(s.get("kind"), sp + ".kind");
    switch (kind) {
      case "zero":
        {
          for (String key : s.keySet()) {
            if (!key.equals("kind"))
              throw error(sp + "." + key, keyNode(source, key), "kind zero takes no " + key);
          }
          return new TokenizerSpec.TokenRow(
              TokenizerSpec.Kind.ZERO,
              Optional.empty(),
              Optional.empty(),
              java.util.OptionalInt.empty(),
              force,
              path);
        }
      case "model_token":
        {
          if (!s.containsKey("model"))
            throw error(sp + ".model", source, "required for kind model_token");
          ModelReference model = modelReference(s.get("model"), sp + ".model");
          if (s.containsKey("token") && s.containsKey("token_id")) {
            throw error(
                sp + ".token_id", keyNode(source, "token_id"), "give token or token_id, not both");
          }
          Optional<String> token =
              s.containsKey("token")
                  ? Optional.of(string(s.get("token"), sp + ".token"))
                  : Optional.empty();
          java.util.OptionalInt id = java.util.OptionalInt.empty();
          if (s.containsKey("token_id")) {
            Node n = s.get("token_id");
            Object v =
                n instanceof ScalarNode ? scalarValue((ScalarNode) n, sp + ".token_id") : null;
            if (!(v instanceof Double d)
                || d != Math.rint(d)
                || d < 0
                || d > Integer.MAX_VALUE - 8) {
              throw error(sp + ".token_id", n, "expected a token id (a non-negative integer)");
            }
            id = java.util.OptionalInt.of((int) (double) (Double) v);
          }
          return new TokenizerSpec.TokenRow(
              TokenizerSpec.Kind.MODEL_TOKEN, Optional.of(model), token, id, force, path);
        }
      default:
        throw error(
            sp + ".kind",
            s.get("kind"),
            "expected model_token or zero, got '"
                + kind
                + "'"
                + Suggestions.didYouMean(kind, Set.of("model_token", "zero")));
    }
  }

  private static final Set<String> SLICE_KEYS =
      Set.of("sources", "base_model", "parameters", "residual_weight");
  private static final Set<String> SOURCE_KEYS = Set.of("model", "layer_range", "parameters");

  private OutputSlice outputSlice(Node node, String path) {
    Map<String, Node> m = mapping(node, path);
    for (String key : m.keySet()) {
      if (!SLICE_KEYS.contains(key)) {
        throw error(
            path + "." + key,
            keyNode(node, key),
            "unknown key" + Suggestions.didYouMean(key, SLICE_KEYS));
      }
    }
    Node sourcesNode = m.get("sources");
    if (sourcesNode == null)
      throw error(path + ".sources", node, "required: the models and layer ranges to take");
    List<Node> items = sequence(sourcesNode, path + ".sources");
    if (items.isEmpty())
      throw error(path + ".sources", sourcesNode, "must list at least one source");
    List<SliceSource> sources = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      SliceSource s = sliceSource(items.get(i), path + ".sources[" + i + "]");
      if (!sources.isEmpty() && s.layers() != sources.get(0).layers()) {
        throw error(
            s.yamlPath() + ".layer_range",
            items.get(i),
            "takes "
                + s.layers()
                + " layers but "
                + sources.get(0).yamlPath()
                + " takes "
                + sources.get(0).layers()
                + "; every source of a slice must take"
                + " the same number of layers");
      }
      sources.add(s);
    }
    Optional<ModelReference> base =
        m.containsKey("base_model")
            ? Optional.of(modelReference(m.get("base_model"), path + ".base_model"))
            : Optional.empty();
    Map<String, ParameterSetting> params =
        m.containsKey("parameters")
            ? parameters(m.get("parameters"), path + ".parameters")
            : Map.of();
    // residual_weight is parsed by mergekit but never used; accepted here for the same configs.
    return new OutputSlice(sources, base, params, path);
  }

  private SliceSource sliceSource(Node node, String path) {
    Map<String, Node> m = mapping(node, path);
    for (String key : m.keySet()) {
      if (!SOURCE_KEYS.contains(key)) {
        throw error(
            path + "." + key,
            keyNode(node, key),
            "unknown key" + Suggestions.didYouMean(key, SOURCE_KEYS));
      }
    }
    Node model = m.get("model");
    if (model == null) throw error(path + ".model", node, "required");
    Node range = m.get("layer_range");
    if (range == null)
      throw error(path + ".layer_range", node, "required: [start, end), e.g. [0, 24]");
    List<Node> bounds = sequence(range, path + ".layer_range");
    if (bounds.size() != 2) throw error(path + ".layer_range", range, "expected [start, end]");
    int[] v = new int[2];
    for (int i = 0; i < 2; i++) {
      Node b = bounds.get(i);
      Object value =
          b instanceof ScalarNode
              ? scalarValue((ScalarNode) b, path + ".layer_range[" + i + "]")
              : null;
      if (!(value instanceof Double d) || d != Math.rint(d) || d < 0 || d > 1_000_000) {
        throw error(
            path + ".layer_range[" + i + "]",
            b,
            "expected a layer number (a non-negative integer)");
      }
      v[i] = (int) (double) (Double) value;
    }
    if (v[1] < v[0])
      throw error(path + ".layer_range", range, "end " + v[1] + " is before start " + v[0]);
    Map<String, ParameterSetting> params =
        m.containsKey("parameters")
            ? parameters(m.get("parameters"), path + ".parameters")
            : Map.of();
    return new SliceSource(modelReference(model, path + ".model"), v[0], v[1], params, path);
  }

  private InputModel inputModel(Node node, String path) {
    Map<String, Node> entry;
    if (node instanceof ScalarNode) {
      // mergekit also accepts a bare model reference as a list item
      return new InputModel(modelReference(node, path + ".model"), Map.of(), path);
    }
    entry = mapping(node, path);
    for (String key : entry.keySet()) {
      if (!key.equals("model") && !key.equals("parameters")) {
        throw error(
            path + "." + key,
            keyNode(node, key),
            "unknown key" + Suggestions.didYouMean(key, Set.of("model", "parameters")));
      }
    }
    Node model = entry.get("model");
    if (model == null) throw error(path + ".model", node, "required");
    Map<String, ParameterSetting> params =
        entry.containsKey("parameters")
            ? parameters(entry.get("parameters"), path + ".parameters")
            : Map.of();
    return new InputModel(modelReference(model, path + ".model"), params, path);
  }

  private ModelReference modelReference(Node node, String path) {
    String spec;
    if (node instanceof MappingNode) {
      // {model: {path: ..., revision: ...}, lora: ...}
      Map<String, Node> m = mapping(node, path);
      if (m.containsKey("lora"))
        throw error(path + ".lora", m.get("lora"), "LoRA adapters are not supported yet");
      Node inner = m.get("model");
      if (inner == null) throw error(path, node, "expected a path or {model: {path: ...}}");
      Map<String, Node> im = mapping(inner, path + ".model");
      if (im.containsKey("revision")) {
        throw error(
            path + ".model.revision",
            im.get("revision"),
            "revisions need a download; give a local path");
      }
      Node p = im.get("path");
      if (p == null) throw error(path + ".model.path", inner, "required");
      spec = string(p, path + ".model.path");
    } else {
      spec = string(node, path);
    }
    if (spec.isBlank()) throw error(path, node, "empty model reference");
    Path resolved;
    try {
      resolved = workingDirectory.resolve(spec);
    } catch (java.nio.file.InvalidPathException e) {
      // a NUL or another character the file system cannot hold
      throw error(path, node, "'" + printable(spec) + "' is not a valid path: " + e.getReason());
    }
    return new ModelReference(spec, resolved, path);
  }

  private Map<String, ParameterSetting> parameters(Node node, String path) {
    if (node instanceof ScalarNode && ((ScalarNode) node).getTag().equals(Tag.NULL))
      return Map.of();
    Map<String, Node> m = mapping(node, path);
    Map<String, ParameterSetting> out = new LinkedHashMap<>();
    m.forEach((name, value) -> out.put(name, setting(value, path + "." + name)));
    return out;
  }

  private ParameterSetting setting(Node node, String path) {
    if (node instanceof ScalarNode)
      return new ParameterSetting.Constant(scalarValue((ScalarNode) node, path), path);
    if (node instanceof MappingNode) {
      // a single {filter, value} is a one-rule conditional
      return new ParameterSetting.Conditional(List.of(rule(node, path)), path);
    }
    List<Node> items = sequence(node, path);
    if (items.isEmpty()) throw error(path, node, "an empty list is not a parameter value");
    if (items.stream().allMatch(n -> n instanceof MappingNode)) {
      List<ParameterSetting.Rule> rules = new ArrayList<>();
      for (int i = 0; i < items.size(); i++) rules.add(rule(items.get(i), path + "[" + i + "]"));
      return new ParameterSetting.Conditional(rules, path);
    }
    List<Object> values = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Node item = items.get(i);
      if (!(item instanceof ScalarNode)) {
        throw error(
            path + "[" + i + "]",
            item,
            "a gradient holds plain values; a list of rules needs {filter, value} in every entry");
      }
      values.add(scalarValue((ScalarNode) item, path + "[" + i + "]"));
    }
    return new ParameterSetting.Gradient(values, path);
  }

  private ParameterSetting.Rule rule(Node node, String path) {
    Map<String, Node> m = mapping(node, path);
    for (String key : m.keySet()) {
      if (!key.equals("filter") && !key.equals("value")) {
        throw error(
            path + "." + key,
            keyNode(node, key),
            "unknown key" + Suggestions.didYouMean(key, Set.of("filter", "value")));
      }
    }
    Node valueNode = m.get("value");
    if (valueNode == null) throw error(path + ".value", node, "required");
    String filter = null;
    if (m.containsKey("filter")) {
      Node f = m.get("filter");
      if (!(f instanceof ScalarNode && ((ScalarNode) f).getTag().equals(Tag.NULL)))
        filter = string(f, path + ".filter");
    }
    ParameterSetting value = setting(valueNode, path + ".value");
    if (value instanceof ParameterSetting.Conditional) {
      throw error(
          path + ".value",
          valueNode,
          "a rule's value must be a value or a gradient, not more rules");
    }
    return new ParameterSetting.Rule(filter, value);
  }

  private DType dtype(Node node, String path) {
    String name = string(node, path);
    DType t = DType.fromTorchName(name).orElse(null);
    if (t == null || !t.isMergeable()) {
      throw error(
          path,
          node,
          "'" + name + "' is not a dtype Amalgam merges; use bfloat16, float16 or float32");
    }
    return t;
  }

  // --- YAML plumbing ---

  private static Map<String, Node> mapping(Node node, String path) {
    if (!(node instanceof MappingNode))
      throw error(path, node, "expected a mapping (key: value pairs)");
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : ((MappingNode) node).getValue()) {
      Node keyNode = t.getKeyNode();
      if (!(keyNode instanceof ScalarNode))
        throw error(path, keyNode, "keys must be plain strings");
      String key = ((ScalarNode) keyNode).getValue();
      String keyPath = path.isEmpty() ? key : path + "." + key;
      if (out.put(key, t.getValueNode()) != null) throw error(keyPath, keyNode, "duplicate key");
    }
    return out;
  }

  /** The key node of {@code key} in a mapping, so errors about a key point at its own line. */
  private static Node keyNode(Node mapping, String key) {
    for (NodeTuple t : ((MappingNode) mapping).getValue()) {
      if (t.getKeyNode() instanceof ScalarNode
          && ((ScalarNode) t.getKeyNode()).getValue().equals(key)) {
        return t.getKeyNode();
      }
    }
    return mapping;
  }

  private static List<Node> sequence(Node node, String path) {
    if (!(node instanceof SequenceNode)) throw error(path, node, "expected a list");
    return ((SequenceNode) node).getValue();
  }

  private static String string(Node node, String path) {
    if (!(node instanceof ScalarNode)) throw error(path, node, "expected a single value");
    ScalarNode s = (ScalarNode) node;
    if (s.getTag().equals(Tag.NULL)) throw error(path, node, "must not be empty");
    return s.getValue();
  }

  /** Converts a scalar by its core-schema tag: Double for every number, Boolean, or String. */
  private static Object scalarValue(ScalarNode node, String path) {
    Tag tag = node.getTag();
    String v = node.getValue();
    if (tag.equals(Tag.NULL)) throw error(path, node, "must not be empty");
    if (tag.equals(Tag.BOOL)) return Boolean.parseBoolean(v.toLowerCase(Locale.ROOT));
    if (tag.equals(Tag.INT)) {
      String digits = v.startsWith("+") ? v.substring(1) : v;
      if (digits.startsWith("0x")) return new BigInteger(digits.substring(2), 16).doubleValue();
      if (digits.startsWith("0o")) return new BigInteger(digits.substring(2), 8).doubleValue();
      return new BigInteger(digits).doubleValue();
    }
    if (tag.equals(Tag.FLOAT)) {
      String f = v.toLowerCase(Locale.ROOT);
      if (f.endsWith(".inf"))
        return f.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
      if (f.equals(".nan")) return Double.NaN;
      return Double.parseDouble(v);
    }
    return v;
  }

  static ConfigException error(String path, Node node, String message) {
    String line =
        node == null
            ? ""
            : node.getStartMark().map(m -> " (line " + (m.getLine() + 1) + ")").orElse("");
    return new ConfigException(path, message + line);
  }

  /** The text with control characters (a NUL, say) written as \\uXXXX, for messages. */
  private static String printable(String text) {
    StringBuilder b = new StringBuilder(text.length());
    text.codePoints()
        .forEach(
            c -> {
              if (Character.isISOControl(c)) b.append(String.format("\\u%04x", c));
              else b.appendCodePoint(c);
            });
    return b.toString();
  }
}
