package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.convert.Architecture;
import dev.amalgam.convert.ConversionException;
import dev.amalgam.convert.ConversionResult;
import dev.amalgam.convert.GgufWeights;
import dev.amalgam.convert.LlamaMetadata;
import dev.amalgam.convert.ModelConverter;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufKeys;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.MergeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The planner's side of a GGUF output: the metadata it is written with, decided before any tensor
 * is read.
 */
final class GgufPlanning {
  private GgufPlanning() {}

  /**
   * The metadata of a GGUF output, from the donor: a GGUF donor's own keys (tokenizer included)
   * with the new file type and layer count; for a Hugging Face donor, its config.json and tokenizer
   * converted as {@code amalgam convert} does. The merge configuration is recorded under {@link
   * GgufKeys#MERGE_CONFIG}.
   *
   * @param modelConfig the config.json the hyperparameters come from
   * @param types the ggml type of each task's output tensor, in task order
   */
  static GgufPlan plan(
      MergeConfig config,
      List<PlannedInput> inputs,
      PlannedInput donor,
      Architecture architecture,
      ObjectNode modelConfig,
      List<TensorTask> tasks,
      List<GgmlType> types,
      OutputSpec output,
      WarningListener warnings)
      throws IOException {
    if (output.ggufType().isEmpty()) {
      for (PlannedInput in : inputs) {
        String quantized =
            in.gguf()
                .map(
                    g ->
                        g.file().tensors().stream()
                            .map(t -> t.type())
                            .filter(GgmlType::isQuantized)
                            .map(GgmlType::name)
                            .distinct()
                            .collect(Collectors.joining(", ")))
                .orElse("");
        if (!quantized.isEmpty()) {
          warnings.warn(
              "'"
                  + in.label()
                  + "' is quantized ("
                  + quantized
                  + "); it merges dequantized and the output"
                  + " is written in the merge's dtype: add --out-type q8_0 (or bf16) for a smaller file");
          break;
        }
      }
    }
    GgmlType fileType =
        output
            .ggufType()
            .orElseGet(
                () -> {
                  for (int i = 0; i < tasks.size(); i++)
                    if (tasks.get(i).output().rank() >= 2) return types.get(i);
                  return GgmlType.F32;
                });
    GgufMetadata metadata;
    Optional<float[]> rope;
    if (donor.gguf().isPresent()) {
      GgufWeights g = donor.gguf().get();
      metadata = new GgufMetadata(g.metadata());
      LlamaMetadata.putFileType(
          metadata, fileType, types.stream().anyMatch(GgmlType::isQuantized), true);
      if (modelConfig.path("num_hidden_layers").isIntegralNumber()) {
        // slices change the layer count
        metadata.put(
            GgufKeys.blockCount(architecture.ggufName()),
            GgufValue.uint32(modelConfig.get("num_hidden_layers").asLong()));
      }
      rope = g.ropeFreqs();
    } else {
      Path dir = donor.weights().path();
      if (!Files.isDirectory(dir)) dir = dir.toAbsolutePath().getParent();
      String name = dir.getFileName() != null ? dir.getFileName().toString() : "merged";
      try {
        ConversionResult converted =
            ModelConverter.hfMetadata(modelConfig, dir.resolve("config.json"), dir, name, fileType);
        converted.warnings().forEach(warnings::warn);
        metadata = converted.metadata();
        float[] r = LlamaMetadata.ropeFreqs(modelConfig, dir.resolve("config.json"));
        rope = r.length > 0 ? Optional.of(r) : Optional.empty();
      } catch (ConversionException e) {
        throw new ConfigException(
            donor.reference().yamlPath(),
            "cannot write a GGUF output from '" + donor.label() + "': " + e.getMessage());
      }
    }
    config.chatTemplate().ifPresent(t -> metadata.put(GgufKeys.CHAT_TEMPLATE, GgufValue.string(t)));
    metadata.put(GgufKeys.MERGE_CONFIG, GgufValue.string(config.source()));
    return new GgufPlan(metadata, types, rope);
  }
}
