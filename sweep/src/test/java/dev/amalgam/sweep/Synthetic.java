package dev.amalgam.sweep;

import java.util.LinkedHashMap;
import java.util.Map;

/** Synthetic sweep results for the unit tests: points with given objectives, no evaluation run. */
final class Synthetic {
  private Synthetic() {}

  static PointResult input(int index, String model, double t, double instruction, double clinical) {
    GridPoint p = new GridPoint(index, GridPoint.INPUT, GridPoint.INPUT, model, Map.of(), t);
    return result(p, instruction, clinical);
  }

  static PointResult merge(
      int index, String method, double t, double instruction, double clinical) {
    Map<String, Map<String, Double>> parameters = new LinkedHashMap<>();
    parameters.put(Grid.primaryAxis(method), Map.of("", t));
    if (Grid.axesOf(method).contains("density")) parameters.put("density", Map.of("", 0.5));
    GridPoint p = new GridPoint(index, GridPoint.GRID, method, null, parameters, t);
    return result(p, instruction, clinical);
  }

  static PointResult result(GridPoint p, double instruction, double clinical) {
    return new PointResult(
        p,
        "key" + p.index(),
        Map.of(),
        new Measure(clinical, clinical - 1, clinical + 1),
        new Measure(instruction, instruction - 0.05, instruction + 0.05));
  }
}
