package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.convert.ModelConverter;
import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.eval.harness.Generator;
import dev.amalgam.eval.harness.Progress;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.kernels.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A sweep over one output folder: its plan, the work of each point (merge, evaluate, delete the
 * merged model unless kept), the refinement after the grid, and the results, report and charts at
 * the end. Every merge and evaluation goes through the {@link SweepCache}, so a rerun skips what is
 * done and a killed run resumes.
 *
 * <p>Output folder: {@code plan.json} (the points, read by Slurm array tasks), {@code
 * results.jsonl}, {@code report.md}, {@code report.html}, {@code tradeoff.png/.svg}, {@code
 * metrics.png/.svg}, and {@code cache/} unless the sweep file names another cache.
 */
public final class Sweep implements AutoCloseable {
  /** A temporary file untouched this long was left by a killed run. */
  static final long ABANDONED_AFTER_MILLIS = 3_600_000L;

  private final SweepSpec spec;
  private final Path outDir;
  private final SweepCache cache;
  private final EvaluationStep evaluation;
  private final SweepListener listener;
  private final WarningListener warnings;
  private final Map<Integer, String> modelKeys = new HashMap<>();
  private final Map<Integer, Map<String, String>> evalKeys = new HashMap<>();
  private List<GridPoint> plan;
  private int mergesRun;
  private int evaluationsRun;
  private int pointsRunElsewhere;
  private Device mergeDevice = Device.CPU;

  /**
   * Creates a sweep.
   *
   * @param outDir the output folder (created when the sweep runs)
   * @param generator how prompts become completions ({@link Generator#IN_PROCESS} outside tests)
   * @param listener progress lines
   * @param warnings warnings of the merges and the metric suite
   */
  public Sweep(
      SweepSpec spec,
      Path outDir,
      Generator generator,
      SweepListener listener,
      WarningListener warnings) {
    this.spec = spec;
    this.outDir = outDir.toAbsolutePath().normalize();
    this.cache = new SweepCache(spec.cache() != null ? spec.cache() : this.outDir.resolve("cache"));
    this.evaluation = new EvaluationStep(spec.evaluation(), generator, warnings);
    this.listener = listener;
    this.warnings = warnings;
    this.plan = Grid.expand(spec);
  }

  /**
   * Where the merges run (default {@link Device#CPU}); Slurm tasks get the same {@code --device}.
   *
   * @return this sweep
   */
  public Sweep mergeDevice(Device device) {
    this.mergeDevice = java.util.Objects.requireNonNull(device, "device");
    return this;
  }

  /** Where the merges run. */
  public Device mergeDevice() {
    return mergeDevice;
  }

  /** The sweep file, read. */
  public SweepSpec spec() {
    return spec;
  }

  /** The output folder. */
  public Path outDir() {
    return outDir;
  }

  /** The cache. */
  public SweepCache cache() {
    return cache;
  }

  /** Where progress goes. */
  public SweepListener listener() {
    return listener;
  }

  /** The points planned so far: the inputs and the grid, then any refinement points. */
  public List<GridPoint> plan() {
    return List.copyOf(plan);
  }

  /** How many points are planned so far. */
  public int plannedPoints() {
    return plan.size();
  }

  /** Merges this process ran. */
  public int mergesRun() {
    return mergesRun;
  }

  /** Evaluations this process ran. */
  public int evaluationsRun() {
    return evaluationsRun;
  }

  /** Points this process handed to other processes (Slurm array tasks, retries included). */
  public synchronized int pointsRunElsewhere() {
    return pointsRunElsewhere;
  }

  /** Counts points handed to other processes (called by executors that submit them). */
  public synchronized void countPointsRunElsewhere(int points) {
    pointsRunElsewhere += points;
  }

  /** The plan file Slurm array tasks read. */
  public Path planFile() {
    return outDir.resolve("plan.json");
  }

  // ---- keys and the work of one point ----

  /** The content key of a point's model: an input's file hash, or its merge's key. */
  public synchronized String modelKey(GridPoint p) {
    return modelKeys.computeIfAbsent(
        p.index(), i -> p.isInput() ? inputKey(p) : MergeStep.key(spec, p, cache));
  }

