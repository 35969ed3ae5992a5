package dev.amalgam.sweep;

import dev.amalgam.eval.harness.TaskKind;
import dev.amalgam.eval.harness.Tasks;
import dev.amalgam.eval.score.Composite;
import dev.amalgam.eval.score.ScoreOptions;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads a sweep file (YAML; the format is in README.md, "Sweeps"). Every error is one line naming
 * the file and the YAML path of the offending value, such as {@code sweep.yml: grid.t[2]: not a
 * number}; unknown keys are errors too, so a misspelt setting is never silently ignored.
 */
public final class SweepReader {
  /** The recommendation rules. */
  public static final List<String> RULES =
      List.of("within-tolerance", "clinical-floor", "max-clinical", "max-instruction");

  /** The objectives a task can count for. */
  public static final List<String> OBJECTIVES = List.of("clinical", "instruction", "none");

  /** The merged models' GGUF types. */
  public static final List<String> OUTPUT_TYPES = List.of("f32", "f16", "bf16", "q8_0");

  private final Path file;
  private final Path folder;
  private final List<String> warnings;

  private SweepReader(Path file, List<String> warnings) {
    this.file = file;
    Path parent = file.toAbsolutePath().getParent();
    this.folder = parent != null ? parent : Path.of("").toAbsolutePath();
    this.warnings = warnings;
  }

