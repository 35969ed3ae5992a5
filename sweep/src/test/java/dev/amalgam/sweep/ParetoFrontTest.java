package dev.amalgam.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The Pareto front on synthetic results. */
class ParetoFrontTest {
  private static List<Integer> indices(List<PointResult> front) {
    return front.stream().map(r -> r.point().index()).toList();
  }

  @Test
  void keepsTheNonDominatedPointsByRisingInstructionScore() {
    List<PointResult> results =
        List.of(
            Synthetic.input(0, "clinical", 0, 0.20, 40),
            Synthetic.input(1, "instruct", 1, 0.80, 10),
            Synthetic.merge(2, "slerp", 0.25, 0.30, 38), // front: beats clinical on instruction
            Synthetic.merge(3, "slerp", 0.5, 0.30, 30), // dominated by 2
            Synthetic.merge(4, "slerp", 0.75, 0.70, 25), // front
            Synthetic.merge(5, "linear", 0.5, 0.60, 20)); // dominated by 4
    assertEquals(List.of(0, 2, 4, 1), indices(ParetoFront.of(results)));
  }

  @Test
  void equalPointsAreBothKeptAndUnknownObjectivesLeftOut() {
    PointResult unknown =
        Synthetic.result(
            new GridPoint(3, GridPoint.GRID, "slerp", null, java.util.Map.of(), 0.5),
            Double.NaN,
            99);
    List<PointResult> results =
        List.of(
            Synthetic.merge(0, "slerp", 0.25, 0.5, 20),
            Synthetic.merge(1, "linear", 0.25, 0.5, 20),
            Synthetic.merge(2, "slerp", 0.75, 0.4, 10),
            unknown);
    assertEquals(List.of(0, 1), indices(ParetoFront.of(results)));
  }

  @Test
  void aPointBetterOnOneObjectiveAndEqualOnTheOtherDominates() {
    List<PointResult> results =
        List.of(
            Synthetic.merge(0, "slerp", 0.25, 0.5, 20), Synthetic.merge(1, "slerp", 0.5, 0.5, 21));
    assertEquals(List.of(1), indices(ParetoFront.of(results)));
  }
}
