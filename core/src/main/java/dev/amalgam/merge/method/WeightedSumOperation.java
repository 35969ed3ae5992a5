package dev.amalgam.merge.method;

import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * {@code out = sum_k c_k * input_k}, in one streaming pass: the step every interpolating method
 * ends with. Inputs whose coefficient is exactly zero are left out, so that a zero weight
 * contributes nothing, not even its NaNs or a flipped sign of zero; {@code t = 0} therefore
 * reproduces the base bit for bit.
 *
 * <p>Where the coefficients sum to 1 (up to their rounding to float) and every input chunk holds
 * the same bytes, the exact result is the input itself, so the chunk is copied (rounded to the
 * output type) instead of being recomputed: rounding in {@code 0.7 * x + 0.3 * x} would otherwise
 * move some elements by an ulp, and merging a model with itself must give the model back.
 */
final class WeightedSumOperation implements TensorOperation {
  private final int[] inputs;
  private final float[] coefficients;
  private final String description;

  WeightedSumOperation(int[] inputs, float[] coefficients, String description) {
    int kept = 0;
    for (float c : coefficients) if (c != 0f) kept++;
    if (kept == 0) {
      // every weight is zero: the result is zero, computed from the first input so shapes and NaNs
      // stay honest
      this.inputs = new int[] {inputs[0]};
      this.coefficients = new float[] {0f};
    } else {
      this.inputs = new int[kept];
      this.coefficients = new float[kept];
      for (int i = 0, j = 0; i < coefficients.length; i++) {
        if (coefficients[i] != 0f) {
          this.inputs[j] = inputs[i];
          this.coefficients[j++] = coefficients[i];
        }
      }
    }
    this.description = description;
  }

  @Override
  public String describe() {
    return description;
  }

  float[] coefficients() {
    return coefficients.clone();
  }

  int[] inputs() {
    return inputs.clone();
  }

  @Override
  public void run(TensorStreams io) throws IOException, InterruptedException {
    run(io, inputs, coefficients);
  }

  static void run(TensorStreams io, int[] inputs, float[] coefficients)
      throws IOException, InterruptedException {
    long n = io.elementCount();
    long chunk = io.chunkElements();
    DType outType = io.outputType();
    ByteBuffer[] slices = new ByteBuffer[inputs.length];
    DType[] types = new DType[inputs.length];
    for (int k = 0; k < inputs.length; k++) types[k] = io.inputType(inputs[k]);
    boolean affine = isAffine(coefficients) && Arrays.stream(types).allMatch(t -> t == types[0]);
    for (long first = 0; first < n; first += chunk) {
      long count = Math.min(chunk, n - first);
      for (int k = 0; k < inputs.length; k++) slices[k] = io.inputChunk(inputs[k], first, count);
      ByteBuffer out = io.outputChunk();
      if (affine && allEqual(slices)) {
        io.kernels().convert(slices[0], types[0], out, outType, count);
      } else {
        io.kernels().weightedSum(slices, types, coefficients, out, outType, count);
      }
      out.position(0).limit(Math.toIntExact(outType.byteCount(count)));
      io.emit(out);
    }
  }

  /**
   * Whether the coefficients sum to 1 up to their own rounding to float ({@code (float) 0.9 +
   * (float) 0.1} is 1 - 2.2e-8): interpolation weights such as (1 - t, t) are meant to sum to 1.
   */
  static boolean isAffine(float[] coefficients) {
    double sum = 0;
    for (float c : coefficients) sum += c;
    return coefficients.length > 1 && Math.abs(sum - 1.0) <= 0x1p-22 * coefficients.length;
  }

  private static boolean allEqual(ByteBuffer[] slices) {
    for (int k = 1; k < slices.length; k++) {
      if (slices[k].mismatch(slices[0]) >= 0) return false;
    }
    return true;
  }

  @Override
  public String toString() {
    return description + " " + Arrays.toString(coefficients);
  }
}
