package dev.amalgam.cli;

import dev.amalgam.convert.ModelConverter;
import dev.amalgam.convert.ModelFormats;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.gguf.GgmlType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam convert SRC DST}: Llama-family models between Hugging Face and GGUF, or GGUF to
 * another type.
 */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Converts a Llama-family model: Hugging Face directory -> GGUF file, GGUF -> Hugging Face"
          + " directory, or GGUF -> GGUF with another tensor type.",
      "DST is a GGUF file when its name ends in .gguf, otherwise a directory. The output appears only when"
          + " complete."
    })
final class ConvertCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "SRC",
      description = "Hugging Face model directory or GGUF file.")
  Path source;

  @Parameters(index = "1", paramLabel = "DST", description = "Output: NAME.gguf, or a directory.")
  Path target;

  @Option(
      names = "--type",
      paramLabel = "TYPE",
      description =
          "Tensor type: f32, f16, bf16 or q8_0 (GGUF only)."
              + " Default: keep each tensor's type (GGUF -> GGUF copies byte for byte). Vectors and norms stay F32 in"
              + " GGUF, as llama.cpp expects.")
  String type;

  @Option(
      names = {"-j", "--threads"},
      paramLabel = "N",
      description = "Kernel threads (default: all processors).")
  int threads;

  @Option(names = "--no-progress", description = "Do not draw a progress bar.")
  boolean noProgress;

  @Option(
      names = "--no-fsync",
      description = "Do not flush the output to disk before renaming it into place.")
  boolean noFsync;

  @Option(
      names = "--force",
      description = "Replace DST if it exists (only once the new one is complete).")
  boolean force;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!Files.exists(source))
      throw new Main.InvalidInputException("no such file or directory: " + source);
    if (threads < 0)
      throw new Main.InvalidInputException("--threads must be 0 or more, got " + threads);
    Optional<GgmlType> t = Optional.ofNullable(type).map(ConvertCommand::parseType);
    if (ModelFormats.detect(source) == ModelFormats.Format.HF
        && !ModelFormats.isGgufPath(target)
        && t.isEmpty()) {
      throw new Main.InvalidInputException(
          "both sides are Hugging Face checkpoints and no --type is given: nothing"
              + " to convert (name the output NAME.gguf for GGUF)");
    }
    if (!ModelFormats.isGgufPath(target) && t.filter(GgmlType::isQuantized).isPresent()) {
      throw new Main.InvalidInputException(
          "--type "
              + type
              + " needs a GGUF output (a name ending in .gguf);"
              + " Hugging Face checkpoints hold f32, f16 or bf16");
    }
    if (Files.exists(target) && !force) {
      throw new Main.InvalidInputException(
          target + ": already exists; choose another name or pass --force");
    }
    // Collected, not printed as they come: a line printed under the progress bar would break it.
    List<String> warnings = new ArrayList<>();
    ModelConverter.Options.Builder options =
        ModelConverter.Options.builder()
            .type(t)
            .threads(threads)
            .overwrite(force)
            .sync(!noFsync)
            .warnings(WarningListener.collectingInto(warnings));
    boolean progress = !noProgress && System.console() != null;
    ModelConverter.Result r;
    try (MergeCommand.ConsoleProgress bar =
        progress ? new MergeCommand.ConsoleProgress("convert") : null) {
      if (bar != null) options.progress(bar);
      r = ModelConverter.convert(source, target, options.build());
    } catch (IllegalArgumentException e) {
      throw new Main.InvalidInputException(e.getMessage());
    }
    warnings.forEach(w -> err.println("amalgam: warning: " + w));
    out.printf(
        Locale.ROOT,
        "converted %d tensors %s -> %s: wrote %s in %.2f s -> %s%n",
        r.tensors(),
        r.from(),
        r.to(),
        Sizes.format(r.bytesWritten()),
        r.seconds(),
        r.target());
    return 0;
  }

  static GgmlType parseType(String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "f32", "float32" -> GgmlType.F32;
      case "f16", "float16" -> GgmlType.F16;
      case "bf16", "bfloat16" -> GgmlType.BF16;
      case "q8_0" -> GgmlType.Q8_0;
      default ->
          throw new Main.InvalidInputException(
              "unknown type '" + value + "'; use f32, f16, bf16 or q8_0");
    };
  }
}
