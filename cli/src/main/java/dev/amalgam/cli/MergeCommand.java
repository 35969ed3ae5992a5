package dev.amalgam.cli;

import dev.amalgam.convert.ModelFormats;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.ProgressListener;
import dev.amalgam.kernels.Device;
import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.plan.MergeExecutor;
import dev.amalgam.merge.plan.MergeOptions;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.merge.plan.MergePlanner;
import dev.amalgam.merge.plan.MergeResult;
import dev.amalgam.merge.plan.NonFiniteCount;
import dev.amalgam.merge.plan.NonFinitePolicy;
import dev.amalgam.merge.plan.OutputSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code amalgam merge CONFIG OUT_DIR}: runs a mergekit-style YAML merge into a new model
 * directory.
 */
@Command(
    name = "merge",
    mixinStandardHelpOptions = true,
    description = {
      "Merges the models a mergekit-style YAML configuration names (Hugging Face directories or GGUF"
          + " files, mixed as needed) into OUT.",
      "The whole configuration and every input header is checked before any tensor is read; the output "
          + "appears only when complete."
    })
final class MergeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "CONFIG",
      description = "Merge configuration (mergekit YAML).")
  Path config;

  @Parameters(
      index = "1",
      paramLabel = "OUT",
      description =
          "Output: a model directory, or a GGUF file with"
              + " --out-format gguf (must not exist unless --force).")
  Path output;

  @Option(
      names = "--out-format",
      paramLabel = "FORMAT",
      description =
          "hf (a Hugging Face safetensors directory)"
              + " or gguf (one llama.cpp file). Default: gguf when OUT ends in .gguf, else hf.")
  String outFormat;

  @Option(
      names = "--out-type",
      paramLabel = "TYPE",
      description =
          "GGUF tensor type: bf16, f16, f32 or q8_0"
              + " (vectors and norms stay f32). Default: the merge's dtype.")
  String outType;

  @Option(
      names = {"-j", "--threads"},
      paramLabel = "N",
      description = "Kernel threads (default: all processors).")
  int threads;

  @Option(
      names = "--device",
      paramLabel = "DEVICE",
      defaultValue = "cpu",
      description =
          "Where the kernels run: cpu, cuda (the first usable GPU), cuda:N, or auto (a usable GPU,"
              + " else the CPU, saying which in one line). cuda and cuda:N fail when the GPU is not"
              + " usable. Default: ${DEFAULT-VALUE}.")
  String device;

  @Option(
      names = "--out-shard-size",
      paramLabel = "SIZE",
      converter = SizeConverter.class,
      defaultValue = "5B",
      description =
          "Largest output shard (mergekit units: 5B = 5e9 bytes; also 500M, 2GiB). Default: ${DEFAULT-VALUE}.")
  long shardSize;

  @Option(
      names = "--memory-budget",
      paramLabel = "SIZE",
      converter = SizeConverter.class,
      defaultValue = "1GiB",
      description = "Buffer memory the merge may allocate. Default: ${DEFAULT-VALUE}.")
  long memoryBudget;

  @Option(
      names = "--random-seed",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Seed of the methods that"
              + " draw random numbers (DARE, DELLA): the same seed gives the same bytes at any thread count. Default:"
              + " ${DEFAULT-VALUE}.")
  long randomSeed;

  @Option(
      names = "--copy-tokenizer",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Copy the tokenizer files of the base model (else the first) into a Hugging Face output."
              + " Default: on (--no-copy-tokenizer turns it off).")
  boolean copyTokenizer;

  @Option(
      names = "--write-model-card",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Write README.md (a model card) and amalgam_config.yml into a Hugging Face output. Default: on.")
  boolean writeModelCard;

  @Option(
      names = "--allow-crimes",
      description =
          "Merge models whose config.json names different architectures"
              + " (the base's, else the first's, is used), as mergekit's --allow-crimes.")
  boolean allowCrimes;

  @Option(
      names = "--on-nonfinite",
      paramLabel = "POLICY",
      defaultValue = "warn",
      description =
          "What NaN or infinite values in an input or the output do: error (fail, write nothing),"
              + " warn (merge, and list each affected tensor with its input and counts) or ignore"
              + " (do not count). Default: ${DEFAULT-VALUE}.")
  String onNonFinite;

  @Option(names = "--no-progress", description = "Do not draw a progress bar.")
  boolean noProgress;

  @Option(
      names = "--no-fsync",
      description =
          "Do not flush the shards to disk before renaming the output into "
              + "place (faster; a crash soon after may leave incomplete data).")
  boolean noFsync;

  @Option(
      names = "--force",
      description = "Replace OUT_DIR if it exists (only once the new model is complete).")
  boolean force;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (threads < 0)
      throw new Main.InvalidInputException("--threads must be 0 or more, got " + threads);
    if (memoryBudget < MergeOptions.MIN_MEMORY_BUDGET) {
      throw new Main.InvalidInputException("--memory-budget must be at least 64MiB");
    }
    NonFinitePolicy nonFinitePolicy;
    try {
      nonFinitePolicy = NonFinitePolicy.parse(onNonFinite);
    } catch (IllegalArgumentException e) {
      throw new Main.InvalidInputException("--on-nonfinite: " + e.getMessage());
    }
    Device where = parseDevice(device);
    OutputSpec out = outputSpec(outFormat, outType, output);
    if (out.isGguf() && spec.commandLine().getParseResult().hasMatchedOption("--out-shard-size")) {
      err.println(
          "amalgam: warning: --out-shard-size applies to Hugging Face outputs; a GGUF output is one file");
    }
    MergeConfig cfg = ConfigReader.read(config, Path.of("").toAbsolutePath());
    boolean progress = !noProgress && System.console() != null;
    // Collected, not printed as they come: a line printed under the progress bar would break it.
    List<String> warnings = new ArrayList<>();
    MergeOptions.Builder options =
        MergeOptions.builder()
            .threads(threads)
            .maxShardBytes(shardSize)
            .memoryBudget(memoryBudget)
            .overwrite(force)
            .sync(!noFsync)
            .copyTokenizer(copyTokenizer)
            .writeModelCard(writeModelCard)
            .warnings(WarningListener.collectingInto(warnings))
            .onNonFinite(nonFinitePolicy)
            .device(where)
            .notices(line -> err.println("amalgam: " + line));
    MergeResult result;
    try (MergePlan plan = MergePlanner.plan(cfg, out, randomSeed, allowCrimes)) {
      plan.warnings().forEach(w -> err.println("amalgam: warning: " + w));
      try (ConsoleProgress bar = progress ? new ConsoleProgress() : null) {
        if (bar != null) options.progress(bar);
        result = MergeExecutor.execute(plan, output, options.build());
      }
    }
    warnings.forEach(w -> err.println("amalgam: warning: " + w));
    nonFiniteSummary(result.nonFinite()).forEach(w -> err.println("amalgam: warning: " + w));
    stdout.println(summary(result));
    return 0;
  }

  /** Tensors listed one per line before the rest are counted in one line. */
  static final int NON_FINITE_LINES = 20;

  /**
   * The warning lines for the non-finite values a merge met: a total, then each affected tensor
   * with its input and counts (the first {@link #NON_FINITE_LINES}, then how many more).
   */
  static List<String> nonFiniteSummary(List<NonFiniteCount> counts) {
    if (counts.isEmpty()) return List.of();
    List<String> lines = new ArrayList<>();
    long tensors = counts.stream().map(NonFiniteCount::tensor).distinct().count();
    long total =
        counts.stream()
            .filter(c -> !c.source().equals(NonFiniteCount.OUTPUT))
            .mapToLong(NonFiniteCount::total)
            .sum();
    long output =
        counts.stream()
            .filter(c -> c.source().equals(NonFiniteCount.OUTPUT))
            .mapToLong(NonFiniteCount::total)
            .sum();
    lines.add(
        String.format(
            Locale.ROOT,
            "%d tensor%s met non-finite values: %d in the inputs, %d in the merged output"
                + " (--on-nonfinite error refuses them)",
            tensors,
            tensors == 1 ? "" : "s",
            total,
            output));
    counts.stream().limit(NON_FINITE_LINES).forEach(c -> lines.add("  " + c.describe()));
    if (counts.size() > NON_FINITE_LINES) {
      lines.add("  ... and " + (counts.size() - NON_FINITE_LINES) + " more");
    }
    return lines;
  }

  /** Parses --device, turning a bad value into a usage error. */
  static Device parseDevice(String text) {
    try {
      return Device.parse(text);
    } catch (IllegalArgumentException e) {
      throw new Main.InvalidInputException("--device: " + e.getMessage());
    }
  }

  /** The output the options ask for; a .gguf name implies GGUF. */
  static OutputSpec outputSpec(String format, String type, Path output) {
    boolean gguf;
    if (format == null) {
      gguf = ModelFormats.isGgufPath(output);
    } else {
      switch (format.trim().toLowerCase(Locale.ROOT)) {
        case "hf":
          gguf = false;
          break;
        case "gguf":
          gguf = true;
          break;
        default:
          throw new Main.InvalidInputException(
              "--out-format must be hf or gguf, got '" + format + "'");
      }
    }
    if (!gguf && type != null) {
      throw new Main.InvalidInputException(
          "--out-type applies to GGUF outputs; add --out-format gguf (for a"
              + " Hugging Face output set out_dtype in the configuration)");
    }
    return gguf
        ? OutputSpec.gguf(Optional.ofNullable(type).map(ConvertCommand::parseType))
        : OutputSpec.hf();
  }

  static String summary(MergeResult r) {
    return String.format(
        Locale.ROOT,
        "merged %d tensors: read %s, wrote %s in %.2f s (%.2f GB/s) -> %s [%s]",
        r.tensors(),
        Sizes.format(r.bytesRead()),
        Sizes.format(r.bytesWritten()),
        r.seconds(),
        r.gigabytesPerSecond(),
        r.outputDirectory(),
        r.kernels());
  }

  /** Parses sizes for picocli, turning bad input into a usage error (exit 2). */
  static final class SizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        long bytes = Sizes.parse(value);
        if (bytes <= 0) throw new TypeConversionException("size must be positive: '" + value + "'");
        return bytes;
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** A progress bar by megabytes written, on stderr. */
  static final class ConsoleProgress implements ProgressListener, AutoCloseable {
    private final String task;
    private ProgressBar bar;
    private long bytes;

    ConsoleProgress() {
      this("merge");
    }

    ConsoleProgress(String task) {
      this.task = task;
    }

    @Override
    public void start(long totalBytes) {
      bar =
          new ProgressBarBuilder()
              .setTaskName(task)
              .setInitialMax(Math.max(1, totalBytes / 1_000_000))
              .setUnit(" MB", 1)
              .setStyle(ProgressBarStyle.ASCII)
              .setUpdateIntervalMillis(200)
              .showSpeed()
              .setConsumer(new ConsoleProgressBarConsumer(System.err))
              .build();
    }

    @Override
    public synchronized void advance(long n) {
      bytes += n;
      if (bar != null) bar.stepTo(bytes / 1_000_000);
    }

    @Override
    public void finish() {
      close();
    }

    @Override
    public synchronized void close() {
      if (bar != null) {
        bar.close();
        bar = null;
      }
    }
  }
}
