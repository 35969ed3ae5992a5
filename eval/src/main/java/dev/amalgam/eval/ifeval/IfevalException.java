package dev.amalgam.eval.ifeval;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;

/**
 * Bad IFEval input: a malformed line or field, an unknown instruction id, arguments a check cannot
 * use, or a prompt without a response. The message names the file and line or the example's key,
 * the field or instruction id, and the rule that was broken, so a user can fix the input without
 * reading code. Always bad input.
 */
public final class IfevalException extends RuntimeException implements Failure {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with its complete, user-facing message. */
  public IfevalException(String message) {
    super(message);
  }

  /** Creates the exception with its complete, user-facing message and the underlying cause. */
  public IfevalException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Always {@link FailureReason#BAD_INPUT}. */
  @Override
  public FailureReason failureReason() {
    return FailureReason.BAD_INPUT;
  }
}
