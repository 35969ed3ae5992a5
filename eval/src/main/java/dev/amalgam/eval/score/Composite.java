package dev.amalgam.eval.score;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A weighted mean of named corpus metrics, each on a 0–100 scale. Published clinical composites do
 * not say how they were formed, so the components are configurable and {@link #definition()} is
 * printed with every number.
 *
 * <p>The default is the unweighted mean of ROUGE-L F, sacreBLEU corpus BLEU, METEOR and BERTScore
 * F. Metrics on a 0–1 scale (ROUGE, METEOR, BERTScore, HF BLEU) are multiplied by 100; sacreBLEU is
 * already on 0–100.
 */
public final class Composite {
  /** The default components. */
  public static final String DEFAULT_SPEC = "rougeL:1,bleu:1,meteor:1,bertscore_f:1";

  /** Metrics reported on a 0–100 scale already; every other component is scaled by 100. */
  private static final Set<String> PERCENT_SCALE = Set.of("bleu", "sentence_bleu");

  /** Metrics a composite may name. */
  public static final List<String> COMPONENTS =
      List.of(
          "rouge1",
          "rouge2",
          "rougeL",
          "rougeLsum",
          "bleu",
          "sentence_bleu",
          "bleu_hf",
          "meteor",
          "bertscore_p",
          "bertscore_r",
          "bertscore_f");

  private final Map<String, Double> weights;

  private Composite(Map<String, Double> weights) {
    this.weights = weights;
  }

  /** The default composite. */
  public static Composite defaults() {
    return parse(DEFAULT_SPEC);
  }

  /**
   * Parses {@code name:weight,name:weight,...} (a bare name has weight 1).
   *
   * @throws IllegalArgumentException naming the bad component
   */
  public static Composite parse(String spec) {
    Map<String, Double> weights = new LinkedHashMap<>();
    for (String part : spec.split(",")) {
      String item = part.strip();
      if (item.isEmpty()) continue;
      String name = item;
      double weight = 1;
      int colon = item.indexOf(':');
      if (colon >= 0) {
        name = item.substring(0, colon).strip();
        String w = item.substring(colon + 1).strip();
        try {
          weight = Double.parseDouble(w);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "composite: weight of " + name + " is not a number: '" + w + "'");
        }
        if (!(weight > 0) || Double.isInfinite(weight)) {
          throw new IllegalArgumentException(
              "composite: weight of " + name + " must be positive, got " + w);
        }
      }
      if (!COMPONENTS.contains(name)) {
        throw new IllegalArgumentException(
            "composite: unknown component '"
                + name
                + "' (known: "
                + String.join(", ", COMPONENTS)
                + ")");
      }
      if (weights.put(name, weight) != null) {
        throw new IllegalArgumentException("composite: component " + name + " is given twice");
      }
    }
    if (weights.isEmpty())
      throw new IllegalArgumentException("composite: no components in '" + spec + "'");
    return new Composite(weights);
  }

  /** The components and their weights, in the order given. */
  public Map<String, Double> weights() {
    return java.util.Collections.unmodifiableMap(weights);
  }

  /** The components that {@code available} lacks. */
  public List<String> missing(Set<String> available) {
    List<String> out = new ArrayList<>();
    for (String name : weights.keySet()) if (!available.contains(name)) out.add(name);
    return out;
  }

  /**
   * The weighted mean of the components, each on 0–100.
   *
   * @throws IllegalArgumentException if a component is missing from {@code metrics}
   */
  public double compute(Map<String, Double> metrics) {
    double sum = 0;
    double total = 0;
    for (Map.Entry<String, Double> e : weights.entrySet()) {
      Double value = metrics.get(e.getKey());
      if (value == null)
        throw new IllegalArgumentException("composite: metric " + e.getKey() + " was not computed");
      sum += e.getValue() * scaled(e.getKey(), value);
      total += e.getValue();
    }
    return sum / total;
  }

  /** A metric on the 0–100 scale the composite uses. */
  public static double scaled(String name, double value) {
    return PERCENT_SCALE.contains(name) ? value : 100 * value;
  }

  /**
   * What the number means, e.g. {@code mean(100*rougeL, bleu, 100*meteor, 100*bertscore_f)} or,
   * with weights, {@code (2*100*rougeL + 1*bleu) / 3}.
   */
  public String definition() {
    boolean equal = weights.values().stream().distinct().count() == 1;
    List<String> terms = new ArrayList<>();
    double total = 0;
    for (Map.Entry<String, Double> e : weights.entrySet()) {
      String term = (PERCENT_SCALE.contains(e.getKey()) ? "" : "100*") + e.getKey();
      terms.add(equal ? term : format(e.getValue()) + "*" + term);
      total += e.getValue();
    }
    if (equal) return "mean(" + String.join(", ", terms) + ")";
    return "(" + String.join(" + ", terms) + ") / " + format(total);
  }

  /** The spec form, {@code name:weight,...}, for records that must rebuild the composite. */
  public String spec() {
    List<String> parts = new ArrayList<>();
    weights.forEach((k, v) -> parts.add(k + ":" + format(v)));
    return String.join(",", parts);
  }

  private static String format(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%s", v);
  }
}
