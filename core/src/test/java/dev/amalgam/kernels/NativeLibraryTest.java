package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.kernels.jni.NativeLibrary;
import org.junit.jupiter.api.Test;

/**
 * CI must prove the native kernels load on its own machine: the build sets
 * amalgam.test.requireNative.
 */
class NativeLibraryTest {
  @Test
  void nativeLibraryLoadsWhereTheBuildCompiledIt() {
    boolean required =
        Boolean.parseBoolean(System.getProperty("amalgam.test.requireNative", "false"));
    if (required) {
      assertTrue(
          NativeLibrary.isLoaded(), "native kernels must load here: " + NativeLibrary.detail());
    }
    assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.detail());
    try (Kernels k = Kernels.best(2)) {
      assertTrue(k.isNative(), k.description());
      assertEquals(2, k.threads());
    }
  }
}
