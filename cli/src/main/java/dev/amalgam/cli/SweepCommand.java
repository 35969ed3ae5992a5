package dev.amalgam.cli;

import dev.amalgam.eval.harness.Generator;
import dev.amalgam.kernels.Device;
import dev.amalgam.sweep.Executor;
import dev.amalgam.sweep.LocalExecutor;
import dev.amalgam.sweep.PointResult;
import dev.amalgam.sweep.SlurmExecutor;
import dev.amalgam.sweep.Sweep;
import dev.amalgam.sweep.SweepOutcome;
import dev.amalgam.sweep.SweepReader;
import dev.amalgam.sweep.SweepSpec;
import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam sweep SWEEP.yml --out DIR}: merges the models at every grid point, evaluates every
 * merge and the input models on the suite, refines the grid, and writes results.jsonl, report.md,
 * report.html and the charts with a recommended merge. Every step is cached, so a rerun resumes.
 */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs a merge-and-evaluate sweep: every grid point of the sweep file is merged and evaluated (the input"
          + " models too, as reference points), up to refine: N points are added where the trade-off changes"
          + " most, and DIR gets results.jsonl, report.md, report.html, the charts and a recommended merge.",
      "Every merge and evaluation is cached under a content key, so a rerun skips what is done."
    })
final class SweepCommand implements Callable<Integer> {
  /** Test seam: how prompts become completions. */
  static Generator generator = Generator.IN_PROCESS;

  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "SWEEP.yml",
      description = "The sweep file (see README, Sweeps).")
  Path file;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Output folder (default: sweep-<file stem>); an existing one is resumed.")
  Path out;

  @Option(
      names = "--dry-run",
      description = "Print the plan (grid, merges, evaluations, disk) and stop.")
  boolean dryRun;

  @Option(
      names = "--estimate",
      description =
          "With the plan, time one merge and a few examples of each task and estimate the wall time.")
  boolean estimate;

  @Option(
      names = "--executor",
      paramLabel = "local|slurm",
      defaultValue = "local",
      description = "Run the points here, or as a Slurm job array (default: ${DEFAULT-VALUE}).")
  String executor;

  @Option(
      names = "--point",
      paramLabel = "I",
      description = "Run only point I of DIR/plan.json (what each Slurm array task runs).")
  Integer point;

  @Option(
      names = "--device",
      paramLabel = "DEVICE",
      defaultValue = "cpu",
      description =
          "Where the merges run: cpu, cuda, cuda:N or auto (as merge --device; Slurm tasks get the"
              + " same). Default: ${DEFAULT-VALUE}.")
  String device;

  @Option(names = "--no-progress", description = "No progress lines.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Device mergeDevice = MergeCommand.parseDevice(device);
    List<String> warnings = new ArrayList<>();
    SweepSpec sweepSpec = SweepReader.read(file, warnings);
    warnings.forEach(w -> err.println("amalgam: warning: " + w));
    String kind = executor.toLowerCase(Locale.ROOT);
    if (!kind.equals("local") && !kind.equals("slurm")) {
      throw new Main.InvalidInputException(
          "--executor must be local or slurm, got '" + executor + "'");
    }
    Path dir = out != null ? out : Path.of("sweep-" + sweepSpec.name());
    try (Sweep sweep =
        new Sweep(
            sweepSpec,
            dir,
            generator,
            line -> {
              if (!noProgress) {
                err.println("amalgam: " + line);
                err.flush();
              }
            },
            w -> {
              err.println("amalgam: warning: " + w);
              err.flush();
            })) {
      sweep.mergeDevice(mergeDevice);
      if (point != null) {
        sweep.runPoint(point);
        return 0;
      }
      if (dryRun || estimate) {
        stdout.print(sweep.describePlan());
        if (estimate) {
          stdout.flush();
          stdout.print(sweep.estimate());
        }
        stdout.flush();
        return 0;
      }
      Executor chosen = kind.equals("slurm") ? new SlurmExecutor(launcher()) : new LocalExecutor();
      SweepOutcome outcome = sweep.run(chosen);
      stdout.printf(
          Locale.ROOT,
          "sweep %s: %d points; merges run: %d, evaluations run: %d%s%n",
          sweepSpec.name(),
          outcome.results().size(),
          sweep.mergesRun(),
          sweep.evaluationsRun(),
          sweep.pointsRunElsewhere() > 0
              ? ", points run as Slurm tasks: " + sweep.pointsRunElsewhere()
              : "");
      if (outcome.recommendation().point().isPresent()) {
        PointResult r = outcome.recommendation().point().get();
        stdout.printf(
            Locale.ROOT,
            "recommended: %s (clinical %.4f, instruction following %.4f)%n",
            r.point().label(),
            r.clinical().value(),
            r.instruction().value());
      } else {
        stdout.println("recommended: none (" + outcome.recommendation().reason() + ")");
      }
      stdout.println("report: " + sweep.outDir().resolve("report.html"));
      return 0;
    }
  }

  /** This JVM's java and class path running the CLI's main class: what Slurm tasks run. */
  static List<String> launcher() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java));
    String library = System.getProperty("de.kherud.llama.lib.path");
    if (library != null) command.add("-Dde.kherud.llama.lib.path=" + library);
    command.addAll(List.of("-cp", absoluteClassPath(), Main.class.getName()));
    return command;
  }

  private static String absoluteClassPath() {
    List<String> parts = new ArrayList<>();
    for (String p : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!p.isEmpty()) parts.add(Path.of(p).toAbsolutePath().toString());
    }
    return String.join(File.pathSeparator, parts);
  }
}
