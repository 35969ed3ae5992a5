package dev.amalgam.eval.bertscore;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import java.util.Objects;

/**
 * A BERTScore failure with a {@link Reason}, so the CLI can tell bad input (exit code 2) from an
 * environment problem; {@link #failureReason()} follows it. Messages name the file, row or option
 * and the rule that failed.
 */
public final class BertScoreException extends RuntimeException implements Failure {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Reason {
    /** A model, tokenizer or baseline file does not exist or is not a regular file. */
    FILE_NOT_FOUND(true),
    /** onnxruntime refused the encoder file, or it lacks a usable {@code last_hidden_state}. */
    BAD_MODEL(true),
    /** The tokenizer.json could not be loaded. */
    BAD_TOKENIZER(true),
    /** A baseline file or baseline values are malformed or lack the layer. */
    BAD_BASELINE(true),
    /** An option or argument is out of range or inconsistent. */
    BAD_ARGUMENT(true),
    /** The default encoder's resources are not on the class path. */
    DEFAULT_ENCODER_MISSING(false),
    /** onnxruntime failed while running the encoder. */
    ENCODER_FAILED(false),
    /** The embedder was used after close(). */
    CLOSED(false);

    private final boolean badInput;

    Reason(boolean badInput) {
      this.badInput = badInput;
    }

    /** True when the caller's input (file, text, option) is at fault, not the environment. */
    public boolean isBadInput() {
      return badInput;
    }
  }

  private final Reason reason;

  /** Creates an exception with a reason and a message naming the file or rule. */
  public BertScoreException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Creates an exception with a reason, message and cause. */
  public BertScoreException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Why it failed. */
  public Reason reason() {
    return reason;
  }

  /**
   * {@link FailureReason#BAD_INPUT} when the {@link #reason()} is bad input, else the environment.
   */
  @Override
  public FailureReason failureReason() {
    return reason.isBadInput() ? FailureReason.BAD_INPUT : FailureReason.ENVIRONMENT;
  }
}
