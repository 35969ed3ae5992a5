package dev.amalgam.tensor;

/** bfloat16 conversions with the native kernels' rounding (amalgam.h contract point 5). */
public final class Bf16 {
  private Bf16() {}

  /** Exact widening of bf16 bits to a float. */
  public static float toFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /**
   * Round to nearest even; a NaN becomes a quiet NaN with the sign and top payload bits of the
   * input.
   */
  public static short fromFloat(float value) {
    int u = Float.floatToRawIntBits(value);
    if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 0x0040);
    u += 0x7fff + ((u >>> 16) & 1);
    return (short) (u >>> 16);
  }
}
