package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a merge method takes as inputs: how many models it merges and what {@code base_model} is to
 * it. {@link #check} is the one input check of every method, run once before any tensor is planned.
 *
 * <p>Error texts are templates, so that each method keeps its own wording: {@code {method}} stands
 * for the method's name, {@code {count}} for the number of merged models, {@code {total}} for the
 * number of inputs and {@code {inputs}} for the inputs' labels joined by ", ".
 *
 * @param base what the method does with {@code base_model}
 * @param min the fewest merged models
 * @param max the most merged models, or {@link #UNLIMITED}
 * @param missingBase for a required base: the error at {@code base_model} when it is not set
 * @param baseAmongModels for an optional base: the error at {@code base_model} when it is set but
 *     the inputs number only {@code max}, so the base must be one of the merged models; empty to
 *     report that as a wrong count
 * @param wrongCount the error at {@code models} when the number of merged models is outside {@code
 *     [min, max]}
 */
record InputRule(
    Base base,
    int min,
    int max,
    Optional<String> missingBase,
    Optional<String> baseAmongModels,
    String wrongCount) {
  /** {@link #max} of a method that merges any number of models. */
  static final int UNLIMITED = -1;

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{(method|count|total|inputs)}");

  /**
   * What a method does with {@code base_model}, which decides whether the base counts as a merged
   * model.
   */
  enum Base {
    /** The others are merged into or relative to it; it must be set and is not counted. */
    REQUIRED,
    /** Task vectors are taken from it when it is set; it is not counted. */
    OPTIONAL,
    /** It is merged like any other model and counted with them. */
    MERGED
  }

  InputRule {
    Objects.requireNonNull(base, "base");
    Objects.requireNonNull(wrongCount, "wrongCount");
    if (missingBase.isPresent() != (base == Base.REQUIRED)) {
      throw new IllegalArgumentException(
          "missingBase is the error of a required base, and only of one");
    }
    if (baseAmongModels.isPresent() && base != Base.OPTIONAL) {
      throw new IllegalArgumentException("baseAmongModels is the error of an optional base");
    }
  }

  /**
   * A required base and exactly one other model.
   *
   * @param purpose what the method does with the base, for the error when it is missing
   *     ("interpolates from base_model to one other model")
   */
  static InputRule baseAndOneOther(String purpose) {
    return new InputRule(
        Base.REQUIRED,
        1,
        1,
        Optional.of("{method} " + purpose + "; set base_model"),
        Optional.empty(),
        "{method} merges exactly two models (the base and one other), got {total}: {inputs}");
  }

  /**
   * A required base and at least {@code min} other models.
   *
   * @param purpose what the method does with the base, for the error when it is missing
   */
  static InputRule baseAndAtLeast(int min, String purpose) {
    return new InputRule(
        Base.REQUIRED,
        min,
        UNLIMITED,
        Optional.of("{method} " + purpose + "; set base_model"),
        Optional.empty(),
        "{method} needs at least "
            + min
            + " model"
            + (min == 1 ? "" : "s")
            + " besides base_model, got {count} (inputs: {inputs})");
  }

  /** An optional base, not counted, and {@code min} to {@code max} merged models. */
  static InputRule optionalBase(int min, int max, String wrongCount) {
    return new InputRule(Base.OPTIONAL, min, max, Optional.empty(), Optional.empty(), wrongCount);
  }

  /** {@code min} to {@code max} merged models, a {@code base_model} among them. */
  static InputRule baseMerged(int min, int max, String wrongCount) {
    return new InputRule(Base.MERGED, min, max, Optional.empty(), Optional.empty(), wrongCount);
  }

  /** This rule, with a separate error for a base that can only be one of the merged models. */
  InputRule withBaseAmongModels(String error) {
    return new InputRule(base, min, max, missingBase, Optional.of(error), wrongCount);
  }

  /**
   * Checks a merge's inputs against this rule.
   *
   * @param method the method's name, for the messages
   * @param inputLabels the inputs' references, in merge order
   * @param baseIndex index of the base model among them, or -1 without {@code base_model}
   * @throws ConfigException at {@code base_model} or {@code models}
   */
  void check(String method, List<String> inputLabels, int baseIndex) {
    boolean hasBase = baseIndex >= 0;
    int total = inputLabels.size();
    int count = hasBase && base != Base.MERGED ? total - 1 : total;
    if (!hasBase && missingBase.isPresent()) {
      throw new ConfigException("base_model", fill(missingBase.get(), method, count, inputLabels));
    }
    if (hasBase && total == max && baseAmongModels.isPresent()) {
      throw new ConfigException(
          "base_model", fill(baseAmongModels.get(), method, count, inputLabels));
    }
    if (count < min || (max != UNLIMITED && count > max)) {
      throw new ConfigException("models", fill(wrongCount, method, count, inputLabels));
    }
  }

  private static String fill(String template, String method, int count, List<String> inputLabels) {
    Matcher placeholder = PLACEHOLDER.matcher(template);
    StringBuilder text = new StringBuilder();
    while (placeholder.find()) {
      String value =
          switch (placeholder.group(1)) {
            case "method" -> method;
            case "count" -> Integer.toString(count);
            case "total" -> Integer.toString(inputLabels.size());
            default -> String.join(", ", inputLabels);
          };
      placeholder.appendReplacement(text, Matcher.quoteReplacement(value));
    }
    return placeholder.appendTail(text).toString();
  }
}
