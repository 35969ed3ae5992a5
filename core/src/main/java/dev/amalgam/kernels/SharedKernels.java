package dev.amalgam.kernels;

/**
 * Holder of {@link Kernels#shared()}: initialised on first use, by the JVM's thread-safe class
 * initialisation.
 */
final class SharedKernels {
  static final Kernels INSTANCE = Kernels.best(1);

  private SharedKernels() {}
}
