package dev.amalgam.eval.llama;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.eval.llama.jni.LlamaNative;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Locale;
import org.bytedeco.javacpp.Loader;

/**
 * Loads the bridge's JNI glue and opens java-llama.cpp's {@code libjllama.so} in it, once per JVM.
 *
 * <p>Which libjllama.so: the directory named by {@value #LIB_PATH_PROPERTY} (java-llama.cpp's own
 * override, so a CUDA build serves both the bridge and generation), else the jar entry {@value
 * #JAR_ENTRY} of the binding on the class path, extracted into a fresh private directory {@code
 * amalgam-llama-bridge-*} under java.io.tmpdir. The directory is deliberately not named {@code
 * llama*}/{@code jllama*}: the binding deletes such entries of its extraction directory on its
 * first load (docs/formats.md §6.2). The extracted copy is deleted as soon as it is mapped. The
 * outcome of the first attempt is remembered; a failure is rethrown on every use.
 */
final class LlamaLibrary {
  /** java-llama.cpp's property naming a directory that holds libjllama.so. */
  static final String LIB_PATH_PROPERTY = "de.kherud.llama.lib.path";

  /** Where the binding's jar carries the Linux x86_64 library. */
  static final String JAR_ENTRY = "de/kherud/llama/Linux/x86_64/libjllama.so";

  private static final int EXPECTED_ABI = 2;
  private static String openedFrom;
  private static LlamaBridgeException failure;

  private LlamaLibrary() {}

  /**
   * Opens the library (first call) or re-applies the verbosity; throws the remembered failure
   * otherwise.
   */
  static synchronized void ensureOpen(boolean verbose) {
    if (failure != null) throw failure;
    if (openedFrom != null) {
      LlamaNative.amalgam_llama_open_library(cString(openedFrom), verbose ? 1 : 0);
      return;
    }
    try {
      openedFrom = open(verbose);
    } catch (LlamaBridgeException e) {
      failure = e;
      throw e;
    }
  }

  /** Path of the opened libjllama.so, for messages. */
  static synchronized String openedFrom() {
    return openedFrom;
  }

  private static String open(boolean verbose) {
    try {
      Loader.load(LlamaNative.class);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError | RuntimeException e) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          "cannot load the llama bridge (libjniLlamaNative.so, libamalgam_llama.so): "
              + e.getMessage()
              + "; it is built for linux-x86_64 by the Maven build (not with -Damalgam.native.skip=true)",
          e);
    }
    int abi = LlamaNative.amalgam_llama_abi_version();
    if (abi != EXPECTED_ABI) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          "llama bridge ABI version " + abi + ", expected " + EXPECTED_ABI);
    }
    String dir = System.getProperty(LIB_PATH_PROPERTY);
    if (dir != null && !dir.isBlank()) {
      Path lib = Path.of(dir).toAbsolutePath().resolve("libjllama.so");
      if (!Files.isRegularFile(lib)) {
        throw new LlamaBridgeException(
            Reason.LIBRARY_UNAVAILABLE,
            lib + " not found (directory set by -D" + LIB_PATH_PROPERTY + ")");
      }
      openNative(lib, verbose);
      return lib.toString();
    }
    Path extracted = extract();
    try {
      openNative(extracted, verbose);
      return extracted.toString();
    } finally {
      // The mapping outlives the file; nothing is left behind in the temporary directory.
      try {
        Files.deleteIfExists(extracted);
        Files.deleteIfExists(extracted.getParent());
      } catch (IOException ignored) {
        // deleteOnExit below covers it
      }
    }
  }

  private static void openNative(Path lib, boolean verbose) {
    int status = LlamaNative.amalgam_llama_open_library(cString(lib.toString()), verbose ? 1 : 0);
    if (status != 0) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          "cannot open " + lib + ": " + LlamaNative.amalgam_llama_last_error());
    }
  }

  private static Path extract() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          "the llama bridge supports linux-x86_64 only (this is " + os + "/" + arch + ")");
    }
    ClassLoader loader = LlamaLibrary.class.getClassLoader();
    URL entry = loader == null ? null : loader.getResource(JAR_ENTRY);
    if (entry == null) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          JAR_ENTRY
              + " not on the class path: add de.kherud:llama:4.2.0 or set -D"
              + LIB_PATH_PROPERTY
              + "=DIR");
    }
    try {
      Path dir = Files.createTempDirectory("amalgam-llama-bridge-");
      dir.toFile().deleteOnExit();
      Path target = dir.resolve("libjllama.so");
      target.toFile().deleteOnExit();
      try (InputStream in = entry.openStream()) {
        Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
      }
      return target;
    } catch (IOException e) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          "cannot extract " + JAR_ENTRY + " into a temporary directory: " + e,
          e);
    }
  }

  /** NUL-terminated UTF-8 bytes for a C string argument. */
  static byte[] cString(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    return Arrays.copyOf(bytes, bytes.length + 1);
  }
}
