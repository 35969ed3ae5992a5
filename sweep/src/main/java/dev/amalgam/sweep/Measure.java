package dev.amalgam.sweep;

/**
 * A value with its 95 % confidence interval; NaN where unknown.
 *
 * @param value the estimate
 * @param lower the interval's lower end
 * @param upper the interval's upper end
 */
public record Measure(double value, double lower, double upper) {
  /** No value. */
  public static final Measure NONE = new Measure(Double.NaN, Double.NaN, Double.NaN);

  /** Whether the value is a number. */
  public boolean isKnown() {
    return Double.isFinite(value);
  }

  /** Whether the interval is known. */
  public boolean hasInterval() {
    return Double.isFinite(lower) && Double.isFinite(upper);
  }
}
