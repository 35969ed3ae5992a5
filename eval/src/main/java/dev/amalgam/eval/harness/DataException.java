package dev.amalgam.eval.harness;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;

/**
 * Bad evaluation input: a data file, template or selection that breaks a rule. The message names
 * the file, the line or row and the field where there is one, and the rule; the CLI prints it as
 * one line with exit code 2.
 */
public final class DataException extends RuntimeException implements Failure {
  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message already names the file, position, field and rule. */
  public DataException(String message) {
    super(message);
  }

  /** Creates an exception with a cause (an I/O or parse failure underneath). */
  public DataException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Always {@link FailureReason#BAD_INPUT}. */
  @Override
  public FailureReason failureReason() {
    return FailureReason.BAD_INPUT;
  }

  static DataException at(Object file, int line, String field, String rule) {
    return new DataException(
        file + ": line " + line + (field == null ? "" : ", field '" + field + "'") + ": " + rule);
  }
}
