package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.io.IOException;
import java.util.Locale;

/**
 * Karcher mean (mergekit {@code karcher}, docs/merge-semantics.md §2.6): the Riemannian barycentre
 * of the inputs' directions on the unit hypersphere, found by fixed-point iteration, scaled by the
 * mean norm. Every input, base included, has weight {@code 1/N}; inputs with norm at most {@code
 * tol} are left out of the iteration (their weight is spread over the others) but still count in
 * the output norm {@code sum_i |X_i| / N}.
 *
 * <p>Streaming without holding the estimate: the initial mean is a combination of the unit inputs
 * {@code u_i}, and each update {@code u <- cos|T| u + sin|T| T/|T|} with {@code T = sum_i a_i
 * (theta_i / sin theta_i)(u_i - cos theta_i u)} is again a combination of the {@code u_i} and
 * {@code u}, hence of the {@code u_i}. So {@code u = sum_i c_i u_i}, every dot {@code u . u_i},
 * every norm {@code |T|} and {@code |u|} is a quadratic form of the Gram matrix {@code G_ij = u_i .
 * u_j}, and the whole iteration runs on N coefficients. One pass computes the Gram matrix; one more
 * emits {@code sum_i c_i X_i} with the scale folded into {@code c_i}. The result equals the
 * documented algorithm up to floating-point rounding (the algebra is the same, reassociated).
 *
 * <p>Against mergekit: norms, dots and the iteration run in double and each output element is an
 * f32 sum rounded once, where mergekit keeps the unit tensors and the mean in the input dtype (bf16
 * for bf16 models) and rounds at every update; otherwise the constants, the {@code tol} tests and
 * the zero-norm rules are mergekit's. A configuration needs at least two inputs (the base counts).
 */
final class KarcherMerge {
  /** The {@code karcher} method: every input, base_model included, with equal weight. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("karcher")
          .displayName("Karcher Mean")
          .reference("https://en.wikipedia.org/wiki/Karcher_mean")
          .parameters(
              ParameterSpec.optional(
                  "max_iter", Scope.GLOBAL, Type.NUMBER, 10.0, "most fixed-point iterations"),
              ParameterSpec.optional(
                  "tol",
                  Scope.GLOBAL,
                  Type.NUMBER,
                  1e-5,
                  "convergence tolerance; also the smallest norm and angle that count"))
          .inputs(
              InputRule.baseMerged(
                  2,
                  InputRule.UNLIMITED,
                  "{method} averages two or more models (base_model counts), got {count}: {inputs}"))
          .plans(KarcherMerge::plan);

  private KarcherMerge() {}

  /** The Karcher mean of every input, after checking {@code max_iter} and {@code tol}. */
  static TensorOperation plan(TensorContext context) {
    double maxIter = context.number("max_iter");
    if (!(maxIter >= 0) || maxIter != Math.rint(maxIter) || maxIter > 1_000_000) {
      throw new ConfigException(
          "parameters.max_iter",
          "max_iter must be a whole number from 0 to 1000000, got " + maxIter);
    }
    double tol = context.number("tol");
    if (!(tol >= 0)) {
      throw new ConfigException("parameters.tol", "tol must be a non-negative number, got " + tol);
    }
    int n = context.inputs().size();
    int[] inputs = new int[n];
    for (int i = 0; i < n; i++) inputs[i] = i;
    return new Operation(inputs, (int) maxIter, tol);
  }

  /** Pass 1: the Gram matrix; then the iteration on coefficients; pass 2: the combination. */
  static final class Operation implements TensorOperation {
    private final int[] inputs;
    private final int maxIter;
    private final double tol;

    Operation(int[] inputs, int maxIter, double tol) {
      this.inputs = inputs;
      this.maxIter = maxIter;
      this.tol = tol;
    }

    @Override
    public String describe() {
      return String.format(
          Locale.ROOT, "karcher max_iter=%d tol=%.3g over %d models", maxIter, tol, inputs.length);
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      FloatChunks reader = new FloatChunks(io);
      double[][] g = SphericalPasses.gram(io, reader, inputs, -1);
      SphericalPasses.emitCombination(io, reader, inputs, -1, coefficients(g, maxIter, tol));
    }

    /**
     * The coefficients {@code c_i} of {@code sum c_i X_i} that equal the Karcher mean, from the
     * inputs' Gram matrix.
     */
    static double[] coefficients(double[][] g, int maxIter, double tol) {
      int n = g.length;
      double[] norms = new double[n];
      for (int i = 0; i < n; i++) norms[i] = Math.sqrt(Math.max(0.0, g[i][i]));
      double[] out = new double[n];
      int valid = 0;
      for (double norm : norms) if (norm > tol) valid++;
      if (valid == 0) return out; // all zero: mergekit returns zeros
      int[] index = new int[valid];
      for (int i = 0, v = 0; i < n; i++) if (norms[i] > tol) index[v++] = i;
      double alpha = 1.0 / valid; // equal weights 1/N renormalised over the valid inputs
      double[][] gu = new double[valid][valid]; // Gram matrix of the unit vectors
      for (int a = 0; a < valid; a++) {
        for (int b = 0; b < valid; b++) {
          gu[a][b] = g[index[a]][index[b]] / (norms[index[a]] * norms[index[b]]);
        }
      }
      double[] u = new double[valid];
      java.util.Arrays.fill(u, alpha);
      double meanNorm = SphericalPasses.norm(gu, u);
      if (meanNorm < tol) {
        java.util.Arrays.fill(u, 0.0);
        u[0] = 1.0;
      } else {
        for (int k = 0; k < valid; k++) u[k] /= meanNorm;
      }
      double[] tangent = new double[valid];
      for (int iter = 0; iter < maxIter; iter++) {
        java.util.Arrays.fill(tangent, 0.0);
        for (int i = 0; i < valid; i++) {
          double cos = 0;
          for (int j = 0; j < valid; j++) cos += gu[i][j] * u[j];
          cos = Math.max(-1.0, Math.min(1.0, cos));
          double theta = Math.acos(cos);
          if (theta < tol) continue;
          double f = alpha * theta / Math.sin(theta);
          tangent[i] += f;
          for (int k = 0; k < valid; k++) tangent[k] -= f * cos * u[k];
        }
        double tangentNorm = SphericalPasses.norm(gu, tangent);
        if (tangentNorm < tol) break;
        double cos = Math.cos(tangentNorm);
        double sin = Math.sin(tangentNorm);
        for (int k = 0; k < valid; k++) u[k] = cos * u[k] + sin * tangent[k] / tangentNorm;
        double unitNorm = SphericalPasses.norm(gu, u);
        if (unitNorm > tol) for (int k = 0; k < valid; k++) u[k] /= unitNorm;
      }
      double scale = 0;
      for (double norm : norms) scale += norm / n; // original weights, zero-norm inputs included
      for (int k = 0; k < valid; k++) out[index[k]] = scale * u[k] / norms[index[k]];
      return out;
    }
  }
}
