package dev.amalgam.merge.plan;

import dev.amalgam.convert.ModelFormats;
import dev.amalgam.io.gguf.GgmlType;
import java.util.Objects;
import java.util.Optional;

/**
 * What a merge writes: a Hugging Face directory, or a GGUF file with a tensor type.
 *
 * @param format the output format
 * @param ggufType for GGUF, the type of the matrices (F32, F16, BF16 or Q8_0; vectors and norms
 *     stay F32); empty keeps the type the merge computes in ({@code out_dtype}, {@code dtype} or
 *     the inputs' type)
 */
public record OutputSpec(ModelFormats.Format format, Optional<GgmlType> ggufType) {
  /** Checks the combination. */
  public OutputSpec {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(ggufType, "ggufType");
    if (format == ModelFormats.Format.HF && ggufType.isPresent()) {
      throw new IllegalArgumentException("an output type applies to GGUF outputs only");
    }
    ggufType.ifPresent(
        t -> {
          if (t != GgmlType.F32 && t != GgmlType.F16 && t != GgmlType.BF16 && t != GgmlType.Q8_0) {
            throw new IllegalArgumentException(
                "GGUF output type must be f32, f16, bf16 or q8_0, got " + t);
          }
        });
  }

  /** A Hugging Face directory. */
  public static OutputSpec hf() {
    return new OutputSpec(ModelFormats.Format.HF, Optional.empty());
  }

  /** A GGUF file. */
  public static OutputSpec gguf(Optional<GgmlType> type) {
    return new OutputSpec(ModelFormats.Format.GGUF, type);
  }

  /** Whether the output is GGUF. */
  public boolean isGguf() {
    return format == ModelFormats.Format.GGUF;
  }
}
