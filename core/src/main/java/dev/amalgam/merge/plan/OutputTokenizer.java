package dev.amalgam.merge.plan;

import dev.amalgam.io.gguf.GgufMetadata;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The tokenizer a merge with tokenizer options writes: either a model's tokenizer files copied
 * unchanged (its vocabulary is the output's), or files generated from the built vocabulary.
 *
 * @param metadata the output vocabulary as GGUF tokenizer metadata (no padding tokens)
 * @param source the model the metadata was built from, for messages
 * @param copyFrom the model directory whose tokenizer files are copied unchanged, if the vocabulary
 *     is that model's
 */
public record OutputTokenizer(GgufMetadata metadata, Path source, Optional<Path> copyFrom) {}
