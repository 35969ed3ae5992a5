package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertAll;

import dev.amalgam.kernels.KernelTestSupport.Impl;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.function.Executable;

/**
 * Base of the tests that hold every kernel implementation: opened once per test class, closed after
 * it.
 */
abstract class EveryImplementationTest {
  /** The Java kernels and every native ISA path here, each with 1 and 2 threads. */
  static List<Impl> impls;

  @BeforeAll
  static void openImplementations() {
    impls = KernelTestSupport.implementations();
  }

  @AfterAll
  static void closeImplementations() {
    KernelTestSupport.closeAll(impls);
    impls = null;
  }

  /** Runs {@code check} on every implementation, reporting every failure, not just the first. */
  static void onEveryImpl(Consumer<Impl> check) {
    List<Executable> all = new ArrayList<>();
    for (Impl impl : impls) all.add(() -> check.accept(impl));
    assertAll(all);
  }
}
