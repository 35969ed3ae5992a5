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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Loader;

/**
 * Loads the bridge's JNI glue and opens a llama.cpp library in it, once per JVM.
 *
 * <p>Which library, first match wins:
 *
 * <ol>
 *   <li>the system property {@value #LIBRARY_PROPERTY} (the CLI's {@code --llama-lib}), else the
 *       environment variable {@value #LIBRARY_ENV}: a user's own llama.cpp build, given as the path
 *       of its {@code libllama*.so} or as the directory that holds it (with its {@code libggml*.so}
 *       beside it), for example a CUDA build of a supported release;
 *   <li>the directory named by {@value #LIB_PATH_PROPERTY} (java-llama.cpp's own override) holding
 *       a {@code libjllama.so};
 *   <li>the jar entry {@value #JAR_ENTRY} of the binding on the class path (llama.cpp b4916, CPU),
 *       extracted into a fresh private directory {@code amalgam-llama-bridge-*} under
 *       java.io.tmpdir. The directory is deliberately not named {@code llama*}/{@code jllama*}: the
 *       binding deletes such entries of its extraction directory on its first load (docs/formats.md
 *       §6.2). The extracted copy is deleted as soon as it is mapped.
 * </ol>
 *
 * The bridge's version layer recognises the library's release and refuses one it was not built for
 * (docs/formats.md §8.2). The outcome of the first attempt is remembered; a failure is rethrown on
 * every use.
 */
public final class LlamaLibrary {
  /** System property naming a user's llama.cpp library (file or directory). */
  public static final String LIBRARY_PROPERTY = "amalgam.llama.lib";

  /** Environment variable naming a user's llama.cpp library (file or directory). */
  public static final String LIBRARY_ENV = "AMALGAM_LLAMA_LIB";

  /** java-llama.cpp's property naming a directory that holds libjllama.so. */
  static final String LIB_PATH_PROPERTY = "de.kherud.llama.lib.path";

  /** Where the binding's jar carries the Linux x86_64 library. */
  static final String JAR_ENTRY = "de/kherud/llama/Linux/x86_64/libjllama.so";

  private static final int EXPECTED_ABI = 3;
  private static String openedFrom;
  private static String openedFor;
  private static String release;
  private static String description;
  private static LlamaBridgeException failure;

  private LlamaLibrary() {}

  /**
   * Opens the library if needed and describes it in one line, for example {@code llama.cpp b4916
   * (bundled java-llama.cpp 4.2.0 libjllama.so); devices: CPU} or {@code llama.cpp 0.5.0-dev (ggml
   * 0.25.1 0ad4a86); devices: CPU, CUDA0 (/opt/llama/libllama.so)}.
   *
   * @throws LlamaBridgeException LIBRARY_UNAVAILABLE when no supported library can be opened
   */
  public static synchronized String describe() {
    ensureOpen(false);
    return description;
  }

  /** The supported release the opened library matched ("b4916" or "0.5.0"); opens it if needed. */
  public static synchronized String release() {
    ensureOpen(false);
    return release;
  }

  /**
   * The opened library's compute devices other than the CPU (for example {@code CUDA0}); empty for
   * a CPU-only build. Opens the library if needed.
   */
  public static synchronized List<String> gpuDevices() {
    ensureOpen(false);
    int at = description.indexOf("; devices: ");
    if (at < 0) return List.of();
    String list = description.substring(at + "; devices: ".length());
    List<String> gpus = new ArrayList<>();
    for (String device : list.split(",\\s*")) {
      if (!device.isBlank() && !device.strip().startsWith("CPU")) gpus.add(device.strip());
    }
    return List.copyOf(gpus);
  }

