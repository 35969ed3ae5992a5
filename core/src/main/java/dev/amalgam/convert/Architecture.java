package dev.amalgam.convert;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tensor roles of a model architecture, as data: which tensor holds the token embeddings, the
 * lm_head and the final norm, which tensors every layer repeats, which come before and after the
 * layers, which have one row per vocabulary entry, which llama.cpp stores with Q/K-permuted rows,
 * and every tensor's name in Hugging Face and GGUF spelling (llama.cpp's {@code
 * convert_hf_to_gguf.py} tensor map). The merge planner, the tokenizer re-layout and the converters
 * read this table; another architecture (Qwen, Gemma, Phi, Mixtral) is another entry of {@link
 * #ALL}.
 *
 * <p>The name mapping is a bijection on the names an entry knows: {@code
 * toHf(toGguf(n).get()).get().equals(n)}. Weights and biases map alike ({@code .weight} / {@code
 * .bias} suffixes are kept); a layer number must be a canonical decimal.
 */
public final class Architecture {
  /** What a tensor is to the model. */
  public enum Role {
    /** The token embeddings: one row per vocabulary entry, before the layers. */
    TOKEN_EMBEDDINGS(true, true),
    /**
     * The output projection: one row per vocabulary entry, after the layers; absent when tied to
     * the embeddings.
     */
    LM_HEAD(false, true),
    /** The norm after the last layer. */
    FINAL_NORM(false, false),
    /** A tensor that every layer has. */
    LAYER(false, false);

    private final boolean beforeLayers;
    private final boolean vocabularyRows;

    Role(boolean beforeLayers, boolean vocabularyRows) {
      this.beforeLayers = beforeLayers;
      this.vocabularyRows = vocabularyRows;
    }

    /**
     * Whether tensors of this role come before the layers (outside them; meaningless for {@link
     * #LAYER}).
     */
    public boolean beforeLayers() {
      return beforeLayers;
    }

    /** Whether the tensor's rows follow the vocabulary (mergekit's is_embed). */
    public boolean vocabularyRows() {
      return vocabularyRows;
    }
  }

  /** Which of the two row-permuted attention projections a tensor is (docs/formats.md §4.2). */
  public enum Permuted {
    /** {@code attn_q}: permuted in groups of {@code head_count} heads. */
    QUERY,
    /**
     * {@code attn_k}: permuted in groups of {@code head_count_kv} heads (grouped-query attention).
     */
    KEY
  }

  /**
   * One row of the table.
   *
   * @param role what the tensor is
   * @param hf its Hugging Face name without {@code .weight}/{@code .bias}; for a {@link Role#LAYER}
   *     tensor the part after the layer prefix and number ({@code self_attn.q_proj})
   * @param gguf its GGUF name likewise ({@code attn_q})
   * @param permuted whether, and as which projection, llama.cpp stores its rows permuted
   */
  public record Tensor(Role role, String hf, String gguf, Optional<Permuted> permuted) {
    /** Checks the arguments. */
    public Tensor {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(hf, "hf");
      Objects.requireNonNull(gguf, "gguf");
      Objects.requireNonNull(permuted, "permuted");
    }
  }

  /**
   * The Llama family: Llama 1 to 3.2 and Mistral, which llama.cpp loads as architecture {@code
   * llama}, with Q/K-permuted attention rows.
   */
  public static final Architecture LLAMA =
      new Architecture(
          "llama",
          List.of("LlamaForCausalLM", "MistralForCausalLM"),
          Map.of("llama", "LlamaForCausalLM", "mistral", "MistralForCausalLM"),
          "model.layers.",
          "blk.",
          List.of(
              wholeModel(Role.TOKEN_EMBEDDINGS, "model.embed_tokens", "token_embd"),
              wholeModel(Role.FINAL_NORM, "model.norm", "output_norm"),
              wholeModel(Role.LM_HEAD, "lm_head", "output"),
              layer("input_layernorm", "attn_norm"),
              permuted("self_attn.q_proj", "attn_q", Permuted.QUERY),
              permuted("self_attn.k_proj", "attn_k", Permuted.KEY),
              layer("self_attn.v_proj", "attn_v"),
              layer("self_attn.o_proj", "attn_output"),
              layer("post_attention_layernorm", "ffn_norm"),
              layer("mlp.gate_proj", "ffn_gate"),
              layer("mlp.up_proj", "ffn_up"),
              layer("mlp.down_proj", "ffn_down")));

  /** Every entry. */
  public static final List<Architecture> ALL = List.of(LLAMA);

  /** A layer number: the first dot-separated component of at most nine digits. */
  private static final Pattern LAYER_NUMBER = Pattern.compile("(^|\\.)(\\d{1,9})(\\.|$)");

  private final String ggufName;
  private final List<String> hfArchitectures;
  private final Map<String, String> hfModelTypes;
  private final String hfLayerPrefix;
  private final String ggufLayerPrefix;
  private final List<Tensor> tensors;
  private final Map<String, Tensor> wholeModelByHf = new HashMap<>();
  private final Map<String, Tensor> wholeModelByGguf = new HashMap<>();
  private final Map<String, Tensor> layerByHf = new HashMap<>();
  private final Map<String, Tensor> layerByGguf = new HashMap<>();
  private final Set<String> vocabularyTensors = new LinkedHashSet<>();

  private Architecture(
      String ggufName,
      List<String> hfArchitectures,
      Map<String, String> hfModelTypes,
      String hfLayerPrefix,
      String ggufLayerPrefix,
      List<Tensor> tensors) {
    this.ggufName = ggufName;
    this.hfArchitectures = List.copyOf(hfArchitectures);
    this.hfModelTypes = Map.copyOf(hfModelTypes);
    this.hfLayerPrefix = hfLayerPrefix;
    this.ggufLayerPrefix = ggufLayerPrefix;
    this.tensors = List.copyOf(tensors);
    for (Tensor t : tensors) {
      boolean inLayer = t.role() == Role.LAYER;
      if ((inLayer ? layerByHf : wholeModelByHf).put(t.hf(), t) != null
          || (inLayer ? layerByGguf : wholeModelByGguf).put(t.gguf(), t) != null) {
        throw new IllegalArgumentException(
            ggufName + ": tensor " + t.hf() + " or " + t.gguf() + " listed twice");
      }
      if (t.role().vocabularyRows()) vocabularyTensors.add(t.hf() + ".weight");
    }
  }

  private static Tensor wholeModel(Role role, String hf, String gguf) {
    return new Tensor(role, hf, gguf, Optional.empty());
  }

  private static Tensor layer(String hf, String gguf) {
    return new Tensor(Role.LAYER, hf, gguf, Optional.empty());
  }

  private static Tensor permuted(String hf, String gguf, Permuted permuted) {
    return new Tensor(Role.LAYER, hf, gguf, Optional.of(permuted));
  }

  /** The entry llama.cpp loads as {@code general.architecture} {@code name}, if any. */
  public static Optional<Architecture> forGguf(String name) {
    return ALL.stream().filter(a -> a.ggufName.equals(name)).findFirst();
  }

  /**
   * The entry of a config.json: by its {@code architectures[0]}, else by its {@code model_type};
   * empty for architectures the table does not know.
   */
  public static Optional<Architecture> forHfConfig(JsonNode config) {
    JsonNode archs = config.get("architectures");
    if (archs != null && archs.isArray() && archs.size() > 0 && archs.get(0).isTextual()) {
      String name = archs.get(0).asText();
      return ALL.stream().filter(a -> a.hfArchitectures.contains(name)).findFirst();
    }
    String type = config.path("model_type").asText("");
    return ALL.stream().filter(a -> a.hfModelTypes.containsKey(type)).findFirst();
  }

  /**
   * The GGUF architecture name ({@code general.architecture}), also the prefix of its
   * hyperparameter keys.
   */
  public String ggufName() {
    return ggufName;
  }

  /** The config.json {@code architectures} names of this entry. */
  public List<String> hfArchitectures() {
    return hfArchitectures;
  }

  /**
   * The config.json {@code model_type} values of this entry, each with the architecture name it
   * stands for.
   */
  public Map<String, String> hfModelTypes() {
    return hfModelTypes;
  }

  /** The tensors, whole-model ones first. */
  public List<Tensor> tensors() {
    return tensors;
  }

  /** The Hugging Face name of the weight of a whole-model role ({@code lm_head.weight}). */
  public String hfWeight(Role role) {
    if (role == Role.LAYER)
      throw new IllegalArgumentException("every layer has its own " + role + " tensors");
    return tensors.stream()
        .filter(t -> t.role() == role)
        .findFirst()
        .map(t -> t.hf() + ".weight")
        .orElseThrow(() -> new IllegalArgumentException(ggufName + " has no " + role + " tensor"));
  }

  /**
   * The Hugging Face names of the weights with one row per vocabulary entry (embeddings and
   * lm_head).
   */
  public Set<String> vocabularyTensors() {
    return Collections.unmodifiableSet(vocabularyTensors);
  }

  /** Whether a Hugging Face tensor has one row per vocabulary entry (mergekit's is_embed). */
  public boolean hasVocabularyRows(String hfName) {
    return vocabularyTensors.contains(hfName);
  }

  /**
   * Whether a tensor outside the layers comes before them (the token embeddings) or after them
   * (final norm, lm_head). A name the entry does not know comes before the layers when it contains
   * "embed" (the position or type embeddings of other models), after them otherwise.
   */
  public boolean isBeforeLayers(String hfName) {
    String suffix = paramSuffix(hfName);
    Tensor known =
        suffix == null
            ? null
            : wholeModelByHf.get(hfName.substring(0, hfName.length() - suffix.length()));
    return known != null ? known.role().beforeLayers() : hfName.contains("embed");
  }

  /** The GGUF name of a Hugging Face tensor, or empty when the entry does not know it. */
  public Optional<String> toGguf(String hf) {
    return rename(hf, wholeModelByHf, layerByHf, hfLayerPrefix, ggufLayerPrefix, false);
  }

  /**
   * The Hugging Face name of a GGUF tensor, or empty when the entry does not know it or it has
   * none.
   */
  public Optional<String> toHf(String gguf) {
    return rename(gguf, wholeModelByGguf, layerByGguf, ggufLayerPrefix, hfLayerPrefix, true);
  }

  private static Optional<String> rename(
      String name,
      Map<String, Tensor> wholeModel,
      Map<String, Tensor> inLayer,
      String fromPrefix,
      String toPrefix,
      boolean toHf) {
    String suffix = paramSuffix(name);
    if (suffix == null) return Optional.empty();
    String stem = name.substring(0, name.length() - suffix.length());
    Tensor global = wholeModel.get(stem);
    if (global != null) return Optional.of((toHf ? global.hf() : global.gguf()) + suffix);
    if (!stem.startsWith(fromPrefix)) return Optional.empty();
    return splitLayer(stem, fromPrefix)
        .flatMap(
            l ->
                Optional.ofNullable(inLayer.get(l.rest()))
                    .map(t -> toPrefix + l.index() + "." + (toHf ? t.hf() : t.gguf()) + suffix));
  }

  /**
   * Whether, and as which projection, a GGUF tensor (weight or bias) is stored with its rows
   * permuted relative to Hugging Face; see {@link QkPermutation}.
   */
  public Optional<Permuted> permutation(String ggufName) {
    String suffix = paramSuffix(ggufName);
    if (suffix == null || !ggufName.startsWith(ggufLayerPrefix)) return Optional.empty();
    return splitLayer(ggufName.substring(0, ggufName.length() - suffix.length()), ggufLayerPrefix)
        .map(l -> layerByGguf.get(l.rest()))
        .flatMap(Tensor::permuted);
  }

  /**
   * A GGUF name without its layer prefix and {@code .weight}/{@code .bias} ("blk.3.attn_q.weight"
   * -> "attn_q").
   */
  public String ggufStem(String ggufName) {
    String suffix = paramSuffix(ggufName);
    String stem =
        suffix == null ? ggufName : ggufName.substring(0, ggufName.length() - suffix.length());
    if (stem.startsWith(ggufLayerPrefix)) {
      return splitLayer(stem, ggufLayerPrefix).map(LayerName::rest).orElse(stem);
    }
    return stem;
  }

  /**
   * The layer a tensor belongs to, in any architecture's spelling: its first dot-separated
   * component of at most nine digits ({@code model.layers.12.mlp.up_proj.weight} and {@code
   * blk.12.ffn_up.weight} give 12); empty for whole-model tensors.
   */
  public static Optional<Integer> layerIndex(String name) {
    for (String part : name.split("\\.")) {
      if (!part.isEmpty() && part.length() <= 9 && part.chars().allMatch(Character::isDigit)) {
        return Optional.of(Integer.parseInt(part));
      }
    }
    return Optional.empty();
  }

  /**
   * The name with its layer number (see {@link #layerIndex}) replaced: the same tensor of another
   * layer.
   */
  public static String withLayer(String name, int layer) {
    Matcher m = LAYER_NUMBER.matcher(name);
    if (!m.find()) throw new IllegalArgumentException(name + " has no layer number");
    return name.substring(0, m.start(2)) + layer + name.substring(m.end(2));
  }

  private static String paramSuffix(String name) {
    if (name.endsWith(".weight")) return ".weight";
    if (name.endsWith(".bias")) return ".bias";
    return null;
  }

  private record LayerName(int index, String rest) {}

  /**
   * Splits "prefix N.rest" into (N, rest). N must be a canonical decimal (no sign, no leading zero)
   * so that the mapping stays a bijection.
   */
  private static Optional<LayerName> splitLayer(String stem, String prefix) {
    int dot = stem.indexOf('.', prefix.length());
    if (dot < 0) return Optional.empty();
    String digits = stem.substring(prefix.length(), dot);
    if (digits.isEmpty()
        || digits.length() > 9
        || (digits.length() > 1 && digits.charAt(0) == '0')
        || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return Optional.empty();
    }
    return Optional.of(new LayerName(Integer.parseInt(digits), stem.substring(dot + 1)));
  }

  @Override
  public String toString() {
    return ggufName;
  }
}
