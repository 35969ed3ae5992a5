package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.convert.GgufWeights;
import dev.amalgam.io.ModelWeights;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.config.ParameterSetting;
import java.util.Map;
import java.util.Optional;

/**
 * One model taking part in a merge, opened (headers only) and validated.
 *
 * @param index position in merge order
 * @param reference the reference as configured
 * @param yamlPath where the model is configured ("models[1]", or "base_model" when the base is not
 *     listed)
 * @param isBase whether it is the base model
 * @param parameters its own parameters block
 * @param weights the opened weights (headers read, no tensor data yet), under HF names in the
 *     output's layout
 * @param hfConfig its config.json, if present (for a GGUF file rebuilt from its metadata)
 * @param gguf the GGUF view, when the model is a GGUF file
 */
public record PlannedInput(
    int index,
    ModelReference reference,
    String yamlPath,
    boolean isBase,
    Map<String, ParameterSetting> parameters,
    ModelWeights weights,
    Optional<ObjectNode> hfConfig,
    Optional<GgufWeights> gguf) {
  /** How messages name the model: its reference as written. */
  public String label() {
    return reference.spec();
  }
}
