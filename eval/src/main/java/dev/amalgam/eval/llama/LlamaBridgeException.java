package dev.amalgam.eval.llama;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import java.util.Objects;

/**
 * A failure of the llama.cpp bridge or of generation, with a {@link Reason} so callers (the CLI)
 * can tell bad input from an environment problem; {@link #failureReason()} follows it. Messages
 * name the model file or the rule that failed.
 */
public final class LlamaBridgeException extends RuntimeException implements Failure {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Reason {
    /** The JNI glue, the bridge library or libjllama.so could not be found or loaded. */
    LIBRARY_UNAVAILABLE(false),
    /** The model file does not exist or is not a regular file. */
    MODEL_NOT_FOUND(true),
    /** llama.cpp refused the model file (garbage, truncated, unsupported architecture). */
    MODEL_LOAD_FAILED(true),
    /** The text is empty or yields nothing to score. */
    EMPTY_TEXT(true),
    /** The text has fewer tokens than the computation needs. */
    TEXT_TOO_SHORT(true),
    /** The text has more tokens than the context holds. */
    TEXT_TOO_LONG(true),
    /** An option is out of range (context size, threads, layers). */
    BAD_ARGUMENT(true),
    /** The scorer was used after close(). */
    CLOSED(false),
    /** llama.cpp reported an error while scoring. */
    NATIVE_ERROR(false),
    /** Generation failed (interrupted, or the engine could not go on). */
    GENERATION_FAILED(false),
    /** Generation ran past its time limit and was stopped. */
    TIMEOUT(false);

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
  private final int request;

  /** Creates an exception with a reason and a message naming the file or rule. */
  public LlamaBridgeException(Reason reason, String message) {
    this(reason, message, -1, null);
  }

  /** Creates an exception about one request of a generation call (its index in the call's list). */
  public LlamaBridgeException(Reason reason, String message, int request, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.request = request;
  }

  /** Creates an exception with a reason, message and cause. */
  public LlamaBridgeException(Reason reason, String message, Throwable cause) {
    this(reason, message, -1, cause);
  }

  /** The index of the generation request that failed, or -1 when the failure is not one's. */
  public int request() {
    return request;
  }

  /** Why the operation failed. */
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
