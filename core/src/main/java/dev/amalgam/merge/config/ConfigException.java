package dev.amalgam.merge.config;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;

/**
 * A merge configuration is invalid. The message starts with the YAML path of the offending value,
 * e.g. {@code models[1].parameters.weight: required (line 7)}; {@link #yamlPath()} is empty for
 * whole-document errors.
 */
public final class ConfigException extends RuntimeException implements Failure {
  private static final long serialVersionUID = 1L;
  private final String yamlPath;

  /** Creates the exception for the value at {@code yamlPath}. */
  public ConfigException(String yamlPath, String message) {
    super(yamlPath == null || yamlPath.isEmpty() ? message : yamlPath + ": " + message);
    this.yamlPath = yamlPath == null ? "" : yamlPath;
  }

  /**
   * The path of the offending value, e.g. "models[1].parameters.weight", or "" for the document.
   */
  public String yamlPath() {
    return yamlPath;
  }

  /** Always bad input: the configuration is at fault. */
  @Override
  public FailureReason failureReason() {
    return FailureReason.BAD_INPUT;
  }
}
