package dev.amalgam.tensor;

/**
 * IEEE binary16 conversions with the native kernels' rounding (amalgam.h contract point 5). Java 17
 * has no {@code Float.float16ToFloat}, and the rounding must equal F16C's bit for bit, hence
 * written out here.
 */
public final class F16 {
  private F16() {}

  /** Exact widening; NaN is quieted as F16C's vcvtph2ps does. */
  public static float toFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    int u;
    if (exp == 0x1f) {
      u = sign | 0x7f800000 | (mant << 13) | (mant != 0 ? 0x00400000 : 0);
    } else if (exp != 0) {
      u = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
      u = sign;
    } else {
      int shift = Integer.numberOfLeadingZeros(mant) - 21; // shifts that bring bit 10 to the top
      mant = (mant << shift) & 0x3ff;
      u = sign | ((113 - shift) << 23) | (mant << 13);
    }
    return Float.intBitsToFloat(u);
  }

  /** Round to nearest even, keeping subnormals; overflow gives infinity; NaN is quieted. */
  public static short fromFloat(float value) {
    int u = Float.floatToRawIntBits(value);
    int sign = (u >>> 16) & 0x8000;
    int a = u & 0x7fffffff;
    if (a > 0x7f800000) return (short) (sign | 0x7e00 | ((a >>> 13) & 0x3ff));
    if (a >= 0x477ff000) return (short) (sign | 0x7c00);
    if (a >= 0x38800000) {
      int r = a + 0x0fff + ((a >>> 13) & 1) - 0x38000000;
      return (short) (sign | (r >>> 13));
    }
    if (a < 0x33000000) return (short) sign;
    int exp = a >>> 23;
    int mant = (a & 0x7fffff) | 0x800000;
    int shift = 126 - exp;
    int q = mant >>> shift;
    int rem = mant & ((1 << shift) - 1);
    int half = 1 << (shift - 1);
    if (rem > half || (rem == half && (q & 1) != 0)) q++;
    return (short) (sign | q);
  }
}
