package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;

/**
 * The combine step of the task-arithmetic family over weighted task vectors {@code W_k = w_k *
 * sparsified d_k}, held in one array, model k's block at offset {@code k * stride}. Sums run over
 * the models in merge order, in f32. The loops run in {@link Kernels} (native where the library is
 * loaded; the Java reference in {@code JavaKernels} otherwise), which give the same bits.
 */
final class SignConsensus {
  private SignConsensus() {}

  /**
   * TIES sign consensus and disjoint merge: {@code s = sign(sum_k W_k)} with a zero sum counted
   * positive; models agree where {@code W_k} has sign s (zeros never agree); {@code mixed = sum of
   * agreeing W_k}; with normalize, divided by the sum of the agreeing models' weights (1 where none
   * agree); times lambda unless it is 1; plus the base.
   */
  static void disjointMerge(
      Kernels kernels,
      float[] w,
      int stride,
      float[] weights,
      int count,
      boolean normalize,
      float[] base,
      float lambda,
      float[] out) {
    kernels.disjointMerge(w, stride, weights.length, weights, count, normalize, base, lambda, out);
  }

  /**
   * Without consensus: {@code mixed = sum_k W_k}, divided by {@code divisor} (the weights' sum, or
   * 1) unless it is 1, times lambda unless it is 1, plus the base.
   */
  static void plainMerge(
      Kernels kernels,
      float[] w,
      int stride,
      int models,
      int count,
      float divisor,
      float[] base,
      float lambda,
      float[] out) {
    kernels.plainMerge(w, stride, models, count, divisor, base, lambda, out);
  }
}