  /**
   * Reads and checks a sweep file.
   *
   * @param warnings receives warnings (an optional task left out for lack of data)
   * @throws SweepException for a missing or invalid file
   */
  public static SweepSpec read(Path file, List<String> warnings) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new SweepException("sweep file " + file + " does not exist");
    } catch (MalformedInputException e) {
      throw new SweepException("sweep file " + file + " is not UTF-8 text");
    } catch (IOException e) {
      throw new SweepException("cannot read the sweep file " + file + ": " + e.getMessage());
    }
    return new SweepReader(file, warnings).parse(text);
  }

  private SweepSpec parse(String text) {
    Object root;
    try {
      LoadSettings settings =
          LoadSettings.builder().setLabel(file.toString()).setAllowDuplicateKeys(false).build();
      root = new Load(settings).loadFromString(text);
    } catch (YamlEngineException e) {
      throw new SweepException(
          file + ": not valid YAML: " + e.getMessage().replaceAll("\\s+", " ").strip());
    }
    Map<String, Object> top = map(root, "");
    allowOnly(
        top,
        "",
        "name",
        "models",
        "base",
        "grid",
        "evaluation",
        "output",
        "recommend",
        "slurm",
        "cache");
    String stem = file.getFileName().toString().replaceFirst("\\.(ya?ml)$", "");
    String name = optionalString(top, "", "name", stem);

    List<SweepSpec.ModelInput> models = models(top);
    Set<String> names = new HashSet<>();
    for (SweepSpec.ModelInput m : models) names.add(m.name());
    String base = optionalString(top, "", "base", models.get(0).name());
    if (!names.contains(base)) throw fail("base", "no model is named '" + base + "'");

    SweepSpec.GridSpec grid = grid(map(required(top, "", "grid"), "grid"), models.size());
    SweepSpec.EvaluationSpec evaluation =
        evaluation(map(required(top, "", "evaluation"), "evaluation"));
    SweepSpec.OutputSettings output = output(top.get("output"));
    String defaultReference = models.get(models.size() - 1).name();
    for (SweepSpec.ModelInput m : models) {
      if (!m.name().equals(base)) defaultReference = m.name();
    }
    SweepSpec.RecommendationRule recommend = recommend(top.get("recommend"), defaultReference);
    if (!names.contains(recommend.reference())) {
      throw fail("recommend.reference", "no model is named '" + recommend.reference() + "'");
    }
    SweepSpec.SlurmSettings slurm = slurm(top.get("slurm"));
    Path cache = top.containsKey("cache") ? path(string(top.get("cache"), "cache")) : null;
    return new SweepSpec(
        file, name, models, base, grid, evaluation, output, recommend, slurm, cache);
  }

  private List<SweepSpec.ModelInput> models(Map<String, Object> top) {
    List<Object> list = list(required(top, "", "models"), "models");
    if (list.size() < 2) throw fail("models", "a sweep needs two or more models");
    List<SweepSpec.ModelInput> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String at = "models[" + i + "]";
      Map<String, Object> m = map(list.get(i), at);
      allowOnly(m, at, "name", "path");
      String name = string(required(m, at, "name"), at + ".name");
      if (!name.matches("[A-Za-z0-9._-]+")) {
        throw fail(at + ".name", "use letters, digits, '.', '_' and '-' only, got '" + name + "'");
      }
      if (!names.add(name)) throw fail(at + ".name", "two models are named '" + name + "'");
      Path path = path(string(required(m, at, "path"), at + ".path"));
      if (!Files.exists(path)) throw fail(at + ".path", "no such model: " + path);
      out.add(new SweepSpec.ModelInput(name, path));
    }
    return out;
  }

  private SweepSpec.GridSpec grid(Map<String, Object> g, int modelCount) {
    allowOnly(g, "grid", "methods", "t", "weight", "density", "refine");
    List<String> methods = new ArrayList<>();
    List<Object> list = list(required(g, "grid", "methods"), "grid.methods");
    if (list.isEmpty()) throw fail("grid.methods", "name at least one method");
    for (int i = 0; i < list.size(); i++) {
      String m = string(list.get(i), "grid.methods[" + i + "]").toLowerCase(Locale.ROOT);
      if (!Grid.METHODS.contains(m)) {
        throw fail(
            "grid.methods[" + i + "]",
            "unknown method '" + m + "' (sweeps support " + String.join(", ", Grid.METHODS) + ")");
      }
      if (Grid.usesT(m) && modelCount != 2) {
        throw fail(
            "grid.methods[" + i + "]",
            m + " interpolates two models; the sweep names " + modelCount);
      }
      if (methods.contains(m)) throw fail("grid.methods[" + i + "]", m + " is given twice");
      methods.add(m);
    }
    Map<String, Map<String, List<Double>>> axes = new LinkedHashMap<>();
    for (String axis : List.of("t", "weight", "density")) {
      if (g.containsKey(axis)) axes.put(axis, axis(g.get(axis), "grid." + axis));
    }
    for (String m : methods) {
      for (String needed : Grid.axesOf(m)) {
        if (!axes.containsKey(needed)) throw fail("grid." + needed, "required by method " + m);
      }
    }
    int refine = g.containsKey("refine") ? integer(g.get("refine"), "grid.refine") : 0;
    if (refine < 0) throw fail("grid.refine", "must be 0 or more, got " + refine);
    return new SweepSpec.GridSpec(methods, axes, refine);
  }

  /** A list, a range, or a map of filter to list or range. */
  private Map<String, List<Double>> axis(Object value, String at) {
    Map<String, List<Double>> out = new LinkedHashMap<>();
    if (value instanceof Map<?, ?> m && !isRange(m)) {
      if (m.isEmpty()) throw fail(at, "name at least one filter");
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String filter = String.valueOf(e.getKey());
        String key = filter.equals("default") ? "" : filter;
        out.put(key, values(e.getValue(), at + "." + filter));
      }
      if (!out.containsKey("")) {
        throw fail(at, "per-filter values need a default: entry for the other tensors");
      }
    } else {
      out.put("", values(value, at));
    }
    return out;
  }

  private static boolean isRange(Map<?, ?> m) {
    return m.containsKey("from") || m.containsKey("to");
  }

  private List<Double> values(Object value, String at) {
    List<Double> out = new ArrayList<>();
    if (value instanceof List<?> list) {
      if (list.isEmpty()) throw fail(at, "give at least one value");
      for (int i = 0; i < list.size(); i++) out.add(number(list.get(i), at + "[" + i + "]"));
    } else if (value instanceof Map<?, ?>) {
      Map<String, Object> r = map(value, at);
      allowOnly(r, at, "from", "to", "step", "count");
      double from = number(required(r, at, "from"), at + ".from");
      double to = number(required(r, at, "to"), at + ".to");
      if (to < from) throw fail(at + ".to", "must not be below from (" + from + ")");
      if (r.containsKey("step") == r.containsKey("count")) {
        throw fail(at, "a range needs exactly one of step and count");
      }
      if (r.containsKey("step")) {
        double step = number(r.get("step"), at + ".step");
        if (!(step > 0)) throw fail(at + ".step", "must be positive");
        long n = (long) Math.floor((to - from) / step + 1e-9);
        if (n > 10_000) throw fail(at + ".step", "gives more than 10,000 values");
        for (long i = 0; i <= n; i++) out.add(round(from + i * step));
      } else {
        int count = integer(r.get("count"), at + ".count");
        if (count < 1) throw fail(at + ".count", "must be at least 1");
        if (count == 1) out.add(round(from));
        for (int i = 0; count > 1 && i < count; i++) {
          out.add(round(from + (to - from) * i / (count - 1)));
        }
      }
    } else {
      out.add(number(value, at));
    }
    Set<Double> seen = new HashSet<>();
    for (double v : out) {
      if (!seen.add(v)) throw fail(at, "the value " + v + " is given twice");
    }
    return out;
  }

  /** Ten decimals: ranges give 0.3, not 0.30000000000000004, in keys and labels. */
  static double round(double v) {
    return BigDecimal.valueOf(v)
        .setScale(10, RoundingMode.HALF_EVEN)
        .stripTrailingZeros()
        .doubleValue();
  }

  private SweepSpec.EvaluationSpec evaluation(Map<String, Object> e) {
    allowOnly(
        e,
        "evaluation",
        "tasks",
        "threads",
        "ctx",
        "gpu_layers",
        "seed",
        "chat",
        "mc_mode",
        "metrics",
        "composite",
        "bootstrap_samples");
    int threads = e.containsKey("threads") ? integer(e.get("threads"), "evaluation.threads") : 4;
    if (threads < 1) throw fail("evaluation.threads", "must be at least 1");
    int ctx = e.containsKey("ctx") ? integer(e.get("ctx"), "evaluation.ctx") : 4096;
    if (ctx < 16) throw fail("evaluation.ctx", "must be at least 16");
    int gpuLayers =
        e.containsKey("gpu_layers") ? integer(e.get("gpu_layers"), "evaluation.gpu_layers") : 0;
    if (gpuLayers < 0) throw fail("evaluation.gpu_layers", "must be 0 or more");
    long seed = e.containsKey("seed") ? integer(e.get("seed"), "evaluation.seed") : 1234;
    Boolean chat = null;
    if (e.get("chat") != null) {
      if (!(e.get("chat") instanceof Boolean b)) throw fail("evaluation.chat", "true or false");
      chat = b;
    }
    String mcMode = optionalString(e, "evaluation", "mc_mode", "loglik").toLowerCase(Locale.ROOT);
    if (!mcMode.equals("loglik") && !mcMode.equals("grammar")) {
      throw fail("evaluation.mc_mode", "loglik or grammar, got '" + mcMode + "'");
    }
    List<String> metrics = new ArrayList<>();
    if (e.containsKey("metrics")) {
      List<Object> list = list(e.get("metrics"), "evaluation.metrics");
      for (int i = 0; i < list.size(); i++) {
        String m = string(list.get(i), "evaluation.metrics[" + i + "]").toLowerCase(Locale.ROOT);
        try {
          ScoreOptions.Metric.fromId(m);
        } catch (IllegalArgumentException x) {
          throw fail("evaluation.metrics[" + i + "]", x.getMessage());
        }
        metrics.add(m);
      }
    } else {
      for (ScoreOptions.Metric m : ScoreOptions.Metric.values()) metrics.add(m.id());
    }
    String composite = optionalString(e, "evaluation", "composite", Composite.DEFAULT_SPEC);
    try {
      Composite.parse(composite);
    } catch (IllegalArgumentException x) {
      throw fail("evaluation.composite", x.getMessage());
    }
    int samples =
        e.containsKey("bootstrap_samples")
            ? integer(e.get("bootstrap_samples"), "evaluation.bootstrap_samples")
            : 1000;
    if (samples < 1) throw fail("evaluation.bootstrap_samples", "must be at least 1");

    List<Object> list = list(required(e, "evaluation", "tasks"), "evaluation.tasks");
    if (list.isEmpty()) throw fail("evaluation.tasks", "name at least one task");
    List<SweepSpec.TaskSpec> tasks = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      SweepSpec.TaskSpec t = task(map(list.get(i), "evaluation.tasks[" + i + "]"), i);
      if (t == null) continue;
      if (!ids.add(t.id())) {
        throw fail(
            "evaluation.tasks[" + i + "]",
            "two tasks are named '" + t.id() + "' (give one a name:)");
      }
      tasks.add(t);
    }
    if (tasks.isEmpty()) throw fail("evaluation.tasks", "every task was left out for lack of data");
    return new SweepSpec.EvaluationSpec(
        tasks, threads, ctx, gpuLayers, seed, chat, mcMode, metrics, composite, samples);
  }

  private SweepSpec.TaskSpec task(Map<String, Object> t, int index) {
    String at = "evaluation.tasks[" + index + "]";
    allowOnly(
        t,
        at,
        "task",
        "name",
        "data",
        "split",
        "limit",
        "shots",
        "max_tokens",
        "objective",
        "metric",
        "input_field",
        "reference_field",
        "template",
        "optional");
    String task = string(required(t, at, "task"), at + ".task");
    if (!Tasks.NAMES.contains(task)) {
      throw fail(
          at + ".task", "unknown task '" + task + "'; tasks: " + String.join(", ", Tasks.NAMES));
    }
    String id = optionalString(t, at, "name", task);
    if (!id.matches("[A-Za-z0-9._-]+")) {
      throw fail(at + ".name", "use letters, digits, '.', '_' and '-' only, got '" + id + "'");
    }
    boolean optional = t.get("optional") instanceof Boolean b && b;
    Path data = path(string(required(t, at, "data"), at + ".data"));
    if (!Files.exists(data)) {
      if (optional) {
        warnings.add(file + ": " + at + ": task " + id + " left out: no data at " + data);
        return null;
      }
      throw fail(
          at + ".data", "no such file or folder: " + data + " (optional: true leaves it out)");
    }
    TaskKind kind = task.equals("jsonl") ? TaskKind.GENERATION : Tasks.builtIn(task).kind();
    String split = t.containsKey("split") ? string(t.get("split"), at + ".split") : null;
    Integer limit = t.containsKey("limit") ? integer(t.get("limit"), at + ".limit") : null;
    if (limit != null && limit < 1) throw fail(at + ".limit", "must be at least 1");
    int shots = t.containsKey("shots") ? integer(t.get("shots"), at + ".shots") : 0;
    if (shots < 0) throw fail(at + ".shots", "must be 0 or more");
    Integer maxTokens =
        t.containsKey("max_tokens") ? integer(t.get("max_tokens"), at + ".max_tokens") : null;
    if (maxTokens != null && maxTokens < 1) throw fail(at + ".max_tokens", "must be at least 1");
    String defaultObjective =
        switch (kind) {
          case GENERATION -> "clinical";
          case INSTRUCTION_FOLLOWING -> "instruction";
          default -> "none";
        };
    String objective = optionalString(t, at, "objective", defaultObjective);
    if (!OBJECTIVES.contains(objective)) {
      throw fail(
          at + ".objective",
          "one of " + String.join(", ", OBJECTIVES) + ", got '" + objective + "'");
    }
    String defaultMetric =
        switch (kind) {
          case GENERATION -> "composite";
          case INSTRUCTION_FOLLOWING -> "prompt_level_strict_acc";
          default -> "acc";
        };
    String metric = optionalString(t, at, "metric", defaultMetric);
    Path template =
        t.containsKey("template") ? path(string(t.get("template"), at + ".template")) : null;
    if (template != null && !Files.isRegularFile(template)) {
      throw fail(at + ".template", "no such file: " + template);
    }
    return new SweepSpec.TaskSpec(
        id,
        task,
        data,
        split,
        limit,
        shots,
        maxTokens,
        objective,
        metric,
        optionalString(t, at, "input_field", "input"),
        optionalString(t, at, "reference_field", "reference"),
        template,
        optional);
  }

  private SweepSpec.OutputSettings output(Object value) {
    if (value == null) return new SweepSpec.OutputSettings(null, false);
    Map<String, Object> o = map(value, "output");
    allowOnly(o, "output", "type", "keep");
    String type = null;
    if (o.get("type") != null) {
      type = string(o.get("type"), "output.type").toLowerCase(Locale.ROOT);
      if (!OUTPUT_TYPES.contains(type)) {
        throw fail(
            "output.type", "one of " + String.join(", ", OUTPUT_TYPES) + ", got '" + type + "'");
      }
    }
    boolean keep = false;
    if (o.get("keep") != null) {
      if (!(o.get("keep") instanceof Boolean b)) throw fail("output.keep", "true or false");
      keep = b;
    }
    return new SweepSpec.OutputSettings(type, keep);
  }

  private SweepSpec.RecommendationRule recommend(Object value, String defaultReference) {
    if (value == null)
      return new SweepSpec.RecommendationRule(RULES.get(0), 0.02, defaultReference);
    Map<String, Object> r = map(value, "recommend");
    allowOnly(r, "recommend", "rule", "tolerance", "reference");
    String rule = optionalString(r, "recommend", "rule", RULES.get(0));
    if (!RULES.contains(rule)) {
      throw fail("recommend.rule", "one of " + String.join(", ", RULES) + ", got '" + rule + "'");
    }
    double tolerance =
        r.containsKey("tolerance") ? number(r.get("tolerance"), "recommend.tolerance") : 0.02;
    if (tolerance < 0) throw fail("recommend.tolerance", "must be 0 or more");
    return new SweepSpec.RecommendationRule(
        rule, tolerance, optionalString(r, "recommend", "reference", defaultReference));
  }

  private SweepSpec.SlurmSettings slurm(Object value) {
    if (value == null) {
      return new SweepSpec.SlurmSettings(
          null, null, null, null, null, null, null, 2, 10, null, List.of());
    }
    Map<String, Object> s = map(value, "slurm");
    allowOnly(
        s,
        "slurm",
        "partition",
        "time",
        "mem",
        "cpus",
        "gres",
        "account",
        "parallel",
        "max_retries",
        "poll_seconds",
        "launcher",
        "sbatch_args");
    Integer cpus = s.containsKey("cpus") ? integer(s.get("cpus"), "slurm.cpus") : null;
    if (cpus != null && cpus < 1) throw fail("slurm.cpus", "must be at least 1");
    Integer parallel =
        s.containsKey("parallel") ? integer(s.get("parallel"), "slurm.parallel") : null;
    if (parallel != null && parallel < 1) throw fail("slurm.parallel", "must be at least 1");
    int retries =
        s.containsKey("max_retries") ? integer(s.get("max_retries"), "slurm.max_retries") : 2;
    if (retries < 0) throw fail("slurm.max_retries", "must be 0 or more");
    double poll =
        s.containsKey("poll_seconds") ? number(s.get("poll_seconds"), "slurm.poll_seconds") : 10;
    if (!(poll > 0)) throw fail("slurm.poll_seconds", "must be positive");
    List<String> launcher = null;
    if (s.containsKey("launcher")) {
      launcher = strings(s.get("launcher"), "slurm.launcher");
      if (launcher.isEmpty()) throw fail("slurm.launcher", "give the command");
    }
    List<String> extra =
        s.containsKey("sbatch_args")
            ? strings(s.get("sbatch_args"), "slurm.sbatch_args")
            : List.of();
    return new SweepSpec.SlurmSettings(
        optionalString(s, "slurm", "partition", null),
        optionalString(s, "slurm", "time", null),
        optionalString(s, "slurm", "mem", null),
        cpus,
        optionalString(s, "slurm", "gres", null),
        optionalString(s, "slurm", "account", null),
        parallel,
        retries,
        poll,
        launcher,
        extra);
  }

  // ---- value helpers: each names the YAML path on failure ----

  private SweepException fail(String at, String message) {
    return SweepException.at(file, at, message);
  }

  private Path path(String value) {
    return folder.resolve(value).normalize();
  }

  private Object required(Map<String, Object> m, String at, String key) {
    Object v = m.get(key);
    if (v == null) throw fail(at.isEmpty() ? key : at + "." + key, "required");
    return v;
  }

  private void allowOnly(Map<String, Object> m, String at, String... keys) {
    Set<String> allowed = Set.of(keys);
    for (String key : m.keySet()) {
      if (!allowed.contains(key)) {
        throw fail(
            at.isEmpty() ? key : at + "." + key,
            "unknown key (known: " + String.join(", ", keys) + ")");
      }
    }
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> map(Object value, String at) {
    if (!(value instanceof Map<?, ?> m)) throw fail(at, "expected a mapping");
    for (Object key : m.keySet()) {
      if (!(key instanceof String)) throw fail(at, "keys must be text, got " + key);
    }
    return (Map<String, Object>) m;
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Object value, String at) {
    if (!(value instanceof List<?>)) throw fail(at, "expected a list");
    return (List<Object>) value;
  }

  private List<String> strings(Object value, String at) {
    if (value instanceof String s) return List.of(s.strip().split("\\s+"));
    List<Object> list = list(value, at);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) out.add(string(list.get(i), at + "[" + i + "]"));
    return out;
  }

  private String string(Object value, String at) {
    if (value instanceof String s && !s.isBlank()) return s;
    if (value instanceof Number || value instanceof Boolean) return String.valueOf(value);
    throw fail(at, "expected text");
  }

  private String optionalString(Map<String, Object> m, String at, String key, String fallback) {
    Object v = m.get(key);
    return v == null ? fallback : string(v, at.isEmpty() ? key : at + "." + key);
  }

  private double number(Object value, String at) {
    if (value instanceof Number n && Double.isFinite(n.doubleValue()))
      return round(n.doubleValue());
    throw fail(at, "not a number: " + value);
  }

  private int integer(Object value, String at) {
    if (value instanceof Integer || value instanceof Long) {
      long v = ((Number) value).longValue();
      if (v == (int) v) return (int) v;
    }
    throw fail(at, "not a whole number: " + value);
  }
}
