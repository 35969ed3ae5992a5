package dev.amalgam.kernels;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;

/**
 * A requested CUDA device cannot be used: this build has no CUDA library, the machine has no driver
 * or no such device, or the device has too little free memory. The message says which.
 */
public final class DeviceUnavailableException extends RuntimeException implements Failure {
  private static final long serialVersionUID = 1L;

  /** An exception with the given one-line message. */
  public DeviceUnavailableException(String message) {
    super(message);
  }

  @Override
  public FailureReason failureReason() {
    return FailureReason.ENVIRONMENT;
  }
}