  /**
   * An input model's key: its GGUF file's hash, or for a Hugging Face folder (converted to GGUF at
   * the output type to be evaluated) the hash of the folder and the type.
   */
  private String inputKey(GridPoint p) {
    Path path = spec.model(p.model()).path();
    String hash = cache.hash(path);
    if (!Files.isDirectory(path)) return "sha256:" + hash;
    return SweepCache.sha256(
        "amalgam-sweep input 1\nversion: "
            + SweepCache.codeVersion()
            + "\nfolder: "
            + hash
            + "\nout_type: "
            + spec.output().type()
            + "\n");
  }

  /** Task id to the content key of the point's evaluation on it. */
  public synchronized Map<String, String> evaluationKeys(GridPoint p) {
    Map<String, String> keys = evalKeys.get(p.index());
    if (keys == null) {
      keys = new LinkedHashMap<>();
      String model = modelKey(p);
      for (SweepSpec.TaskSpec t : spec.evaluation().tasks())
        keys.put(t.id(), evaluation.key(t, model, cache));
      evalKeys.put(p.index(), keys);
    }
    return keys;
  }

  /** Whether every evaluation of a point is in the cache. */
  public boolean isDone(GridPoint p) {
    for (String key : evaluationKeys(p).values()) {
      if (!Files.isDirectory(cache.evaluation(key))) return false;
    }
    return true;
  }

  /**
   * Where a point's model is: an input's GGUF file, or the place in the cache of a merge or of an
   * input folder's GGUF conversion.
   */
  public Path modelPath(GridPoint p) {
    if (p.isInput() && !Files.isDirectory(spec.model(p.model()).path()))
      return spec.model(p.model()).path();
    return cache.merge(modelKey(p));
  }

  /** Whether the point's model is made by the sweep (a merge, or a converted input folder). */
  private boolean isMade(GridPoint p) {
    return !p.isInput() || Files.isDirectory(spec.model(p.model()).path());
  }

