package dev.amalgam.kernels;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;

/**
 * A native kernel returned a failure status; it carries the status and the library's message for
 * it.
 */
public final class KernelException extends RuntimeException implements Failure {
  private static final long serialVersionUID = 1L;
  private final int status;

  /** Creates the exception for a native status code. */
  public KernelException(String operation, int status, String message) {
    super(operation + " failed: " + message + " (status " + status + ")");
    this.status = status;
  }

  /** The amalgam_status value. */
  public int status() {
    return status;
  }

  /**
   * The environment: the native library refused a call that Java validated (a defect or a broken
   * build).
   */
  @Override
  public FailureReason failureReason() {
    return FailureReason.ENVIRONMENT;
  }
}
