package dev.amalgam.io.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.F16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Each dequantizer is checked on blocks built in the test from chosen quantized values, encoded by
 * the documented layout (ggml-common.h, the inverse of what is being tested), against the value
 * formula computed directly.
 */
class GgufQuantTest {
  private final Random random = new Random(42);

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A random f16 scale in [2^-10, 2^2), as its bits. */
  private short randomScale() {
    return F16.fromFloat((float) Math.scalb(1 + random.nextDouble(), random.nextInt(12) - 10));
  }

  @Test
  void q8_0() {
    int blocks = 3;
    ByteBuffer b = le(34 * blocks);
    float[] expected = new float[32 * blocks];
    for (int k = 0; k < blocks; k++) {
      short d = randomScale();
      b.putShort(d);
      for (int j = 0; j < 32; j++) {
        int q = j == 0 ? -128 : j == 1 ? 127 : random.nextInt(256) - 128;
        b.put((byte) q);
        expected[32 * k + j] = q * F16.toFloat(d);
      }
    }
    b.flip();
    float[] out = new float[32 * blocks + 1];
    GgufQuant.dequantize(GgmlType.Q8_0, b, out, 1, 32 * blocks);
    assertArrayEquals(expected, java.util.Arrays.copyOfRange(out, 1, out.length));
    assertEquals(b.limit(), b.position(), "advances past the blocks");
  }

  @Test
  void q4_0() {
    ByteBuffer b = le(18 * 2);
    float[] expected = new float[64];
    for (int k = 0; k < 2; k++) {
      short d = randomScale();
      int[] q = new int[32];
      for (int j = 0; j < 32; j++) q[j] = random.nextInt(16);
      b.putShort(d);
      for (int j = 0; j < 16; j++) b.put((byte) (q[j] | (q[j + 16] << 4)));
      for (int j = 0; j < 32; j++) expected[32 * k + j] = (q[j] - 8) * F16.toFloat(d);
    }
    b.flip();
    float[] out = new float[64];
    GgufQuant.dequantizeQ4_0(b, out, 0, 64);
    assertArrayEquals(expected, out);
  }

  @Test
  void q4_K() {
    ByteBuffer b = le(144 * 2);
    float[] expected = new float[512];
    for (int k = 0; k < 2; k++) {
      short d = randomScale();
      short dmin = randomScale();
      int[] sc = new int[8];
      int[] m = new int[8];
      for (int j = 0; j < 8; j++) {
        sc[j] = j == 7 ? 63 : random.nextInt(64);
        m[j] = j == 5 ? 63 : random.nextInt(64);
      }
      // ggml quantize_row_q4_K_ref packs the eight 6-bit (scale, min) pairs into 12 bytes like
      // this:
      byte[] scales = new byte[12];
      for (int j = 0; j < 8; j++) {
        if (j < 4) {
          scales[j] = (byte) sc[j];
          scales[j + 4] = (byte) m[j];
        } else {
          scales[j + 4] = (byte) ((sc[j] & 0xF) | ((m[j] & 0xF) << 4));
          scales[j - 4] |= (byte) ((sc[j] >> 4) << 6);
          scales[j] |= (byte) ((m[j] >> 4) << 6);
        }
      }
      int[] q = new int[256];
      for (int e = 0; e < 256; e++) q[e] = random.nextInt(16);
      b.putShort(d).putShort(dmin).put(scales);
      for (int group = 0; group < 4; group++) {
        for (int l = 0; l < 32; l++)
          b.put((byte) (q[64 * group + l] | (q[64 * group + 32 + l] << 4)));
      }
      for (int e = 0; e < 256; e++) {
        int pair = e / 32; // 32 values per (scale, min) pair
        float scale = F16.toFloat(d) * sc[pair];
        expected[256 * k + e] = scale * q[e] - F16.toFloat(dmin) * m[pair];
      }
    }
    b.flip();
    float[] out = new float[512];
    GgufQuant.dequantize(GgmlType.Q4_K, b, out, 0, 512);
    assertArrayEquals(expected, out);
  }

