package dev.amalgam.sweep;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.kernels.Device;
import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.plan.MergeExecutor;
import dev.amalgam.merge.plan.MergeOptions;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.merge.plan.MergePlanner;
import dev.amalgam.merge.plan.OutputSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One point's merge: the mergekit configuration it stands for, its content key, and the merge into
 * a GGUF file through amalgam-core's planner and executor.
 */
public final class MergeStep {
  /**
   * The seed of the methods that draw random numbers (DARE), fixed so reruns give the same bytes.
   */
  public static final long RANDOM_SEED = 0;

  private MergeStep() {}

  /**
   * The mergekit YAML of a merge point.
   *
   * @param reference how a model is written: its path for the merge, its hash for the key
   */
  public static String configYaml(
      SweepSpec spec, GridPoint point, Function<SweepSpec.ModelInput, String> reference) {
    if (point.isInput()) throw new IllegalArgumentException("an input point is not merged");
    SweepSpec.ModelInput base = spec.model(spec.base());
    StringBuilder y = new StringBuilder();
    y.append("merge_method: ").append(point.method()).append('\n');
    if (point.method().equals("linear")) {
      SweepSpec.ModelInput other = spec.others().get(0);
      Map<String, Double> t = point.parameters().get("t");
      y.append("models:\n");
      y.append("  - model: ").append(quote(reference.apply(base))).append('\n');
      y.append("    parameters:\n      weight: ").append(value(t, v -> 1 - v)).append('\n');
      y.append("  - model: ").append(quote(reference.apply(other))).append('\n');
      y.append("    parameters:\n      weight: ").append(value(t, v -> v)).append('\n');
      return y.toString();
    }
    y.append("base_model: ").append(quote(reference.apply(base))).append('\n');
    y.append("models:\n");
    if (point.method().equals("slerp")) {
      y.append("  - model: ").append(quote(reference.apply(spec.others().get(0)))).append('\n');
      y.append("parameters:\n  t: ")
          .append(value(point.parameters().get("t"), v -> v))
          .append('\n');
      return y.toString();
    }
    for (SweepSpec.ModelInput m : spec.others()) {
      y.append("  - model: ").append(quote(reference.apply(m))).append('\n');
      y.append("    parameters:\n");
      point
          .parameters()
          .forEach(
              (name, byFilter) ->
                  y.append("      ")
                      .append(name)
                      .append(": ")
                      .append(value(byFilter, v -> v))
                      .append('\n'));
    }
    return y.toString();
  }

  /** The content key of a merge point's model. */
  public static String key(SweepSpec spec, GridPoint point, SweepCache cache) {
    String config = configYaml(spec, point, m -> "sha256:" + cache.hash(m.path()));
    return SweepCache.sha256(
        "amalgam-sweep merge 1\nversion: "
            + SweepCache.codeVersion()
            + "\nout_type: "
            + spec.output().type()
            + "\nrandom_seed: "
            + RANDOM_SEED
            + "\n"
            + config);
  }

  /**
   * Merges a point into {@code target} (a GGUF file that must not exist; it appears only when
   * complete).
   *
   * @param threads merge threads (0: all cores)
   * @param device where the merge's kernels run
   * @param notices receives the line in which {@link Device#AUTO} says what it chose
   * @param warnings the planner's and executor's warnings
   */
  public static void merge(
      SweepSpec spec,
      GridPoint point,
      Path target,
      int threads,
      Device device,
      java.util.function.Consumer<String> notices,
      WarningListener warnings)
      throws IOException {
    String yaml = configYaml(spec, point, m -> m.path().toAbsolutePath().toString());
    MergeConfig config = ConfigReader.parse(yaml, point.label(), Path.of("").toAbsolutePath());
    OutputSpec out =
        OutputSpec.gguf(Optional.ofNullable(spec.output().type()).map(MergeStep::type));
    try (MergePlan plan = MergePlanner.plan(config, out, RANDOM_SEED, false)) {
      plan.warnings().forEach(warnings::warn);
      MergeExecutor.execute(
          plan,
          target,
          MergeOptions.builder()
              .threads(threads)
              .device(device)
              .notices(notices)
              .warnings(warnings)
              .build());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SweepException(
          point.label() + ": the merge was interrupted", FailureReason.ENVIRONMENT, e);
    }
  }

  static GgmlType type(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "f32" -> GgmlType.F32;
      case "f16" -> GgmlType.F16;
      case "bf16" -> GgmlType.BF16;
      case "q8_0" -> GgmlType.Q8_0;
      default ->
          throw new SweepException("unknown output type " + name, FailureReason.BAD_INPUT, null);
    };
  }

  /** A plain value, or mergekit's list of {filter, value} rules with the default last. */
  private static String value(
      Map<String, Double> byFilter, java.util.function.DoubleUnaryOperator f) {
    if (byFilter.size() == 1 && byFilter.containsKey(""))
      return GridPoint.format(SweepReader.round(f.applyAsDouble(byFilter.get(""))));
    StringBuilder b = new StringBuilder("[");
    byFilter.forEach(
        (filter, v) -> {
          if (filter.isEmpty()) return;
          if (b.length() > 1) b.append(", ");
          b.append("{filter: ")
              .append(quote(filter))
              .append(", value: ")
              .append(GridPoint.format(SweepReader.round(f.applyAsDouble(v))))
              .append('}');
        });
    b.append(", {value: ")
        .append(GridPoint.format(SweepReader.round(f.applyAsDouble(byFilter.get("")))))
        .append("}]");
    return b.toString();
  }

  private static String quote(String text) {
    try {
      return SweepCache.JSON.writeValueAsString(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
