package dev.amalgam.convert;

import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.tensor.DType;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Tensor names of the Llama family in Hugging Face and GGUF spelling, which of them llama.cpp
 * stores row-permuted (both read from the table entry {@link Architecture#LLAMA}), and the ggml
 * type each tensor gets in a GGUF file.
 *
 * <p>The mapping is a bijection on the names it knows: {@code
 * toHf(toGguf(n).get()).get().equals(n)}. Weights and biases map alike ({@code .weight} / {@code
 * .bias} suffixes are kept). {@code rope_freqs.weight} exists only in GGUF (it is generated from
 * {@code rope_scaling}, see {@link LlamaMetadata#ropeFreqs}); HF buffers such as {@code
 * rotary_emb.inv_freq} exist only in HF checkpoints ({@link #isSkippedHf}).
 */
public final class LlamaTensorNames {
  /**
   * GGUF name of the llama3 rope frequency factors (F32, [head_dim / 2]); it has no HF counterpart.
   */
  public static final String ROPE_FREQS = "rope_freqs.weight";

  /** HF buffers that are not weights (gguf-py skips them). */
  private static final Set<String> SKIPPED_HF_SUFFIXES =
      Set.of("rotary_emb.inv_freq", "attention.masked_bias", "attention.bias");

  /**
   * GGUF tensor stems that gguf-py always keeps in F32 whatever the output type
   * (ModelBase.prepare_tensors). None occurs in a Llama checkpoint; they are listed so the rule
   * stays right if other tensors are passed through.
   */
  private static final Set<String> ALWAYS_F32_STEMS =
      Set.of("ffn_gate_inp", "position_embd", "token_types");

  private LlamaTensorNames() {}

  /**
   * The ggml type chosen for one tensor.
   *
   * @param type the type to write
   * @param fellBack true when the requested block-quantized type could not hold this tensor's rows
   *     and {@link GgmlType#F16} was chosen instead; the caller should warn, as llama.cpp's
   *     converter does
   */
  public record OutputType(GgmlType type, boolean fellBack) {}

  /** The GGUF name of an HF tensor, or empty when the name is not a Llama tensor. */
  public static Optional<String> toGguf(String hf) {
    return Architecture.LLAMA.toGguf(hf);
  }

  /**
   * The HF name of a GGUF tensor, or empty when it is not a Llama tensor or has no HF counterpart
   * ({@link #ROPE_FREQS}).
   */
  public static Optional<String> toHf(String gguf) {
    return Architecture.LLAMA.toHf(gguf);
  }

  /**
   * Whether an HF tensor is a non-weight buffer that conversion drops ({@code
   * *.rotary_emb.inv_freq}, {@code *.attention.masked_bias}, {@code *.attention.bias}); such names
   * are not errors.
   */
  public static boolean isSkippedHf(String hf) {
    for (String s : SKIPPED_HF_SUFFIXES) {
      if (hf.equals(s) || hf.endsWith("." + s)) return true;
    }
    return false;
  }

  /**
   * The block (layer) index of a tensor name in either spelling ({@code
   * model.layers.7.mlp.up_proj.weight} and {@code blk.7.ffn_up.weight} give 7); empty for
   * whole-model tensors. See {@link Architecture#layerIndex}.
   */
  public static OptionalInt layerIndex(String name) {
    return Architecture.layerIndex(name).map(OptionalInt::of).orElseGet(OptionalInt::empty);
  }

  /**
   * Whether, and as which projection, a GGUF tensor (weight or bias) is stored with its rows
   * permuted relative to HF; see {@link QkPermutation}.
   */
  public static Optional<Architecture.Permuted> permutation(String ggufName) {
    return Architecture.LLAMA.permutation(ggufName);
  }

  /**
   * The ggml type llama.cpp's converter writes for one tensor (docs/formats.md §4.3).
   *
   * <p>F32 whatever is requested: tensors of rank 0 or 1, names ending {@code _norm.weight}, names
   * not ending {@code .weight} (biases) and a few special tensors. Otherwise the requested type; a
   * block-quantized request (for example {@link GgmlType#Q8_0}) whose block size does not divide
   * the row length {@code ne0} falls back to {@link GgmlType#F16} and says so.
   *
   * @param ggufName the tensor's GGUF name
   * @param rank the number of dimensions
   * @param requested the output type asked for (F32, F16, BF16 or a block-quantized type)
   * @param ne0 the row length (GGUF {@code ne[0]}, the last HF dimension)
   */
  public static OutputType ggufType(String ggufName, int rank, GgmlType requested, long ne0) {
    if (rank < 0) throw new IllegalArgumentException("negative rank " + rank);
    if (ne0 < 0) throw new IllegalArgumentException("negative row length " + ne0);
    if (rank <= 1
        || ggufName.endsWith("_norm.weight")
        || !ggufName.endsWith(".weight")
        || ALWAYS_F32_STEMS.contains(stemOf(ggufName))) {
      return new OutputType(GgmlType.F32, false);
    }
    if (requested.isQuantized() && ne0 % requested.blockElements() != 0) {
      return new OutputType(GgmlType.F16, true);
    }
    return new OutputType(requested, false);
  }

  /**
   * The output type of llama.cpp's {@code --outtype auto}: BF16 when the first tensor of rank 2 or
   * more is BF16, otherwise F16.
   */
  public static GgmlType autoType(DType firstMatrixDType) {
    return firstMatrixDType == DType.BF16 ? GgmlType.BF16 : GgmlType.F16;
  }

  /**
   * The GGUF name without its block prefix and .weight/.bias suffix ("blk.3.attn_q.weight" ->
   * "attn_q").
   */
  private static String stemOf(String ggufName) {
    return Architecture.LLAMA.ggufStem(ggufName);
  }
}