  @Test
  void q6_K() {
    ByteBuffer b = le(210 * 2);
    float[] expected = new float[512];
    for (int k = 0; k < 2; k++) {
      short d = randomScale();
      int[] q = new int[256];
      for (int e = 0; e < 256; e++) q[e] = e == 3 ? 63 : e == 4 ? 0 : random.nextInt(64);
      byte[] scales = new byte[16];
      for (int s = 0; s < 16; s++) scales[s] = (byte) (s == 0 ? -128 : random.nextInt(256) - 128);
      // ggml quantize_row_q6_K_ref: per 128 values, 64 bytes of low nibbles and 32 bytes of 2-bit
      // high parts.
      byte[] ql = new byte[128];
      byte[] qh = new byte[64];
      for (int half = 0; half < 2; half++) {
        int base = 128 * half;
        for (int l = 0; l < 32; l++) {
          int v0 = q[base + l];
          int v1 = q[base + l + 32];
          int v2 = q[base + l + 64];
          int v3 = q[base + l + 96];
          ql[64 * half + l] = (byte) ((v0 & 0xF) | ((v2 & 0xF) << 4));
          ql[64 * half + l + 32] = (byte) ((v1 & 0xF) | ((v3 & 0xF) << 4));
          qh[32 * half + l] =
              (byte) ((v0 >> 4) | ((v1 >> 4) << 2) | ((v2 >> 4) << 4) | ((v3 >> 4) << 6));
        }
      }
      b.put(ql).put(qh).put(scales).putShort(d);
      for (int e = 0; e < 256; e++)
        expected[256 * k + e] = F16.toFloat(d) * scales[e / 16] * (q[e] - 32);
    }
    b.flip();
    float[] out = new float[512];
    GgufQuant.dequantizeQ6_K(b, out, 0, 512);
    assertArrayEquals(expected, out);
  }

  @Test
  void plainTypes() {
    ByteBuffer b = le(12);
    b.putShort(F16.fromFloat(-1.5f))
        .putShort((short) 0x7C00)
        .putShort((short) 0x0001); // -1.5, inf, min subnormal
    b.putShort((short) 0x3F80).putShort((short) 0xC040).putShort((short) 0x0000); // bf16 1, -3, 0
    b.flip();
    float[] out = new float[6];
    GgufQuant.dequantize(GgmlType.F16, b, out, 0, 3);
    GgufQuant.dequantize(GgmlType.BF16, b, out, 3, 3);
    assertArrayEquals(new float[] {-1.5f, Float.POSITIVE_INFINITY, 0x1p-24f, 1f, -3f, 0f}, out);
  }

  @Test
  void refusesOtherTypesAndPartialBlocks() {
    UnsupportedOperationException e =
        assertThrows(
            UnsupportedOperationException.class,
            () -> GgufQuant.dequantize(GgmlType.Q5_K, le(176), new float[256], 0, 256));
    assertEquals("type Q5_K cannot be dequantized", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> GgufQuant.dequantizeQ8_0(le(34), new float[32], 0, 16));
    assertThrows(
        java.nio.BufferUnderflowException.class,
        () -> GgufQuant.dequantizeQ8_0(le(33), new float[32], 0, 32));
  }

  @Test
  void quantizeQ8_0OfZerosIsAllZero() {
    ByteBuffer b = le(68);
    GgufQuant.quantizeQ8_0(new float[64], 0, 64, b);
    assertEquals(68, b.position());
    assertArrayEquals(new byte[68], b.array());
  }

  @Test
  void quantizeQ8_0ExactBytes() {
    // amax 127 gives d = 1 exactly (f16 0x3C00), so each q is x rounded half away from zero.
    float[] x = new float[32];
    x[0] = 127f;
    x[1] = -2.5f;
    x[2] = 2.5f;
    x[3] = -0.5f;
    x[4] = 0.5f;
    x[5] = -126.5f;
    x[6] = 0.49999997f;
    x[7] = -3.4999998f;
    ByteBuffer b = le(34);
    GgufQuant.quantizeQ8_0(x, 0, 32, b);
    assertEquals((short) 0x3C00, b.getShort(0));
    byte[] expectedQ = {127, -3, 3, -1, 1, -127, 0, -3};
    for (int j = 0; j < expectedQ.length; j++)
      assertEquals(expectedQ[j], b.get(2 + j), "q[" + j + "]");
    for (int j = expectedQ.length; j < 32; j++) assertEquals(0, b.get(2 + j));

    // amax 254 gives d = 2; id = 0.5; -1 * 0.5 = -0.5 rounds to -1, 3 * 0.5 = 1.5 rounds to 2.
    float[] y = new float[32];
    y[0] = -254f;
    y[1] = -1f;
    y[2] = 3f;
    ByteBuffer c = le(34);
    GgufQuant.quantizeQ8_0(y, 0, 32, c);
    assertEquals(F16.fromFloat(2f), c.getShort(0));
    assertEquals(-127, c.get(2));
    assertEquals(-1, c.get(3));
    assertEquals(2, c.get(4));
  }

