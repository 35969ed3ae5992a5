package dev.amalgam.diagnostic;

/**
 * The common base of every exception Amalgam throws on purpose. Each says whose fault the failure
 * is ({@link #failureReason()}), which tells a user what to do next and gives the command line its
 * exit code: 2 for bad input, 1 for the environment. The exceptions differ in what else they carry
 * (a YAML path, a file and a format rule, a llama.cpp status), and some are checked {@link
 * java.io.IOException}s while others are unchecked, so the base is this interface: {@code catch
 * (RuntimeException | IOException e)} then {@code e instanceof Failure}.
 */
public interface Failure {
  /** Whether the input or the environment is at fault. */
  FailureReason failureReason();

  /** The one-line message, naming the file, the tensor or the YAML path at fault. */
  String getMessage();

  /** Whether a different input would succeed: a bad option, configuration, file or model. */
  default boolean isBadInput() {
    return failureReason() == FailureReason.BAD_INPUT;
  }
}
