package dev.amalgam.sweep;

import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.kernels.Device;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Runs the points as one Slurm job array: every point not yet done becomes one array task whose
 * script runs {@code amalgam sweep SWEEP.yml --out DIR --point I} against the same sweep file and
 * cache (shared storage), so finished points are skipped. The parent waits, shows progress from
 * {@code squeue}, and resubmits failed tasks up to {@code slurm.max_retries} times. A task's
 * success is read from the cache (every evaluation of its point is there) and its failure message
 * from the status file it wrote; nothing depends on {@code sacct}, which needs an accounting
 * database.
 */
public final class SlurmExecutor implements Executor {
  private static final Pattern TASK = Pattern.compile("^\\d+_(\\S+)\\s+(\\S+)$");
  private final List<String> launcher;
  private final String sbatch;
  private final String squeue;

  /**
   * Creates the executor.
   *
   * @param launcher the command that runs amalgam on the nodes when the sweep file names none (e.g.
   *     {@code java -cp CLASSPATH dev.amalgam.cli.Main})
   */
  public SlurmExecutor(List<String> launcher) {
    this(launcher, "sbatch", "squeue");
  }

  /** With other sbatch and squeue commands (tests stand in for a cluster with scripts). */
  SlurmExecutor(List<String> launcher, String sbatch, String squeue) {
    this.launcher = List.copyOf(launcher);
    this.sbatch = sbatch;
    this.squeue = squeue;
  }

  @Override
  public String name() {
    return "slurm";
  }

