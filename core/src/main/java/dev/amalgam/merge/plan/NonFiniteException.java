package dev.amalgam.merge.plan;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A merge under {@link NonFinitePolicy#ERROR} met NaN or infinite values; nothing was committed.
 * The message names the tensor and each input (or the output) with its counts.
 */
public final class NonFiniteException extends IOException implements Failure {
  private static final long serialVersionUID = 1L;

  private final transient List<NonFiniteCount> counts;

  /**
   * @param counts what the tensor met, at least one entry
   */
  public NonFiniteException(List<NonFiniteCount> counts) {
    super(
        counts.stream().map(NonFiniteCount::describe).collect(Collectors.joining("; "))
            + " (--on-nonfinite error; 'warn' merges anyway and lists them)");
    this.counts = List.copyOf(counts);
  }

  /** What the tensor met. */
  public List<NonFiniteCount> counts() {
    return counts;
  }

  @Override
  public FailureReason failureReason() {
    return FailureReason.BAD_INPUT;
  }
}
