package dev.amalgam.merge.plan;

import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufMetadata;
import java.util.List;
import java.util.Optional;

/**
 * The GGUF side of a merge plan: everything the output file holds besides the merged tensors,
 * decided before any tensor is read.
 *
 * @param metadata every key of the output (the donor's hyperparameters and tokenizer, the file
 *     type)
 * @param types the ggml type of each task's output tensor, in task order
 * @param ropeFreqs the llama3 {@code rope_freqs.weight} values, written first, if the donor has
 *     them
 */
public record GgufPlan(GgufMetadata metadata, List<GgmlType> types, Optional<float[]> ropeFreqs) {
  /** Copies the list. */
  public GgufPlan {
    metadata = new GgufMetadata(metadata);
    types = List.copyOf(types);
  }
}
