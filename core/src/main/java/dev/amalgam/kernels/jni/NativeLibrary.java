package dev.amalgam.kernels.jni;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;
import org.bytedeco.javacpp.Loader;

/**
 * Loads the native kernels once per JVM and remembers why not, if they could not be loaded.
 *
 * <p>Order: if the system property {@value #PATH_PROPERTY} names a directory, the two libraries are
 * loaded from there and nothing else is tried (whoever sets it knows better); otherwise JavaCPP
 * extracts them from the jar (or finds them in target/classes). {@value #DISABLE_PROPERTY}{@code
 * =true} skips loading entirely.
 */
public final class NativeLibrary {
  /**
   * Directory holding libjniAmalgamNative.so and libamalgam.so, overriding the copies in the jar.
   */
  public static final String PATH_PROPERTY = "amalgam.native.path";

  /** Set to true to run on the Java kernels without trying the native library. */
  public static final String DISABLE_PROPERTY = "amalgam.native.disable";

  private static final int EXPECTED_ABI = 7;
  private static final Status STATUS = load();

  private NativeLibrary() {}

  /** The outcome of the one load attempt. */
  public record Status(boolean loaded, String detail) {}

  /** True when the native kernels are usable. */
  public static boolean isLoaded() {
    return STATUS.loaded();
  }

  /** Why the library is or is not available: its origin, or the failure. */
  public static String detail() {
    return STATUS.detail();
  }

  /** The load failure, if any. */
  public static Optional<String> failure() {
    return STATUS.loaded() ? Optional.empty() : Optional.of(STATUS.detail());
  }

  private static Status load() {
    if (Boolean.getBoolean(DISABLE_PROPERTY)) {
      return new Status(false, "disabled by -D" + DISABLE_PROPERTY + "=true");
    }
    String origin;
    try {
      String dir = System.getProperty(PATH_PROPERTY);
      if (dir != null && !dir.isBlank()) {
        Path base = Paths.get(dir).toAbsolutePath();
        Path kernels = base.resolve(System.mapLibraryName("amalgam"));
        Path glue = base.resolve(System.mapLibraryName("jniAmalgamNative"));
        for (Path p : new Path[] {kernels, glue}) {
          if (!Files.isRegularFile(p)) {
            return new Status(false, p + " not found (set by -D" + PATH_PROPERTY + ")");
          }
        }
        Loader.load(org.bytedeco.javacpp.Pointer.class); // JavaCPP's own natives (jnijavacpp)
        System.load(kernels.toString());
        System.load(glue.toString());
        origin = base.toString();
      } else {
        origin = Loader.load(AmalgamNative.class);
      }
      int abi = AmalgamNative.amalgam_abi_version();
      if (abi != EXPECTED_ABI) {
        return new Status(
            false, "native ABI version " + abi + " at " + origin + ", expected " + EXPECTED_ABI);
      }
      return new Status(true, origin);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError | SecurityException e) {
      return new Status(
          false,
          "cannot load the native kernels ("
              + e.getMessage()
              + "); set -D"
              + PATH_PROPERTY
              + "=DIR to point at libamalgam.so and libjniAmalgamNative.so");
    } catch (RuntimeException e) {
      // JavaCPP reports unsupported platforms and extraction failures as runtime exceptions.
      return new Status(false, "cannot load the native kernels: " + e);
    }
  }
}
