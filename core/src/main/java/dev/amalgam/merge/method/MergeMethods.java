package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.Suggestions;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The registry of merge methods, by their mergekit names: all 20 of mergekit's, each declared by
 * its facts next to its maths (see the package comment).
 */
public final class MergeMethods {
  private static final List<MergeMethod> ALL =
      Stream.of(
              Stream.of(
                  LinearMerge.METHOD,
                  SlerpMerge.METHOD,
                  NuSlerpMerge.METHOD,
                  MultiSlerpMerge.METHOD,
                  KarcherMerge.METHOD),
              TaskArithmeticMerge.METHODS.stream(),
              Stream.of(
                  ModelStockMerge.METHOD,
                  SceMerge.METHOD,
                  RamMerge.RAM,
                  RamMerge.RAMPLUS_TL,
                  NearSwapMerge.METHOD,
                  ArceeFusionMerge.METHOD,
                  PassthroughMerge.METHOD))
          .flatMap(s -> s)
          .toList();
  private static final Map<String, MergeMethod> BY_NAME =
      ALL.stream().collect(Collectors.toUnmodifiableMap(MergeMethod::name, Function.identity()));

  private MergeMethods() {}

  /** Every method, in a stable order. */
  public static List<MergeMethod> all() {
    return ALL;
  }

  /** The method with this exact name. */
  public static Optional<MergeMethod> find(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }

  /**
   * The method for a configuration's {@code merge_method}.
   *
   * @throws ConfigException at "merge_method" for unknown or not yet implemented names, with a
   *     suggestion
   */
  public static MergeMethod forConfig(String name) {
    MergeMethod m = BY_NAME.get(name);
    if (m != null) return m;
    String available = ALL.stream().map(MergeMethod::name).collect(Collectors.joining(", "));
    String normalised = name.toLowerCase(Locale.ROOT).replace('-', '_');
    if (BY_NAME.containsKey(normalised)) {
      throw new ConfigException(
          "merge_method", "unknown method '" + name + "'; did you mean '" + normalised + "'?");
    }
    String hint = Suggestions.didYouMean(normalised, BY_NAME.keySet());
    throw new ConfigException(
        "merge_method", "unknown method '" + name + "'" + hint + " (available: " + available + ")");
  }
}
