package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * amalgam_count_nonfinite on every path against a count written here from the definition: random
 * bit patterns that hit NaN (quiet, signalling, either sign) and infinities often, at sizes around
 * the native step and vector widths, from unaligned positions.
 */
class NonFiniteCountTest extends EveryImplementationTest {
  private static final int[] SIZES = {0, 1, 7, 31, 33, 4095, 4096, 4097, 100_003};

  /** Random bits with about one special value in eight, in the dtype's little-endian layout. */
  private static ByteBuffer randomBits(DType type, int n, long seed, long[] expected) {
    Random r = new Random(seed);
    ByteBuffer b =
        ByteBuffer.allocateDirect(n * type.byteSize() + 3).order(ByteOrder.LITTLE_ENDIAN);
    b.position(3); // unaligned
    ByteBuffer data = b.slice().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      boolean special = r.nextInt(8) == 0;
      switch (type) {
        case F32:
          {
            int bits = r.nextInt();
            if (special) bits |= 0x7f800000;
            if (special && r.nextBoolean()) bits &= 0xff800000; // an infinity
            data.putInt(4 * i, bits);
            tally(
                Float.isNaN(Float.intBitsToFloat(bits)),
                Float.isInfinite(Float.intBitsToFloat(bits)),
                expected);
            break;
          }
        case F16:
          {
            int bits = r.nextInt() & 0xffff;
            if (special) bits |= 0x7c00;
            if (special && r.nextBoolean()) bits &= 0xfc00;
            data.putShort(2 * i, (short) bits);
            boolean exp = (bits & 0x7c00) == 0x7c00;
            tally(exp && (bits & 0x3ff) != 0, exp && (bits & 0x3ff) == 0, expected);
            break;
          }
        default:
          {
            int bits = r.nextInt() & 0xffff;
            if (special) bits |= 0x7f80;
            if (special && r.nextBoolean()) bits &= 0xff80;
            data.putShort(2 * i, (short) bits);
            float f = Float.intBitsToFloat(bits << 16);
            tally(Float.isNaN(f), Float.isInfinite(f), expected);
            break;
          }
      }
    }
    return data;
  }

  private static void tally(boolean nan, boolean inf, long[] expected) {
    if (nan) expected[0]++;
    if (inf) expected[1]++;
  }

  @Test
  void everyPathCountsNaNsAndInfinitiesExactly() {
    for (DType type : KernelTestSupport.TYPES) {
      for (int n : SIZES) {
        long[] expected = new long[2];
        ByteBuffer data = randomBits(type, n, 31L * n + type.ordinal(), expected);
        onEveryImpl(
            impl -> {
              long[] counts = {5, 7}; // added to, not overwritten
              impl.kernels().countNonFinite(data, type, n, counts);
              assertArrayEquals(
                  new long[] {5 + expected[0], 7 + expected[1]},
                  counts,
                  impl + " " + type + " n=" + n);
            });
      }
    }
  }

  @Test
  void badArgumentsNeverReachNativeCode() {
    ByteBuffer small = ByteBuffer.allocateDirect(8);
    onEveryImpl(
        impl -> {
          Kernels k = impl.kernels();
          assertThrows(
              IllegalArgumentException.class,
              () -> k.countNonFinite(small, DType.F32, 3, new long[2]));
          assertThrows(
              IllegalArgumentException.class,
              () -> k.countNonFinite(small, DType.F32, -1, new long[2]));
          assertThrows(
              IllegalArgumentException.class,
              () -> k.countNonFinite(small, DType.F32, 1, new long[1]));
          assertThrows(
              NullPointerException.class, () -> k.countNonFinite(small, DType.F32, 1, null));
          assertThrows(
              IllegalArgumentException.class,
              () -> k.countNonFinite(small, DType.I8, 1, new long[2]));
        });
  }
}
