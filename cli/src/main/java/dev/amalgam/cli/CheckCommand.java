package dev.amalgam.cli;

import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.merge.plan.MergePlanner;
import dev.amalgam.merge.plan.OutputSpec;
import dev.amalgam.merge.plan.PlannedInput;
import dev.amalgam.merge.plan.TensorTask;
import dev.amalgam.tensor.TensorInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam check CONFIG}: everything {@code merge} validates before it reads a tensor (the
 * YAML, the method and its parameters, every input's header, tensor sets and shapes, every
 * parameter value for every tensor), then the plan: output tensors with their type, shape and the
 * method's resolved parameters. Reads no tensor data.
 */
@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = {
      "Validates a merge configuration and its inputs without reading any tensor data, then prints the"
          + " plan: every output tensor with its dtype, shape and resolved parameters, and the layer count.",
      "Exit code 0 when the merge would run, 2 with one line naming the YAML path or file otherwise."
    })
final class CheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "CONFIG",
      description = "Merge configuration (mergekit YAML).")
  Path config;

  @Option(
      names = "--out-format",
      paramLabel = "FORMAT",
      description = "Plan for an hf or gguf output (default hf).")
  String outFormat;

  @Option(names = "--out-type", paramLabel = "TYPE", description = "GGUF tensor type to plan for.")
  String outType;

  @Option(
      names = "--random-seed",
      paramLabel = "N",
      defaultValue = "0",
      description = "Seed, as for merge.")
  long randomSeed;

  @Option(names = "--allow-crimes", description = "Accept different architectures, as for merge.")
  boolean allowCrimes;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    OutputSpec output =
        MergeCommand.outputSpec(outFormat == null ? "hf" : outFormat, outType, Path.of("out"));
    MergeConfig cfg = ConfigReader.read(config, Path.of("").toAbsolutePath());
    try (MergePlan plan = MergePlanner.plan(cfg, output, randomSeed, allowCrimes)) {
      plan.warnings().forEach(w -> err.println("amalgam: warning: " + w));
      out.printf(
          Locale.ROOT,
          "%s: ok. Method %s (%s), %d input%s, output %s with %d layers, %d tensors, %s%n",
          config,
          plan.method().name(),
          plan.method().displayName(),
          plan.inputs().size(),
          plan.inputs().size() == 1 ? "" : "s",
          output.format(),
          plan.layerCount(),
          plan.tasks().size(),
          Sizes.format(plan.outputBytes()));
      for (PlannedInput in : plan.inputs()) {
        out.printf(
            Locale.ROOT,
            "  input %d%s: %s (%s)%n",
            in.index(),
            in.isBase() ? " (base)" : "",
            in.label(),
            in.gguf().isPresent() ? "GGUF" : "Hugging Face");
      }
      out.printf(Locale.ROOT, "%-55s %-5s %-16s %s%n", "tensor", "dtype", "shape", "operation");
      for (int i = 0; i < plan.tasks().size(); i++) {
        TensorTask t = plan.tasks().get(i);
        TensorInfo o = t.output();
        int index = i;
        String type = plan.gguf().map(g -> g.types().get(index).name()).orElse(o.dtype().name());
        out.printf(
            Locale.ROOT,
            "%-55s %-5s %-16s %s%n",
            o.name(),
            type,
            o.shapeString(),
            t.operation().describe());
      }
    }
    return 0;
  }
}