  @Test
  void quantizeQ8_0RoundTripErrorBound() {
    int n = 32 * 64;
    float[] x = new float[n];
    for (int i = 0; i < n; i++)
      x[i] = (float) (random.nextGaussian() * Math.scalb(1.0, (i / 32) % 9 - 4));
    ByteBuffer b = le(34 * 64);
    GgufQuant.quantizeQ8_0(x, 0, n, b);
    b.flip();
    float[] back = new float[n];
    GgufQuant.dequantizeQ8_0(b, back, 0, n);
    for (int k = 0; k < 64; k++) {
      float amax = 0;
      for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * k + j]));
      float d = amax / 127f;
      // Half a step from rounding, plus up to 127 steps' worth of the f16 rounding of d (relative
      // 2^-11).
      float bound = d * (0.5f + 127f / 2048f) + 1e-7f;
      for (int j = 0; j < 32; j++) {
        int i = 32 * k + j;
        assertTrue(
            Math.abs(x[i] - back[i]) <= bound, "element " + i + ": " + x[i] + " -> " + back[i]);
      }
    }
  }

  @Test
  void quantizeQ4_0() {
    // The element of largest magnitude is -8, so d = 1 and every integer in [-8, 7] is stored
    // exactly.
    float[] x = new float[32];
    for (int j = 0; j < 32; j++) x[j] = (j % 16) - 8;
    x[5] = 7.4f; // rounds to 7
    ByteBuffer b = le(18);
    GgufQuant.quantizeQ4_0(x, 0, 32, b);
    assertEquals(F16.fromFloat(1f), b.getShort(0));
    b.flip();
    float[] back = new float[32];
    GgufQuant.dequantizeQ4_0(b, back, 0, 32);
    for (int j = 0; j < 32; j++) assertEquals(j == 5 ? 7f : x[j], back[j], "element " + j);

    float[] y = new float[32 * 8];
    for (int i = 0; i < y.length; i++) y[i] = (float) random.nextGaussian();
    ByteBuffer c = le(18 * 8);
    GgufQuant.quantizeQ4_0(y, 0, y.length, c);
    c.flip();
    float[] yBack = new float[y.length];
    GgufQuant.dequantize(GgmlType.Q4_0, c, yBack, 0, y.length);
    for (int k = 0; k < 8; k++) {
      float amax = 0;
      for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(y[32 * k + j]));
      float step = amax / 8f;
      for (int j = 0; j < 32; j++) {
        int i = 32 * k + j;
        assertTrue(
            Math.abs(y[i] - yBack[i]) <= step * 1.01f,
            "element " + i + ": " + y[i] + " -> " + yBack[i]);
      }
    }
  }

  @Test
  void quantizeRefusesTooSmallDestinationWithoutWriting() {
    ByteBuffer b = le(33);
    assertThrows(
        java.nio.BufferOverflowException.class,
        () -> GgufQuant.quantizeQ8_0(new float[32], 0, 32, b));
    assertEquals(0, b.position());
  }

  @Test
  void roundHalfAwayFromZero() {
    assertEquals(3, GgufQuant.roundHalfAway(2.5f));
    assertEquals(-3, GgufQuant.roundHalfAway(-2.5f));
    assertEquals(0, GgufQuant.roundHalfAway(-0.49999997f));
    assertEquals(-1, GgufQuant.roundHalfAway(-0.5f));
    assertEquals(2, GgufQuant.roundHalfAway(1.5f));
  }
}
