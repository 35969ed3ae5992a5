package dev.amalgam.convert;

import dev.amalgam.io.gguf.GgufMetadata;
import java.util.List;
import java.util.Objects;

/**
 * GGUF metadata produced from Hugging Face files, with the warnings a caller should show the user
 * (for example an ignored {@code sliding_window}, or an unknown pre-tokenizer that llama.cpp will
 * treat as "default").
 *
 * @param metadata the keys, in the order gguf-py writes them
 * @param warnings human-readable notes, empty when the conversion was exact
 */
public record ConversionResult(GgufMetadata metadata, List<String> warnings) {
  /** Copies the warning list so the result stays immutable. */
  public ConversionResult {
    Objects.requireNonNull(metadata, "metadata");
    warnings = List.copyOf(warnings);
  }
}
