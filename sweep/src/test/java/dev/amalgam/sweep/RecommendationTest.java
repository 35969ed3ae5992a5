package dev.amalgam.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The recommendation rules on synthetic results. */
class RecommendationTest {
  private static final List<PointResult> RESULTS =
      List.of(
          Synthetic.input(0, "clinical", 0, 0.20, 40),
          Synthetic.input(1, "instruct", 1, 0.80, 10),
          Synthetic.merge(2, "slerp", 0.25, 0.50, 36),
          Synthetic.merge(3, "slerp", 0.5, 0.77, 30),
          Synthetic.merge(4, "slerp", 0.75, 0.79, 22),
          Synthetic.merge(5, "linear", 0.5, 0.85, 12));

  private static String pick(String rule, double tolerance, String reference) {
    return Recommendation.choose(
            new SweepSpec.RecommendationRule(rule, tolerance, reference), RESULTS)
        .point()
        .map(r -> r.point().label())
        .orElse("none");
  }

  @Test
  void byDefaultTheBestClinicalScoreWithinTheToleranceOfTheInstructModel() {
    assertEquals("slerp t=0.5", pick("within-tolerance", 0.05, "instruct"));
    assertEquals("slerp t=0.75", pick("within-tolerance", 0.01, "instruct"));
    assertEquals("slerp t=0.25", pick("within-tolerance", 0.5, "instruct"));
  }

  @Test
  void noMergeQualifiesBelowTheFloor() {
    Recommendation r =
        Recommendation.choose(
            new SweepSpec.RecommendationRule("within-tolerance", 0, "instruct"),
            RESULTS.subList(0, 5));
    assertTrue(r.point().isEmpty());
    assertTrue(r.reason().startsWith("no merge qualifies"), r.reason());
  }

  @Test
  void theOtherRulesAndInputsAreNeverRecommended() {
    assertEquals("slerp t=0.25", pick("max-clinical", 0, "instruct"));
    assertEquals("linear t=0.5", pick("max-instruction", 0, "instruct"));
    // The best instruction-following merge whose clinical score is within 5 of the clinical
    // model's.
    assertEquals("slerp t=0.25", pick("clinical-floor", 5, "clinical"));
    assertEquals("slerp t=0.5", pick("clinical-floor", 10, "clinical"));
  }

  @Test
  void tiesGoToTheOtherObjectiveThenTheEarlierPoint() {
    List<PointResult> tied =
        List.of(
            Synthetic.input(0, "instruct", 1, 0.5, 10),
            Synthetic.merge(1, "slerp", 0.25, 0.6, 30),
            Synthetic.merge(2, "slerp", 0.5, 0.7, 30),
            Synthetic.merge(3, "linear", 0.5, 0.7, 30));
    Recommendation r =
        Recommendation.choose(
            new SweepSpec.RecommendationRule("within-tolerance", 0, "instruct"), tied);
    assertEquals(2, r.point().orElseThrow().point().index());
  }
}
