package dev.amalgam.kernels.jni;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * Loads the optional CUDA library (libamalgam_cuda.so) once per JVM and attaches it to the native
 * kernels (amalgam.h contract point 10), or remembers why not.
 *
 * <p>The CUDA library links the CUDA runtime statically and nothing of NVIDIA's dynamically, so it
 * loads on any machine; only its first CUDA call looks for the driver. It is found beside
 * libamalgam.so: in the directory that {@value NativeLibrary#PATH_PROPERTY} names, else in the jar
 * (or target/classes) next to the CPU library. {@value #DISABLE_PROPERTY}{@code =true} skips it.
 */
public final class CudaLibrary {
  /** Set to true to never load the CUDA library. */
  public static final String DISABLE_PROPERTY = "amalgam.cuda.disable";

  /** Set to false to make the staged CUDA calls finish each piece before the next (no overlap). */
  public static final String PIPELINE_PROPERTY = "amalgam.cuda.pipeline";

  /** Bytes of each pinned staging slot (two per host thread and device; default 32 MiB). */
  public static final String STAGING_PROPERTY = "amalgam.cuda.stagingBytes";

  /** The library's file name. */
  public static final String FILE_NAME = System.mapLibraryName("amalgam_cuda");

  private static final Status STATUS = load();

  private CudaLibrary() {}

  /**
   * The outcome of the one load attempt.
   *
   * @param attached whether the CUDA kernels are attached to the native library
   * @param detail where the library came from, or why it is not attached
   */
  public record Status(boolean attached, String detail) {}

  /** The load attempt's outcome. */
  public static Status status() {
    return STATUS;
  }

  /** True when the CUDA library is loaded and attached (devices may still be absent). */
  public static boolean isAttached() {
    return STATUS.attached();
  }

  /**
   * Where the CUDA library of this build is, if it was built: beside the CPU library in the
   * directory {@value NativeLibrary#PATH_PROPERTY} names, else extracted from the jar.
   */
  public static java.util.Optional<Path> locate() throws IOException {
    String dir = System.getProperty(NativeLibrary.PATH_PROPERTY);
    if (dir != null && !dir.isBlank()) {
      Path p = Paths.get(dir).toAbsolutePath().resolve(FILE_NAME);
      return Files.isRegularFile(p) ? java.util.Optional.of(p) : java.util.Optional.empty();
    }
    String resource = Loader.getPlatform() + "/" + FILE_NAME;
    if (AmalgamNative.class.getResource(resource) == null) return java.util.Optional.empty();
    File cached = Loader.cacheResource(AmalgamNative.class, resource);
    return cached == null ? java.util.Optional.empty() : java.util.Optional.of(cached.toPath());
  }

  private static Status load() {
    if (Boolean.getBoolean(DISABLE_PROPERTY)) {
      return new Status(false, "disabled by -D" + DISABLE_PROPERTY + "=true");
    }
    if (!NativeLibrary.isLoaded()) {
      return new Status(false, "the native kernels are not loaded: " + NativeLibrary.detail());
    }
    try {
      java.util.Optional<Path> path = locate();
      if (path.isEmpty()) {
        return new Status(
            false,
            "this build has no CUDA library ("
                + FILE_NAME
                + " is built only where nvcc was found at build time)");
      }
      // RTLD_GLOBAL, so that the entry symbol can be looked up by name.
      Loader.loadGlobal(path.get().toString());
      Pointer entry = Loader.addressof("amalgam_cuda_entry");
      if (entry == null || entry.isNull()) {
        return new Status(false, path.get() + " does not export amalgam_cuda_entry");
      }
      int status = AmalgamNative.amalgam_cuda_attach(entry.address());
      if (status != 0) {
        return new Status(
            false,
            path.get()
                + " does not match the native kernels ("
                + AmalgamNative.amalgam_status_message(status)
                + "): both must come from one build");
      }
      String detail = path.get().toString();
      if ("false".equalsIgnoreCase(System.getProperty(PIPELINE_PROPERTY))) {
        AmalgamNative.amalgam_cuda_set_pipelining(0);
        detail += " (pipelining off)";
      }
      Long staging = Long.getLong(STAGING_PROPERTY);
      if (staging != null && AmalgamNative.amalgam_cuda_set_staging_bytes(staging) != 0) {
        return new Status(false, "-D" + STAGING_PROPERTY + "=" + staging + ": at least 1 MiB");
      }
      return new Status(true, detail);
    } catch (IOException e) {
      return new Status(false, "cannot extract " + FILE_NAME + ": " + e.getMessage());
    } catch (UnsatisfiedLinkError | SecurityException e) {
      return new Status(false, "cannot load " + FILE_NAME + ": " + e.getMessage());
    } catch (RuntimeException e) {
      return new Status(false, "cannot load " + FILE_NAME + ": " + e);
    }
  }
}
