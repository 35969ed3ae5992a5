package dev.amalgam.sweep;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The recommended merge and why. The rule ({@link SweepSpec.RecommendationRule}) picks among the
 * merged points with both objectives known; input models are the reference, never the answer.
 *
 * @param point the recommended merge, if any point qualifies
 * @param rule the rule, in words
 * @param reason why this point (or why none)
 */
public record Recommendation(Optional<PointResult> point, String rule, String reason) {
  /**
   * Applies the rule.
   *
   * <ul>
   *   <li>{@code within-tolerance}: the highest clinical objective among the merges whose
   *       instruction objective is at least the reference model's minus the tolerance;
   *   <li>{@code clinical-floor}: the highest instruction objective among the merges whose clinical
   *       objective is at least the reference model's minus the tolerance;
   *   <li>{@code max-clinical} / {@code max-instruction}: the highest objective, nothing else.
   * </ul>
   *
   * Ties go to the other objective, then to the earlier point.
   */
  public static Recommendation choose(
      SweepSpec.RecommendationRule rule, List<PointResult> results) {
    PointResult reference =
        results.stream()
            .filter(r -> r.point().isInput() && r.point().model().equals(rule.reference()))
            .findFirst()
            .orElse(null);
    List<PointResult> merges =
        results.stream().filter(r -> !r.point().isInput() && r.isComparable()).toList();
    Comparator<PointResult> byClinical =
        Comparator.comparingDouble((PointResult r) -> r.clinical().value())
            .thenComparingDouble(r -> r.instruction().value())
            .thenComparingInt(r -> -r.point().index());
    Comparator<PointResult> byInstruction =
        Comparator.comparingDouble((PointResult r) -> r.instruction().value())
            .thenComparingDouble(r -> r.clinical().value())
            .thenComparingInt(r -> -r.point().index());
    String tol = GridPoint.format(rule.tolerance());
    switch (rule.rule()) {
      case "max-clinical" -> {
        return pick(merges, byClinical, "the merge with the highest clinical objective", "");
      }
      case "max-instruction" -> {
        return pick(
            merges,
            byInstruction,
            "the merge with the highest instruction-following objective",
            "");
      }
      case "clinical-floor" -> {
        String text =
            "the highest instruction-following objective among the merges whose clinical objective is"
                + " within "
                + tol
                + " of "
                + rule.reference()
                + "'s";
        if (reference == null || !reference.clinical().isKnown()) {
          return new Recommendation(
              Optional.empty(), text, "the reference model has no clinical result");
        }
        double floor = reference.clinical().value() - rule.tolerance();
        return pick(
            merges.stream().filter(r -> r.clinical().value() >= floor - 1e-12).toList(),
            byInstruction,
            text,
            String.format(Locale.ROOT, " (clinical floor %.4f)", floor));
      }
      default -> {
        String text =
            "the highest clinical objective among the merges whose instruction-following objective is"
                + " within "
                + tol
                + " of "
                + rule.reference()
                + "'s";
        if (reference == null || !reference.instruction().isKnown()) {
          return new Recommendation(
              Optional.empty(), text, "the reference model has no instruction-following result");
        }
        double floor = reference.instruction().value() - rule.tolerance();
        return pick(
            merges.stream().filter(r -> r.instruction().value() >= floor - 1e-12).toList(),
            byClinical,
            text,
            String.format(Locale.ROOT, " (instruction-following floor %.4f)", floor));
      }
    }
  }

  private static Recommendation pick(
      List<PointResult> candidates, Comparator<PointResult> order, String rule, String detail) {
    Optional<PointResult> best = candidates.stream().max(order);
    String reason =
        best.isPresent()
            ? candidates.size() + " of the merges qualified" + detail
            : "no merge qualifies" + detail;
    return new Recommendation(best, rule, reason);
  }
}
