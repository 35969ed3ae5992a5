package dev.amalgam.kernels;

/**
 * Spherical linear interpolation with mergekit's semantics (docs/merge-semantics.md §2.3): the
 * whole tensor is one vector; each input is normalised only if its norm exceeds {@link #EPS}; if
 * the normalised inputs are (anti)parallel, |cos| > {@link #DOT_THRESHOLD}, it falls back to linear
 * interpolation; otherwise the angle-derived coefficients are applied to the original, unnormalised
 * tensors, so the output norm is not forced. Computing {@link Coefficients} needs only the three
 * reductions of {@link Dot3}; applying them is one weighted sum, so a tensor of any size is
 * processed in two streaming passes without temporaries.
 */
public final class Slerp {
  /** mergekit's DOT_THRESHOLD. */
  public static final double DOT_THRESHOLD = 0.9995;

  /** mergekit's eps: norms at or below it leave the vector unnormalised. */
  public static final double EPS = 1e-8;

  private Slerp() {}

  /**
   * What to apply: {@code out = s0 * base + s1 * other}.
   *
   * @param s0 coefficient of the base (v0)
   * @param s1 coefficient of the other model (v1)
   * @param cosine the cosine mergekit compares against the threshold
   * @param linearFallback whether the inputs were (anti)parallel and plain lerp was used
   */
  public record Coefficients(float s0, float s1, double cosine, boolean linearFallback) {}

  /**
   * Coefficients for interpolation factor {@code t} given the reductions of (base, other).
   *
   * @throws IllegalArgumentException if t is not finite
   */
  public static Coefficients coefficients(Dot3 d, double t) {
    if (!Double.isFinite(t)) throw new IllegalArgumentException("slerp t must be finite, got " + t);
    double n0 = Math.sqrt(d.xx());
    double n1 = Math.sqrt(d.yy());
    double cosine = d.xy() / ((n0 > EPS ? n0 : 1.0) * (n1 > EPS ? n1 : 1.0));
    if (Double.isNaN(cosine) || Math.abs(cosine) > DOT_THRESHOLD) {
      return new Coefficients((float) (1.0 - t), (float) t, cosine, true);
    }
    double theta0 = Math.acos(cosine);
    double sinTheta0 = Math.sin(theta0);
    double thetaT = theta0 * t;
    double s0 = Math.sin(theta0 - thetaT) / sinTheta0;
    double s1 = Math.sin(thetaT) / sinTheta0;
    return new Coefficients((float) s0, (float) s1, cosine, false);
  }
}
