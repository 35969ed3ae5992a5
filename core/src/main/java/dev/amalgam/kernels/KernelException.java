package dev.amalgam.kernels;

/** A native kernel returned a failure status; it carries the status and the library's message for it. */
public final class KernelException extends RuntimeException {
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
}
