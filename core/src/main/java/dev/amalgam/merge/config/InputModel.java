package dev.amalgam.merge.config;

import java.util.Map;

/**
 * One entry of {@code models:}.
 *
 * @param model the model reference
 * @param parameters its {@code parameters:} block, by name
 * @param yamlPath where the entry was written, e.g. "models[1]"
 */
public record InputModel(
    ModelReference model, Map<String, ParameterSetting> parameters, String yamlPath) {
  /** Copies the parameters. */
  public InputModel {
    parameters = Map.copyOf(parameters);
  }
}
