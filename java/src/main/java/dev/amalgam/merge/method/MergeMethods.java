package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.Suggestions;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The registry of merge methods, by their mergekit names. */
public final class MergeMethods {
  private static final List<MergeMethod> ALL = Stream.concat(
      Stream.of(new LinearMerge(), new SlerpMerge()), TaskArithmeticMerge.all().stream()).toList();
  private static final Map<String, MergeMethod> BY_NAME =
      ALL.stream().collect(Collectors.toUnmodifiableMap(MergeMethod::name, Function.identity()));
  /** mergekit methods a later version implements; named so that the error says "not yet", not "unknown". */
  private static final Set<String> MERGEKIT_ONLY =
      Set.of("model_stock", "nuslerp", "multislerp", "karcher", "sce", "nearswap", "arcee_fusion", "ram",
          "ramplus_tl", "passthrough");

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
   * @throws ConfigException at "merge_method" for unknown or not yet implemented names, with a suggestion
   */
  public static MergeMethod forConfig(String name) {
    MergeMethod m = BY_NAME.get(name);
    if (m != null) return m;
    String available = ALL.stream().map(MergeMethod::name).collect(Collectors.joining(", "));
    String normalised = name.toLowerCase(Locale.ROOT).replace('-', '_');
    if (BY_NAME.containsKey(normalised)) {
      throw new ConfigException("merge_method", "unknown method '" + name + "'; did you mean '" + normalised + "'?");
    }
    if (MERGEKIT_ONLY.contains(normalised)) {
      throw new ConfigException("merge_method", "'" + name + "' is a mergekit method this version of Amalgam does"
          + " not implement yet; available: " + available);
    }
    String hint = Suggestions.didYouMean(normalised, BY_NAME.keySet());
    throw new ConfigException("merge_method", "unknown method '" + name + "'" + hint + " (available: " + available
        + ")");
  }
}
