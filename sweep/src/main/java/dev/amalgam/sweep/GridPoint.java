package dev.amalgam.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One point of a sweep: an input model (a reference point) or a merge with its parameters.
 *
 * @param index the point's position in the sweep (inputs first, then the grid, then refinement)
 * @param kind {@link #INPUT}, {@link #GRID} or {@link #REFINE}
 * @param method the merge method, or {@link #INPUT} for an input model
 * @param model an input point's model name (null for merges)
 * @param parameters merges: parameter name to filter ("" for every tensor) to value
 * @param t the point's position on the interpolation axis: t (or the weight) of a merge, averaged
 *     over filters; 0 for the base model and 1 for the other of two models; NaN where none applies
 */
public record GridPoint(
    int index,
    String kind,
    String method,
    String model,
    Map<String, Map<String, Double>> parameters,
    double t) {
  /** An input model evaluated as a reference point. */
  public static final String INPUT = "input";

  /** A point of the grid. */
  public static final String GRID = "grid";

  /** A point added by refinement. */
  public static final String REFINE = "refine";

  /** Copies the parameters (keeping their order). */
  public GridPoint {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(method, "method");
    Map<String, Map<String, Double>> copy = new LinkedHashMap<>();
    parameters.forEach(
        (k, v) -> copy.put(k, java.util.Collections.unmodifiableMap(new LinkedHashMap<>(v))));
    parameters = java.util.Collections.unmodifiableMap(copy);
  }

  /** Whether this point is an input model rather than a merge. */
  public boolean isInput() {
    return kind.equals(INPUT);
  }

  /** The same point at another index. */
  public GridPoint withIndex(int newIndex) {
    return new GridPoint(newIndex, kind, method, model, parameters, t);
  }

  /**
   * A short label: {@code input clinical}, {@code slerp t=0.5}, {@code ties weight=0.5
   * density=0.7}.
   */
  public String label() {
    if (isInput()) return "input " + model;
    StringBuilder b = new StringBuilder(method);
    parameters.forEach(
        (name, byFilter) ->
            byFilter.forEach(
                (filter, value) ->
                    b.append(' ')
                        .append(name)
                        .append(filter.isEmpty() ? "" : "[" + filter + "]")
                        .append('=')
                        .append(format(value))));
    return b.toString();
  }

  /** A number as labels and keys write it: at most 10 decimals, no trailing zeros. */
  public static String format(double v) {
    if (Double.isNaN(v)) return "NaN";
    String s = String.format(Locale.ROOT, "%.10f", v);
    s = s.replaceFirst("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  /** The point as plan.json stores it. */
  public ObjectNode toJson() {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("index", index);
    n.put("kind", kind);
    n.put("method", method);
    if (model != null) n.put("model", model);
    ObjectNode p = n.putObject("parameters");
    parameters.forEach(
        (name, byFilter) -> {
          ObjectNode f = p.putObject(name);
          byFilter.forEach((filter, value) -> f.put(filter.isEmpty() ? "default" : filter, value));
        });
    if (Double.isNaN(t)) {
      n.putNull("t");
    } else {
      n.put("t", t);
    }
    n.put("label", label());
    return n;
  }

  /** A point read back from {@link #toJson()}. */
  public static GridPoint fromJson(JsonNode n) {
    Map<String, Map<String, Double>> parameters = new LinkedHashMap<>();
    n.path("parameters")
        .properties()
        .forEach(
            e -> {
              Map<String, Double> byFilter = new LinkedHashMap<>();
              e.getValue()
                  .properties()
                  .forEach(
                      f ->
                          byFilter.put(
                              f.getKey().equals("default") ? "" : f.getKey(),
                              f.getValue().asDouble()));
              parameters.put(e.getKey(), byFilter);
            });
    return new GridPoint(
        n.path("index").asInt(),
        n.path("kind").asText(),
        n.path("method").asText(),
        n.hasNonNull("model") ? n.get("model").asText() : null,
        parameters,
        n.path("t").isNumber() ? n.get("t").asDouble() : Double.NaN);
  }
}