  /**
   * Opens the library (first call) or re-applies the verbosity; throws the remembered failure
   * otherwise.
   */
  static synchronized void ensureOpen(boolean verbose) {
    if (failure != null) throw failure;
    if (openedFrom != null && !openedFor.equals(requested())) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          "this process already uses "
              + openedFrom
              + "; it cannot also open "
              + requested()
              + " (one llama.cpp library per process)");
    }
    if (openedFrom != null) {
      LlamaNative.amalgam_llama_open_library(cString(openedFrom), verbose ? 1 : 0);
      return;
    }
    try {
      openedFor = requested();
      openedFrom = open(verbose);
      String[] text = readDescription();
      release = text[0];
      boolean bundled = openedFrom.contains("amalgam-llama-bridge-");
      String source =
          bundled ? " (bundled java-llama.cpp 4.2.0 libjllama.so)" : " (" + openedFrom + ")";
      int devices = text[1].indexOf("; devices: ");
      description =
          devices < 0
              ? text[1] + source
              : text[1].substring(0, devices) + source + text[1].substring(devices);
    } catch (LlamaBridgeException e) {
      failure = e;
      throw e;
    }
  }

  /**
   * The user's choice of library ({@value #LIBRARY_PROPERTY}, else {@value #LIBRARY_ENV}), or "".
   */
  private static String requested() {
    String own = System.getProperty(LIBRARY_PROPERTY);
    if (own == null || own.isBlank()) own = System.getenv(LIBRARY_ENV);
    return own == null || own.isBlank() ? "" : own;
  }

  /** Path of the opened library, for messages. */
  static synchronized String openedFrom() {
    return openedFrom;
  }

  private static String[] readDescription() {
    byte[] buffer = new byte[1024];
    int[] length = new int[1];
    int status = LlamaNative.amalgam_llama_library_description(buffer, buffer.length, length);
    if (status != 0 && length[0] > buffer.length) {
      buffer = new byte[length[0]];
      status = LlamaNative.amalgam_llama_library_description(buffer, buffer.length, length);
    }
    if (status != 0) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          "cannot describe the llama library: " + LlamaNative.amalgam_llama_last_error());
    }
    String text = new String(buffer, 0, length[0], StandardCharsets.UTF_8);
    int newline = text.indexOf('\n');
    return new String[] {text.substring(0, newline), text.substring(newline + 1)};
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
    String own = System.getProperty(LIBRARY_PROPERTY);
    String ownFrom = "-D" + LIBRARY_PROPERTY + " / --llama-lib";
    if (own == null || own.isBlank()) {
      own = System.getenv(LIBRARY_ENV);
      ownFrom = LIBRARY_ENV;
    }
    if (own != null && !own.isBlank()) {
      Path lib = userLibrary(Path.of(own).toAbsolutePath().normalize(), ownFrom);
      openNative(lib, verbose);
      return lib.toString();
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

  /**
   * The llama library a user named: the file itself, or in a directory {@code libllama.so}, else
   * the one {@code libllama.so.*} or {@code libllama.v*.so} there, else {@code libjllama.so}.
   */
  static Path userLibrary(Path given, String from) {
    if (Files.isRegularFile(given)) return given;
    if (!Files.isDirectory(given)) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE, given + " (set by " + from + ") does not exist");
    }
    Path plain = given.resolve("libllama.so");
    if (Files.isRegularFile(plain)) return plain;
    List<Path> versioned = new ArrayList<>();
    try (Stream<Path> list = Files.list(given)) {
      list.filter(
              p -> {
                String name = p.getFileName().toString();
                return name.startsWith("libllama.so.")
                    || (name.startsWith("libllama.v") && name.endsWith(".so"));
              })
          .sorted()
          .forEach(versioned::add);
    } catch (IOException e) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE, "cannot list " + given + " (set by " + from + "): " + e, e);
    }
    if (!versioned.isEmpty()) return versioned.get(0);
    Path binding = given.resolve("libjllama.so");
    if (Files.isRegularFile(binding)) return binding;
    throw new LlamaBridgeException(
        Reason.LIBRARY_UNAVAILABLE,
        given
            + " (set by "
            + from
            + ") holds no libllama.so, libllama.so.*, libllama.v*.so or libjllama.so");
  }

  private static void openNative(Path lib, boolean verbose) {
    int status = LlamaNative.amalgam_llama_open_library(cString(lib.toString()), verbose ? 1 : 0);
    if (status != 0) {
      throw new LlamaBridgeException(
          Reason.LIBRARY_UNAVAILABLE,
          "cannot use " + lib + ": " + LlamaNative.amalgam_llama_last_error());
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