  /**
   * Does a point's work: merges it unless its model is cached, runs every evaluation that is not
   * cached, and deletes the merged model unless the sweep keeps them.
   */
  public void execute(GridPoint p) throws IOException {
    Map<String, String> keys = evaluationKeys(p);
    Path model = modelPath(p);
    boolean needed = !isDone(p);
    if (needed && isMade(p) && !Files.isRegularFile(model)) {
      Files.createDirectories(model.getParent());
      if (p.isInput()) {
        listener.line("  converting " + p.label() + " to GGUF");
        ModelConverter.convert(
            spec.model(p.model()).path(),
            model,
            ModelConverter.Options.builder()
                .type(Optional.ofNullable(spec.output().type()).map(MergeStep::type))
                .warnings(warnings)
                .build());
      } else {
        listener.line("  merging " + p.label());
        MergeStep.merge(spec, p, model, 0, mergeDevice, listener::line, warnings);
        synchronized (this) {
          mergesRun++;
        }
      }
    }
    for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) {
      Path out = cache.evaluation(keys.get(t.id()));
      if (Files.isDirectory(out)) continue;
      listener.line("  evaluating " + p.label() + " on " + t.id());
      evaluation.evaluate(model, t, out, listener.evaluationProgress());
      synchronized (this) {
        evaluationsRun++;
      }
    }
    if (isMade(p) && !spec.output().keep()) Files.deleteIfExists(model);
    writeStatus(p, "done", null);
  }

  /** Records a point's failure in the cache (read by the Slurm executor's parent). */
  public void recordFailure(GridPoint p, Throwable e) {
    try {
      writeStatus(p, "failed", e.getMessage() == null ? e.toString() : e.getMessage());
    } catch (IOException | RuntimeException ignored) {
      // the failure being reported matters more than its record
    }
  }

  private void writeStatus(GridPoint p, String state, String message) throws IOException {
    ObjectNode n = SweepCache.JSON.createObjectNode();
    n.put("point", p.label());
    n.put("state", state);
    if (message != null) n.put("message", message);
    SweepCache.write(cache.status(modelKey(p)), n + "\n");
  }

  /** The last recorded failure message of a point, if any. */
  public Optional<String> failureOf(GridPoint p) {
    Path status = cache.status(modelKey(p));
    try {
      if (!Files.isRegularFile(status)) return Optional.empty();
      JsonNode n = SweepCache.JSON.readTree(status.toFile());
      return n != null && n.path("state").asText().equals("failed")
          ? Optional.of(n.path("message").asText())
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** A point's results, read from the cache (every evaluation must be done). */
  public PointResult collect(GridPoint p) throws IOException {
    Map<String, TaskResult> tasks = new LinkedHashMap<>();
    List<Measure> clinical = new ArrayList<>();
    List<Measure> instruction = new ArrayList<>();
    for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) {
      String key = evaluationKeys(p).get(t.id());
      Path metricsFile = cache.evaluation(key).resolve("metrics.json");
      JsonNode m = SweepCache.JSON.readTree(metricsFile.toFile());
      Map<String, Double> metrics = new LinkedHashMap<>();
      m.path("metrics")
          .properties()
          .forEach(e -> metrics.put(e.getKey(), e.getValue().asDouble(Double.NaN)));
      Map<String, Measure> ci = new LinkedHashMap<>();
      m.path("ci95")
          .properties()
          .forEach(
              e -> {
                if (e.getValue().isArray() && e.getValue().size() == 2) {
                  double v = metrics.getOrDefault(e.getKey(), Double.NaN);
                  ci.put(
                      e.getKey(),
                      new Measure(
                          v, e.getValue().get(0).asDouble(), e.getValue().get(1).asDouble()));
                }
              });
      TaskResult r = new TaskResult(key, m.path("count").asInt(), metrics, ci);
      tasks.put(t.id(), r);
      if (t.objective().equals("clinical")) clinical.add(r.measure(t.metric()));
      if (t.objective().equals("instruction")) instruction.add(r.measure(t.metric()));
    }
    return new PointResult(
        p, modelKey(p), tasks, PointResult.mean(clinical), PointResult.mean(instruction));
  }

  // ---- the whole sweep ----

  /**
   * Runs the sweep: the grid, then the refinement, then results.jsonl, the report and the charts.
   *
   * @throws SweepException naming the points that failed
   */
  public SweepOutcome run(Executor executor) throws IOException, InterruptedException {
    Files.createDirectories(outDir);
    long freed = cache.removeAbandoned(ABANDONED_AFTER_MILLIS);
    if (freed > 0) listener.line("removed " + bytes(freed) + " that killed runs left in the cache");
    for (String line : describePlan().split("\\R")) listener.line(line);
    List<GridPoint> grid = Grid.expand(spec);
    plan = new ArrayList<>(grid);
    writePlan();
    listener.line(
        String.format(
            Locale.ROOT,
            "sweep %s: %d points (%d inputs, %d merges) x %d tasks, executor %s, cache %s",
            spec.name(),
            grid.size(),
            spec.models().size(),
            grid.size() - spec.models().size(),
            spec.evaluation().tasks().size(),
            executor.name(),
            cache.root()));
    requireDone(executor.execute(this, grid));
    if (spec.grid().refine() > 0) {
      List<PointResult> results = new ArrayList<>();
      for (GridPoint p : grid) results.add(collect(p));
      List<GridPoint> added = Refinement.propose(results, spec.grid().refine(), grid.size());
      if (!added.isEmpty()) {
        plan.addAll(added);
        writePlan();
        List<String> labels = added.stream().map(GridPoint::label).toList();
        listener.line("refinement adds " + added.size() + " points: " + String.join(", ", labels));
        requireDone(executor.execute(this, added));
      }
    }
    List<PointResult> results = new ArrayList<>();
    for (GridPoint p : plan) results.add(collect(p));
    SweepOutcome outcome = Outputs.write(this, results);
    listener.line(
        String.format(
            Locale.ROOT,
            "merges run: %d, evaluations run: %d%s; results in %s",
            mergesRun,
            evaluationsRun,
            pointsRunElsewhere > 0 ? ", points run as Slurm tasks: " + pointsRunElsewhere : "",
            outDir.resolve("results.jsonl")));
    return outcome;
  }

  private void requireDone(List<GridPoint> failed) {
    if (failed.isEmpty()) return;
    StringBuilder b = new StringBuilder(failed.size() + " point(s) failed: ");
    for (int i = 0; i < failed.size(); i++) {
      if (i > 0) b.append("; ");
      b.append(failed.get(i).label())
          .append(failureOf(failed.get(i)).map(m -> " (" + m + ")").orElse(""));
    }
    b.append(" (rerun to retry; finished points are cached)");
    throw new SweepException(b.toString(), FailureReason.ENVIRONMENT, null);
  }

  /**
   * Runs one point of plan.json (a Slurm array task): {@code amalgam sweep FILE --out DIR --point
   * I}.
   *
   * @throws SweepException if the plan is missing, was written for another sweep file, or lacks the
   *     index
   */
  public void runPoint(int index) throws IOException {
    Path file = planFile();
    if (!Files.isRegularFile(file))
      throw new SweepException(file + ": no plan (run the sweep without --point first)");
    JsonNode n = SweepCache.JSON.readTree(file.toFile());
    String expected = sweepFileHash();
    if (!n.path("sweep_sha256").asText().equals(expected)) {
      throw new SweepException(
          file + ": written for another version of " + spec.file() + " (rerun the sweep)");
    }
    JsonNode points = n.path("points");
    if (index < 0 || index >= points.size()) {
      throw new SweepException(
          "--point " + index + ": the plan has points 0 to " + (points.size() - 1));
    }
    GridPoint p = GridPoint.fromJson(points.get(index));
    plan = new ArrayList<>();
    for (JsonNode pn : points) plan.add(GridPoint.fromJson(pn));
    listener.line(
        String.format(Locale.ROOT, "[%d/%d] %s: running", index + 1, points.size(), p.label()));
    try {
      execute(p);
    } catch (IOException | RuntimeException e) {
      recordFailure(p, e);
      if (e instanceof Failure || e instanceof IOException) throw e;
      throw new SweepException(p.label() + ": " + e.getMessage(), FailureReason.ENVIRONMENT, e);
    }
    listener.line(
        String.format(Locale.ROOT, "[%d/%d] %s: done", index + 1, points.size(), p.label()));
  }

  private String sweepFileHash() throws IOException {
    return SweepCache.sha256(Files.readString(spec.file()));
  }

  private void writePlan() throws IOException {
    ObjectNode n = SweepCache.JSON.createObjectNode();
    n.put("sweep", spec.file().toAbsolutePath().toString());
    n.put("sweep_sha256", sweepFileHash());
    n.put("cache", cache.root().toString());
    ArrayNode points = n.putArray("points");
    for (GridPoint p : plan) points.add(p.toJson());
    SweepCache.write(
        planFile(), SweepCache.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
  }

  // ---- the plan before any work ----

  /**
   * The dry run's text: the grid, what is cached, the number of merges and evaluations, and the
   * disk each step needs.
   */
  public String describePlan() throws IOException {
    List<GridPoint> grid = Grid.expand(spec);
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "sweep %s (%s)%n", spec.name(), spec.file()));
    b.append("models: ");
    for (SweepSpec.ModelInput m : spec.models()) {
      b.append(m.name())
          .append(m.name().equals(spec.base()) ? " (base)" : "")
          .append(" = ")
          .append(m.path())
          .append("; ");
    }
    b.setLength(b.length() - 2);
    b.append(System.lineSeparator());
    b.append("tasks: ");
    for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) {
      b.append(t.id())
          .append(" (")
          .append(t.task())
          .append(t.limit() != null ? ", " + t.limit() + " examples" : ", all examples")
          .append(", objective ")
          .append(t.objective())
          .append(": ")
          .append(t.metric())
          .append("); ");
    }
    b.setLength(b.length() - 2);
    b.append(System.lineSeparator()).append(System.lineSeparator());
    b.append(
        String.format(Locale.ROOT, "%4s  %-36s %-8s %s%n", "#", "point", "merge", "evaluations"));
    int merges = 0;
    int mergesToRun = 0;
    int evaluations = 0;
    int evaluationsToRun = 0;
    for (GridPoint p : grid) {
      Map<String, String> keys = evaluationKeys(p);
      int missing = 0;
      for (String k : keys.values()) if (!Files.isDirectory(cache.evaluation(k))) missing++;
      evaluations += keys.size();
      evaluationsToRun += missing;
      String merge = "-";
      if (!p.isInput()) {
        merges++;
        boolean mergeNeeded = missing > 0 && !Files.isRegularFile(modelPath(p));
        if (mergeNeeded) mergesToRun++;
        merge = mergeNeeded ? "to run" : "cached";
      }
      b.append(
          String.format(
              Locale.ROOT,
              "%4d  %-36s %-8s %d of %d to run%n",
              p.index(),
              p.label(),
              merge,
              missing,
              keys.size()));
    }
    int tasks = spec.evaluation().tasks().size();
    b.append(System.lineSeparator());
    b.append(
        String.format(
            Locale.ROOT,
            "merges: %d (%d to run); evaluations: %d (%d to run)%n",
            merges,
            mergesToRun,
            evaluations,
            evaluationsToRun));
    if (spec.grid().refine() > 0) {
      b.append(
          String.format(
              Locale.ROOT,
              "refinement: up to %d more points of t after the grid (up to %d merges, %d evaluations)%n",
              spec.grid().refine(),
              spec.grid().refine(),
              spec.grid().refine() * tasks));
    }
    long mergeBytes = mergedModelBytes();
    b.append(
        String.format(
            Locale.ROOT,
            "disk: each merge writes about %s (%s); %s%n",
            bytes(mergeBytes),
            spec.output().type() != null ? spec.output().type() : "the merge's dtype",
            spec.output().keep()
                ? "merged models are kept: about "
                    + bytes(mergeBytes * (merges + spec.grid().refine()))
                    + " in all"
                : "each is deleted once evaluated: one at a time locally, one per running Slurm task"));
    b.append(
        String.format(
            Locale.ROOT,
            "disk: each evaluation writes its predictions and metrics (kilobytes to a few megabytes); cache %s%n",
            cache.root()));
    return b.toString();
  }

  /**
   * Times one merge (the first merge point that is not cached; its model then stays in the cache
   * for the sweep) and a few examples of each task on the base model, and estimates the sweep's
   * wall time on this machine from the steps still to run.
   */
  public String estimate() throws IOException {
    List<GridPoint> grid = Grid.expand(spec);
    StringBuilder b = new StringBuilder();
    int mergesToRun = 0;
    Map<String, Integer> evaluationsToRun = new LinkedHashMap<>();
    GridPoint timed = null;
    for (GridPoint p : grid) {
      boolean open = false;
      for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) {
        if (!Files.isDirectory(cache.evaluation(evaluationKeys(p).get(t.id())))) {
          evaluationsToRun.merge(t.id(), 1, Integer::sum);
          open = true;
        }
      }
      if (open && !p.isInput() && !Files.isRegularFile(modelPath(p))) {
        mergesToRun++;
        if (timed == null) timed = p;
      }
    }
    double mergeSeconds = 0;
    if (timed != null) {
      Path model = modelPath(timed);
      Files.createDirectories(model.getParent());
      long start = System.nanoTime();
      MergeStep.merge(spec, timed, model, 0, mergeDevice, listener::line, warnings);
      mergeSeconds = (System.nanoTime() - start) / 1e9;
      b.append(
          String.format(
              Locale.ROOT,
              "merge of %s: %.1f s (the model stays in the cache for the sweep)%n",
              timed.label(),
              mergeSeconds));
    }
    double total = mergesToRun * mergeSeconds;
    Path scratch = cache.root().resolve("estimate");
    // The tasks are timed on the base model, or on the timed merge where the base is a folder.
    Path base = spec.model(spec.base()).path();
    if (Files.isDirectory(base)) {
      if (timed == null) {
        throw new SweepException(
            "--estimate times the tasks on a GGUF model: every merge is cached, so there is"
                + " nothing left to estimate");
      }
      base = modelPath(timed);
    }
    for (SweepSpec.TaskSpec t : spec.evaluation().tasks()) {
      int examples = evaluation.exampleCount(t);
      int sample = Math.min(2, examples);
      SweepSpec.TaskSpec few =
          new SweepSpec.TaskSpec(
              t.id(),
              t.task(),
              t.data(),
              t.split(),
              sample,
              t.shots(),
              t.maxTokens(),
              t.objective(),
              t.metric(),
              t.inputField(),
              t.referenceField(),
              t.template(),
              t.optional());
      Path out = scratch.resolve(t.id() + "-" + System.nanoTime());
      long start = System.nanoTime();
      evaluation.evaluate(base, few, out, Progress.NONE);
      double wall = (System.nanoTime() - start) / 1e9;
      JsonNode timings =
          SweepCache.JSON.readTree(out.resolve("metrics.json").toFile()).path("timings");
      double perExample = timings.path("generation_s").asDouble() / sample;
      double fixed = Math.max(0, wall - timings.path("generation_s").asDouble());
      double oneEvaluation = fixed + perExample * examples;
      int runs = evaluationsToRun.getOrDefault(t.id(), 0);
      total += runs * oneEvaluation;
      b.append(
          String.format(
              Locale.ROOT,
              "%s: %.2f s per example, %.1f s to load and score; %d examples: about %s per evaluation, %d to run%n",
              t.id(),
              perExample,
              fixed,
              examples,
              duration(oneEvaluation),
              runs));
      SweepCache.deleteTree(out);
    }
    SweepCache.deleteTree(scratch);
    int refine = spec.grid().refine();
    b.append(
        String.format(
            Locale.ROOT,
            "estimated wall time on this machine: about %s for %d merges and %d evaluations%s%n",
            duration(total),
            mergesToRun,
            evaluationsToRun.values().stream().mapToInt(Integer::intValue).sum(),
            refine > 0
                ? String.format(
                    Locale.ROOT,
                    ", plus up to %s for the %d refinement points",
                    duration(refine * (total / Math.max(1, grid.size()))),
                    refine)
                : ""));
    return b.toString();
  }

  /** The merged model's size: the base's tensors at the output type (vectors stay f32). */
  long mergedModelBytes() throws IOException {
    Path base = spec.model(spec.base()).path();
    if (spec.output().type() == null || !Files.isRegularFile(base) || !GgufFile.hasMagic(base)) {
      return sizeOf(base);
    }
    var type = MergeStep.type(spec.output().type());
    long total = 0;
    try (GgufFile f = GgufFile.open(base)) {
      for (GgufTensorInfo t : f.tensors()) {
        total += t.rank() >= 2 ? type.byteCount(t.elementCount()) : 4 * t.elementCount();
      }
    }
    return total + (Files.size(base) - dataBytes(base));
  }

  private static long dataBytes(Path gguf) throws IOException {
    long total = 0;
    try (GgufFile f = GgufFile.open(gguf)) {
      for (GgufTensorInfo t : f.tensors()) total += t.type().byteCount(t.elementCount());
    }
    return total;
  }

  private static long sizeOf(Path path) throws IOException {
    if (Files.isRegularFile(path)) return Files.size(path);
    try (Stream<Path> walk = Files.walk(path)) {
      long total = 0;
      for (Path p : walk.filter(Files::isRegularFile).toList()) total += Files.size(p);
      return total;
    }
  }

  /** A size in B, kB, MB or GB (powers of 1000). */
  static String bytes(long n) {
    if (n < 1000) return n + " B";
    if (n < 1_000_000) return String.format(Locale.ROOT, "%.1f kB", n / 1e3);
    if (n < 1_000_000_000) return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
    return String.format(Locale.ROOT, "%.2f GB", n / 1e9);
  }

  /** A duration as {@code 42 s}, {@code 3 min 5 s} or {@code 2 h 10 min}. */
  public static String duration(double seconds) {
    long s = Math.round(seconds);
    if (s < 60) return s + " s";
    if (s < 3600) return (s / 60) + " min " + (s % 60) + " s";
    return (s / 3600) + " h " + (s % 3600 / 60) + " min";
  }

  /** The evaluation step (its metric suite and bootstrap serve the report's comparisons). */
  EvaluationStep evaluation() {
    return evaluation;
  }

  @Override
  public void close() {
    evaluation.close();
  }
}