  /** Whether {@code sinfo} answers (a Slurm controller is reachable). */
  public static boolean available() {
    try {
      return run(List.of("sinfo", "-h"), 20).exit() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public List<GridPoint> execute(Sweep sweep, List<GridPoint> points)
      throws IOException, InterruptedException {
    SweepSpec.SlurmSettings settings = sweep.spec().slurm();
    List<GridPoint> todo = new ArrayList<>();
    for (GridPoint p : points) if (!sweep.isDone(p)) todo.add(p);
    if (todo.isEmpty()) {
      sweep.listener().line(points.size() + " points: all cached");
      return List.of();
    }
    Path script = writeScript(sweep);
    for (int attempt = 0; ; attempt++) {
      String job = submit(sweep, script, todo);
      sweep.countPointsRunElsewhere(todo.size());
      sweep
          .listener()
          .line(
              String.format(
                  Locale.ROOT,
                  "submitted Slurm job array %s: %d tasks (points %s)%s",
                  job,
                  todo.size(),
                  indices(todo),
                  attempt == 0 ? "" : ", retry " + attempt + " of " + settings.maxRetries()));
      waitFor(sweep, job, todo, settings.pollSeconds());
      List<GridPoint> failed = new ArrayList<>();
      for (GridPoint p : todo) if (!sweep.isDone(p)) failed.add(p);
      if (failed.isEmpty()) return List.of();
      for (GridPoint p : failed) {
        sweep
            .listener()
            .line(
                "  task "
                    + p.index()
                    + " ("
                    + p.label()
                    + ") failed"
                    + sweep.failureOf(p).map(m -> ": " + m).orElse("")
                    + " (log: "
                    + logDir(sweep).resolve(job + "_" + p.index() + ".out")
                    + ")");
      }
      if (attempt >= settings.maxRetries()) return failed;
      todo = failed;
    }
  }

  private Path writeScript(Sweep sweep) throws IOException {
    List<String> command =
        new ArrayList<>(
            sweep.spec().slurm().launcher() != null ? sweep.spec().slurm().launcher() : launcher);
    command.addAll(
        List.of(
            "sweep",
            sweep.spec().file().toAbsolutePath().toString(),
            "--out",
            sweep.outDir().toString()));
    if (sweep.mergeDevice() != Device.CPU) {
      command.addAll(List.of("--device", sweep.mergeDevice().toString()));
    }
    command.add("--point");
    StringBuilder s = new StringBuilder("#!/bin/bash\n");
    s.append(
        "# One point of the sweep per array task; written by amalgam sweep --executor slurm.\n");
    s.append("set -euo pipefail\n");
    s.append("exec");
    for (String part : command) s.append(' ').append(quote(part));
    s.append(" \"$SLURM_ARRAY_TASK_ID\"\n");
    Path script = sweep.outDir().resolve("slurm").resolve("point.sh");
    SweepCache.write(script, s.toString());
    script.toFile().setExecutable(true);
    Files.createDirectories(logDir(sweep));
    return script;
  }

  private static Path logDir(Sweep sweep) {
    return sweep.outDir().resolve("slurm").resolve("logs");
  }

  private String submit(Sweep sweep, Path script, List<GridPoint> todo) throws IOException {
    SweepSpec.SlurmSettings s = sweep.spec().slurm();
    List<String> command = new ArrayList<>(List.of(sbatch, "--parsable"));
    command.add("--array=" + indices(todo) + (s.parallel() != null ? "%" + s.parallel() : ""));
    command.add("--job-name=amalgam-sweep-" + sweep.spec().name());
    command.add("--output=" + logDir(sweep).resolve("%A_%a.out"));
    if (s.partition() != null) command.add("--partition=" + s.partition());
    if (s.time() != null) command.add("--time=" + s.time());
    if (s.memory() != null) command.add("--mem=" + s.memory());
    if (s.cpus() != null) command.add("--cpus-per-task=" + s.cpus());
    if (s.gres() != null) command.add("--gres=" + s.gres());
    if (s.account() != null) command.add("--account=" + s.account());
    command.addAll(s.extraArgs());
    command.add(script.toString());
    Result r = run(command, 120);
    if (r.exit() != 0) {
      throw new SweepException(
          "sbatch failed (exit " + r.exit() + "): " + oneLine(r.err() + " " + r.out()),
          FailureReason.ENVIRONMENT,
          null);
    }
    String job = r.out().strip().split(";")[0];
    if (!job.matches("\\d+")) {
      throw new SweepException(
          "sbatch printed no job id: " + oneLine(r.out()), FailureReason.ENVIRONMENT, null);
    }
    return job;
  }

  private void waitFor(Sweep sweep, String job, List<GridPoint> todo, double pollSeconds)
      throws IOException, InterruptedException {
    String last = "";
    int errors = 0;
    long start = System.nanoTime();
    long doneAtStart = todo.stream().filter(sweep::isDone).count();
    while (true) {
      Result r = run(List.of(squeue, "-h", "-j", job, "-o", "%i %T"), 60);
      if (r.exit() != 0) {
        if (r.err().contains("Invalid job id")) return;
        if (++errors >= 10) {
          throw new SweepException(
              "squeue keeps failing: " + oneLine(r.err()), FailureReason.ENVIRONMENT, null);
        }
      } else {
        errors = 0;
        int pending = 0;
        int running = 0;
        for (String line : r.out().split("\n")) {
          Matcher m = TASK.matcher(line.strip());
          if (!m.matches()) continue;
          int n = count(m.group(1));
          if (m.group(2).equals("PENDING")) {
            pending += n;
          } else {
            running += n;
          }
        }
        long done = todo.stream().filter(sweep::isDone).count();
        if (pending + running == 0) return;
        String status =
            String.format(
                Locale.ROOT,
                "job %s: %d pending, %d running; %d of %d points done",
                job,
                pending,
                running,
                done,
                todo.size());
        if (!status.equals(last)) {
          double elapsed = (System.nanoTime() - start) / 1e9;
          long finished = done - doneAtStart;
          // The rate so far, over the tasks still to finish (running ones count as half done).
          String left =
              finished > 0
                  ? ", about "
                      + Sweep.duration(
                          elapsed / finished * Math.max(0, todo.size() - done - running / 2.0))
                      + " left"
                  : "";
          sweep.listener().line(status + left);
        }
        last = status;
      }
      Thread.sleep(Math.max(100, (long) (pollSeconds * 1000)));
    }
  }

  /** The number of array tasks in {@code 4} or {@code [5-7,9%2]}. */
  static int count(String tasks) {
    String t = tasks.replace("[", "").replace("]", "");
    int percent = t.indexOf('%');
    if (percent >= 0) t = t.substring(0, percent);
    int n = 0;
    for (String part : t.split(",")) {
      if (part.isBlank()) continue;
      int dash = part.indexOf('-');
      n +=
          dash < 0
              ? 1
              : Integer.parseInt(part.substring(dash + 1))
                  - Integer.parseInt(part.substring(0, dash))
                  + 1;
    }
    return n;
  }

  static String indices(List<GridPoint> points) {
    return points.stream().map(p -> String.valueOf(p.index())).collect(Collectors.joining(","));
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static String oneLine(String s) {
    return s.replaceAll("\\s+", " ").strip();
  }

  private record Result(int exit, String out, String err) {}

  private static Result run(List<String> command, long timeoutSeconds) throws IOException {
    Process p;
    try {
      p = new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw new SweepException(
          command.get(0) + " cannot be run: " + e.getMessage(), FailureReason.ENVIRONMENT, e);
    }
    p.getOutputStream().close();
    try {
      // stderr is drained beside stdout, so neither pipe can fill up and stall the command.
      CompletableFuture<String> err =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return read(p.getErrorStream());
                } catch (IOException e) {
                  return "";
                }
              });
      String out = read(p.getInputStream());
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new SweepException(
            command.get(0) + " did not answer in " + timeoutSeconds + " s",
            FailureReason.ENVIRONMENT,
            null);
      }
      return new Result(p.exitValue(), out, err.join());
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new SweepException(command.get(0) + " was interrupted", FailureReason.ENVIRONMENT, e);
    }
  }

  private static String read(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }
}
