package dev.amalgam.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The refinement rule on synthetic results. */
class RefinementTest {
  private static List<String> labels(List<GridPoint> points) {
    return points.stream().map(GridPoint::label).toList();
  }

  /** A knee between t = 0.5 and 0.75 of slerp: the largest jump in the trade-off plane. */
  private static final List<PointResult> KNEE =
      List.of(
          Synthetic.input(0, "clinical", 0, 0.20, 40),
          Synthetic.input(1, "instruct", 1, 0.80, 10),
          Synthetic.merge(2, "slerp", 0.25, 0.22, 39),
          Synthetic.merge(3, "slerp", 0.5, 0.25, 38),
          Synthetic.merge(4, "slerp", 0.75, 0.70, 15),
          Synthetic.merge(5, "linear", 0.5, 0.40, 30));

  @Test
  void addsTheMidpointWhereTheFrontChangesMost() {
    List<GridPoint> added = Refinement.propose(KNEE, 1, 6);
    assertEquals(List.of("slerp t=0.625"), labels(added));
    assertEquals(6, added.get(0).index());
    assertEquals(GridPoint.REFINE, added.get(0).kind());
    assertEquals(0.625, added.get(0).t());
  }

  @Test
  void addsUpToNPointsInOrderOfChangeAcrossMethodsWithTheInputsAsEnds() {
    // slerp: 0->.25 small, .25->.5 small, .5->.75 large, .75->1 medium; linear: 0->.5 and .5->1
    // medium.
    List<GridPoint> added = Refinement.propose(KNEE, 3, 6);
    assertEquals(List.of("slerp t=0.625", "linear t=0.75", "linear t=0.25"), labels(added));
    assertEquals(List.of(6, 7, 8), added.stream().map(GridPoint::index).toList());
  }

  @Test
  void keepsOtherParametersAndSkipsFlatOrNarrowIntervals() {
    List<PointResult> ties =
        List.of(
            Synthetic.merge(0, "ties", 0.2, 0.5, 20),
            Synthetic.merge(1, "ties", 0.4, 0.5, 20),
            Synthetic.merge(2, "ties", 0.4015, 0.9, 40),
            Synthetic.merge(3, "ties", 0.8, 0.6, 25));
    List<GridPoint> added = Refinement.propose(ties, 5, 4);
    // 0.2 -> 0.4 is flat (no change), 0.4 -> 0.4015 is narrower than twice MIN_GAP.
    assertEquals(List.of("ties weight=0.60075 density=0.5"), labels(added));
    assertEquals(0.5, added.get(0).parameters().get("density").get(""));
  }

  @Test
  void zeroAsksForNothing() {
    assertTrue(Refinement.propose(KNEE, 0, 6).isEmpty());
  }
}
