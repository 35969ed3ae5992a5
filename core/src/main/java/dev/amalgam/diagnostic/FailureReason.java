package dev.amalgam.diagnostic;

/** Whose fault a {@link Failure} is. */
public enum FailureReason {
  /**
   * The input: an option, a configuration, a model or data file, a prompt. The user fixes it and
   * runs again; the command line exits with 2.
   */
  BAD_INPUT,
  /**
   * The environment: an I/O error, a full disk, a missing or incompatible native library, a
   * llama.cpp failure. The command line exits with 1.
   */
  ENVIRONMENT
}
