package dev.amalgam.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Expands a sweep's grid into points: the input models first (reference points), then every method
 * with every combination of its parameters' values, in the order the sweep file gives them.
 */
public final class Grid {
  /** The methods a sweep can vary, in help order. */
  public static final List<String> METHODS =
      List.of("linear", "slerp", "task_arithmetic", "ties", "dare_ties", "dare_linear");

  private Grid() {}

  /** Whether the method interpolates two models by {@code t}. */
  public static boolean usesT(String method) {
    return method.equals("linear") || method.equals("slerp");
  }

  /** The grid parameters a method takes. */
  public static List<String> axesOf(String method) {
    if (usesT(method)) return List.of("t");
    if (method.equals("task_arithmetic")) return List.of("weight");
    return List.of("weight", "density");
  }

  /** The parameter that places a method's points on the interpolation axis. */
  public static String primaryAxis(String method) {
    return axesOf(method).get(0);
  }

  /** The input points and the grid's points, numbered from 0. */
  public static List<GridPoint> expand(SweepSpec spec) {
    List<GridPoint> out = new ArrayList<>(inputs(spec));
    for (String method : spec.grid().methods()) {
      List<Map<String, Map<String, Double>>> combos = new ArrayList<>();
      combos.add(new LinkedHashMap<>());
      for (String axis : axesOf(method)) {
        for (Map.Entry<String, List<Double>> filter : spec.grid().axes().get(axis).entrySet()) {
          List<Map<String, Map<String, Double>>> next = new ArrayList<>();
          for (Map<String, Map<String, Double>> combo : combos) {
            for (double value : filter.getValue()) {
              Map<String, Map<String, Double>> c = copy(combo);
              c.computeIfAbsent(axis, k -> new LinkedHashMap<>()).put(filter.getKey(), value);
              next.add(c);
            }
          }
          combos = next;
        }
      }
      for (Map<String, Map<String, Double>> combo : combos) {
        out.add(
            new GridPoint(
                out.size(), GridPoint.GRID, method, null, combo, position(method, combo)));
      }
    }
    return out;
  }

  /** One reference point per input model: t = 0 for the base, 1 for the other of two models. */
  static List<GridPoint> inputs(SweepSpec spec) {
    List<GridPoint> out = new ArrayList<>();
    boolean two = spec.models().size() == 2;
    for (SweepSpec.ModelInput m : spec.models()) {
      double t = !two ? Double.NaN : m.name().equals(spec.base()) ? 0 : 1;
      out.add(new GridPoint(out.size(), GridPoint.INPUT, GridPoint.INPUT, m.name(), Map.of(), t));
    }
    return out;
  }

  /** The primary parameter's value for every tensor, or the mean over its filters. */
  static double position(String method, Map<String, Map<String, Double>> parameters) {
    Map<String, Double> byFilter = parameters.get(primaryAxis(method));
    if (byFilter == null || byFilter.isEmpty()) return Double.NaN;
    if (byFilter.size() == 1) return byFilter.values().iterator().next();
    double sum = 0;
    for (double v : byFilter.values()) sum += v;
    return SweepReader.round(sum / byFilter.size());
  }

  static Map<String, Map<String, Double>> copy(Map<String, Map<String, Double>> parameters) {
    Map<String, Map<String, Double>> c = new LinkedHashMap<>();
    parameters.forEach((k, v) -> c.put(k, new LinkedHashMap<>(v)));
    return c;
  }
}
