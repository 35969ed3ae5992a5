package dev.amalgam.merge.method;

/**
 * The combine step of the task-arithmetic family over weighted task vectors {@code W_k = w_k * sparsified d_k},
 * as small loops over float arrays (a native kernel can replace them). Sums run over the models in merge order,
 * in f32.
 */
final class SignConsensus {
  private SignConsensus() {}

  /**
   * TIES sign consensus and disjoint merge: {@code s = sign(sum_k W_k)} with a zero sum counted positive; models
   * agree where {@code W_k} has sign s (zeros never agree); {@code mixed = sum of agreeing W_k}; with normalize,
   * divided by the sum of the agreeing models' weights (1 where none agree); times lambda unless it is 1; plus
   * the base.
   */
  static void disjointMerge(float[][] w, float[] weights, int count, boolean normalize, float[] base, float lambda,
      float[] out) {
    int m = weights.length;
    for (int i = 0; i < count; i++) {
      float sum = 0f;
      for (int k = 0; k < m; k++) sum += w[k][i];
      boolean positive = sum >= 0f;
      float mixed = 0f;
      float divisor = 0f;
      for (int k = 0; k < m; k++) {
        float v = w[k][i];
        if (positive ? v > 0f : v < 0f) {
          mixed += v;
          divisor += weights[k];
        }
      }
      if (normalize) {
        if (divisor == 0f) divisor = 1f;
        mixed /= divisor;
      }
      if (lambda != 1f) mixed *= lambda;
      out[i] = base[i] + mixed;
    }
  }

  /**
   * Without consensus: {@code mixed = sum_k W_k}, divided by {@code divisor} (the weights' sum, or 1) unless it
   * is 1, times lambda unless it is 1, plus the base.
   */
  static void plainMerge(float[][] w, int count, float divisor, float[] base, float lambda, float[] out) {
    int m = w.length;
    for (int i = 0; i < count; i++) {
      float mixed = 0f;
      for (int k = 0; k < m; k++) mixed += w[k][i];
      if (divisor != 1f) mixed /= divisor;
      if (lambda != 1f) mixed *= lambda;
      out[i] = base[i] + mixed;
    }
  }
}
