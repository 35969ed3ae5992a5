package dev.amalgam.convert;

import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.tensor.DType;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Tensor names of the Llama family in Hugging Face and GGUF spelling (llama.cpp's {@code convert_hf_to_gguf.py}
 * tensor map), which of them llama.cpp stores row-permuted, and the ggml type each tensor gets in a GGUF file.
 *
 * <p>The mapping is a bijection on the names it knows: {@code toHf(toGguf(n).get()).get().equals(n)}. Weights and
 * biases map alike ({@code .weight} / {@code .bias} suffixes are kept). {@code rope_freqs.weight} exists only in
 * GGUF (it is generated from {@code rope_scaling}, see {@link LlamaMetadata#ropeFreqs}); HF buffers such as
 * {@code rotary_emb.inv_freq} exist only in HF checkpoints ({@link #isSkippedHf}).
 */
public final class LlamaTensorNames {
  /** GGUF name of the llama3 rope frequency factors (F32, [head_dim / 2]); it has no HF counterpart. */
  public static final String ROPE_FREQS = "rope_freqs.weight";

  private static final String HF_LAYER_PREFIX = "model.layers.";
  private static final String GGUF_LAYER_PREFIX = "blk.";

  /** Whole-model tensors: HF stem -> GGUF stem (without .weight/.bias). */
  private static final Map<String, String> GLOBAL_HF_TO_GGUF = Map.of(
      "model.embed_tokens", "token_embd",
      "model.norm", "output_norm",
      "lm_head", "output");

  /** Per-layer tensors: HF stem after "model.layers.N." -> GGUF stem after "blk.N.". */
  private static final Map<String, String> LAYER_HF_TO_GGUF = Map.of(
      "input_layernorm", "attn_norm",
      "self_attn.q_proj", "attn_q",
      "self_attn.k_proj", "attn_k",
      "self_attn.v_proj", "attn_v",
      "self_attn.o_proj", "attn_output",
      "post_attention_layernorm", "ffn_norm",
      "mlp.gate_proj", "ffn_gate",
      "mlp.up_proj", "ffn_up",
      "mlp.down_proj", "ffn_down");

  private static final Map<String, String> GLOBAL_GGUF_TO_HF = invert(GLOBAL_HF_TO_GGUF);
  private static final Map<String, String> LAYER_GGUF_TO_HF = invert(LAYER_HF_TO_GGUF);

  /** HF buffers that are not weights (gguf-py skips them). */
  private static final Set<String> SKIPPED_HF_SUFFIXES =
      Set.of("rotary_emb.inv_freq", "attention.masked_bias", "attention.bias");

  /**
   * GGUF tensor stems that gguf-py always keeps in F32 whatever the output type (ModelBase.prepare_tensors). None
   * occurs in a Llama checkpoint; they are listed so the rule stays right if other tensors are passed through.
   */
  private static final Set<String> ALWAYS_F32_STEMS = Set.of("ffn_gate_inp", "position_embd", "token_types");

  private LlamaTensorNames() {}

  /** Which of the two row-permuted attention projections a tensor is (docs/formats.md §4.2). */
  public enum Permuted {
    /** {@code attn_q}: permuted in groups of {@code head_count} heads. */
    QUERY,
    /** {@code attn_k}: permuted in groups of {@code head_count_kv} heads (grouped-query attention). */
    KEY
  }

  /**
   * The ggml type chosen for one tensor.
   *
   * @param type the type to write
   * @param fellBack true when the requested block-quantized type could not hold this tensor's rows and
   *     {@link GgmlType#F16} was chosen instead; the caller should warn, as llama.cpp's converter does
   */
  public record OutputType(GgmlType type, boolean fellBack) {}

  /** The GGUF name of an HF tensor, or empty when the name is not a Llama tensor. */
  public static Optional<String> toGguf(String hf) {
    String suffix = paramSuffix(hf);
    if (suffix == null) return Optional.empty();
    String stem = hf.substring(0, hf.length() - suffix.length());
    String global = GLOBAL_HF_TO_GGUF.get(stem);
    if (global != null) return Optional.of(global + suffix);
    if (!stem.startsWith(HF_LAYER_PREFIX)) return Optional.empty();
    return splitLayer(stem, HF_LAYER_PREFIX).flatMap(l -> Optional.ofNullable(LAYER_HF_TO_GGUF.get(l.rest()))
        .map(g -> GGUF_LAYER_PREFIX + l.index() + "." + g + suffix));
  }

  /**
   * The HF name of a GGUF tensor, or empty when it is not a Llama tensor or has no HF counterpart
   * ({@link #ROPE_FREQS}).
   */
  public static Optional<String> toHf(String gguf) {
    String suffix = paramSuffix(gguf);
    if (suffix == null) return Optional.empty();
    String stem = gguf.substring(0, gguf.length() - suffix.length());
    String global = GLOBAL_GGUF_TO_HF.get(stem);
    if (global != null) return Optional.of(global + suffix);
    if (!stem.startsWith(GGUF_LAYER_PREFIX)) return Optional.empty();
    return splitLayer(stem, GGUF_LAYER_PREFIX).flatMap(l -> Optional.ofNullable(LAYER_GGUF_TO_HF.get(l.rest()))
        .map(h -> HF_LAYER_PREFIX + l.index() + "." + h + suffix));
  }

  /**
   * Whether an HF tensor is a non-weight buffer that conversion drops ({@code *.rotary_emb.inv_freq},
   * {@code *.attention.masked_bias}, {@code *.attention.bias}); such names are not errors.
   */
  public static boolean isSkippedHf(String hf) {
    for (String s : SKIPPED_HF_SUFFIXES) {
      if (hf.equals(s) || hf.endsWith("." + s)) return true;
    }
    return false;
  }

  /**
   * The block (layer) index of a tensor name in either spelling: the first all-digit dot-separated component
   * ({@code model.layers.7.mlp.up_proj.weight} and {@code blk.7.ffn_up.weight} give 7); empty for whole-model
   * tensors and for numbers that do not fit an int.
   */
  public static OptionalInt layerIndex(String name) {
    for (String part : name.split("\\.", -1)) {
      if (!part.isEmpty() && part.chars().allMatch(c -> c >= '0' && c <= '9')) {
        try {
          return OptionalInt.of(Integer.parseInt(part));
        } catch (NumberFormatException e) {
          return OptionalInt.empty();
        }
      }
    }
    return OptionalInt.empty();
  }

  /**
   * Whether, and as which projection, a GGUF tensor (weight or bias) is stored with its rows permuted relative to
   * HF; see {@link QkPermutation}.
   */
  public static Optional<Permuted> permutation(String ggufName) {
    String suffix = paramSuffix(ggufName);
    if (suffix == null || !ggufName.startsWith(GGUF_LAYER_PREFIX)) return Optional.empty();
    Optional<LayerName> layer = splitLayer(ggufName.substring(0, ggufName.length() - suffix.length()),
        GGUF_LAYER_PREFIX);
    if (layer.isEmpty()) return Optional.empty();
    return switch (layer.get().rest()) {
      case "attn_q" -> Optional.of(Permuted.QUERY);
      case "attn_k" -> Optional.of(Permuted.KEY);
      default -> Optional.empty();
    };
  }

  /**
   * The ggml type llama.cpp's converter writes for one tensor (docs/formats.md §4.3).
   *
   * <p>F32 whatever is requested: tensors of rank 0 or 1, names ending {@code _norm.weight}, names not ending
   * {@code .weight} (biases) and a few special tensors. Otherwise the requested type; a block-quantized request
   * (for example {@link GgmlType#Q8_0}) whose block size does not divide the row length {@code ne0} falls back to
   * {@link GgmlType#F16} and says so.
   *
   * @param ggufName the tensor's GGUF name
   * @param rank the number of dimensions
   * @param requested the output type asked for (F32, F16, BF16 or a block-quantized type)
   * @param ne0 the row length (GGUF {@code ne[0]}, the last HF dimension)
   */
  public static OutputType ggufType(String ggufName, int rank, GgmlType requested, long ne0) {
    if (rank < 0) throw new IllegalArgumentException("negative rank " + rank);
    if (ne0 < 0) throw new IllegalArgumentException("negative row length " + ne0);
    if (rank <= 1 || ggufName.endsWith("_norm.weight") || !ggufName.endsWith(".weight")
        || ALWAYS_F32_STEMS.contains(stemOf(ggufName))) {
      return new OutputType(GgmlType.F32, false);
    }
    if (requested.isQuantized() && ne0 % requested.blockElements() != 0) {
      return new OutputType(GgmlType.F16, true);
    }
    return new OutputType(requested, false);
  }

  /**
   * The output type of llama.cpp's {@code --outtype auto}: BF16 when the first tensor of rank 2 or more is BF16,
   * otherwise F16.
   */
  public static GgmlType autoType(DType firstMatrixDType) {
    return firstMatrixDType == DType.BF16 ? GgmlType.BF16 : GgmlType.F16;
  }

  /** The GGUF name without its block prefix and .weight/.bias suffix ("blk.3.attn_q.weight" -> "attn_q"). */
  private static String stemOf(String ggufName) {
    String suffix = paramSuffix(ggufName);
    String stem = suffix == null ? ggufName : ggufName.substring(0, ggufName.length() - suffix.length());
    if (stem.startsWith(GGUF_LAYER_PREFIX)) {
      return splitLayer(stem, GGUF_LAYER_PREFIX).map(LayerName::rest).orElse(stem);
    }
    return stem;
  }

  private static String paramSuffix(String name) {
    if (name.endsWith(".weight")) return ".weight";
    if (name.endsWith(".bias")) return ".bias";
    return null;
  }

  private record LayerName(int index, String rest) {}

  /**
   * Splits "prefix N.rest" into (N, rest). N must be a canonical decimal (no sign, no leading zero) so that the
   * mapping stays a bijection.
   */
  private static Optional<LayerName> splitLayer(String stem, String prefix) {
    int dot = stem.indexOf('.', prefix.length());
    if (dot < 0) return Optional.empty();
    String digits = stem.substring(prefix.length(), dot);
    if (digits.isEmpty() || digits.length() > 9 || (digits.length() > 1 && digits.charAt(0) == '0')
        || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return Optional.empty();
    }
    return Optional.of(new LayerName(Integer.parseInt(digits), stem.substring(dot + 1)));
  }

  private static Map<String, String> invert(Map<String, String> m) {
    Map<String, String> out = new java.util.HashMap<>();
    m.forEach((k, v) -> out.put(v, k));
    return Map.copyOf(out);
  }
}
