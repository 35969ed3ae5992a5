package dev.amalgam.cli;

import dev.amalgam.eval.llama.LlamaBridgeException;
import dev.amalgam.eval.llama.LlamaLibrary;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --llama-lib}: which llama.cpp library the commands that run models use. */
final class LlamaLibraryOption {
  @Option(
      names = "--llama-lib",
      paramLabel = "PATH",
      description =
          "Your own llama.cpp build instead of the bundled CPU one (b4916): a directory holding"
              + " libllama*.so with its libggml*.so, or that file; supported releases b4916 and"
              + " 0.5.0 (README: GPU). Default: $AMALGAM_LLAMA_LIB.")
  Path library;

  /** Makes the choice before any model is opened. */
  void apply() {
    if (library != null) System.setProperty(LlamaLibrary.LIBRARY_PROPERTY, library.toString());
  }

  /**
   * Says which llama.cpp runs when it is the user's own build, and notes that {@code --gpu-layers}
   * has no effect when the library has no GPU device. A library that cannot be opened is left to
   * the command, which reports it.
   */
  static void describe(int gpuLayers, PrintWriter err) {
    String own = System.getProperty(LlamaLibrary.LIBRARY_PROPERTY);
    if (own == null || own.isBlank()) own = System.getenv(LlamaLibrary.LIBRARY_ENV);
    if ((own == null || own.isBlank()) && gpuLayers <= 0) return;
    String description;
    try {
      description = LlamaLibrary.describe();
    } catch (LlamaBridgeException e) {
      return;
    }
    if (own != null && !own.isBlank()) err.println("amalgam: using " + description);
    if (gpuLayers > 0 && LlamaLibrary.gpuDevices().isEmpty()) {
      err.println(
          "amalgam: note: this llama.cpp has no GPU device, --gpu-layers "
              + gpuLayers
              + " is ignored; point --llama-lib (or AMALGAM_LLAMA_LIB) at a CUDA build of llama.cpp"
              + " (README: GPU)");
    }
    err.flush();
  }
}
