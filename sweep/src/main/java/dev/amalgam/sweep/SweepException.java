package dev.amalgam.sweep;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;

/**
 * A sweep cannot run: a bad sweep file (the message starts with the file and the YAML path of the
 * offending value, e.g. {@code sweep.yml: grid.t[2]: not a number}), missing inputs, or a failed
 * step. One line, like every Amalgam failure.
 */
public final class SweepException extends RuntimeException implements Failure {
  private static final long serialVersionUID = 1L;
  private final FailureReason reason;

  /** A bad input (exit code 2 on the command line). */
  public SweepException(String message) {
    this(message, FailureReason.BAD_INPUT, null);
  }

  /**
   * A failure with its reason and cause.
   *
   * @param cause the underlying failure (may be null)
   */
  public SweepException(String message, FailureReason reason, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** A bad value at {@code yamlPath} of {@code file}. */
  static SweepException at(Object file, String yamlPath, String message) {
    return new SweepException(
        file + ": " + (yamlPath == null || yamlPath.isEmpty() ? "" : yamlPath + ": ") + message);
  }

  @Override
  public FailureReason failureReason() {
    return reason;
  }
}
