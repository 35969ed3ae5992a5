package dev.amalgam.merge.config;

import java.util.Map;

/**
 * One source of an output slice: layers {@code [start, end)} of a model.
 *
 * @param model the model
 * @param start first layer taken
 * @param end one past the last layer taken
 * @param parameters the source's own {@code parameters:} (per-model parameters only take effect
 *     here)
 * @param yamlPath where it was written, e.g. "slices[1].sources[0]"
 */
public record SliceSource(
    ModelReference model,
    int start,
    int end,
    Map<String, ParameterSetting> parameters,
    String yamlPath) {
  /** Copies the parameters. */
  public SliceSource {
    parameters = Map.copyOf(parameters);
  }

  /** Number of layers taken. */
  public int layers() {
    return end - start;
  }
}
