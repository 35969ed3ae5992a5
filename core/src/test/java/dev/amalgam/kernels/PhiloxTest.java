package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Philox4x32-10 against Random123's known answers, and the keying's documented properties. */
class PhiloxTest {
  private static int[] words(long... values) {
    int[] w = new int[values.length];
    for (int i = 0; i < values.length; i++) w[i] = (int) values[i];
    return w;
  }

  @Test
  void matchesRandom123KnownAnswerVectors() {
    assertArrayEquals(
        words(0x6627e8d5L, 0xe169c58dL, 0xbc57ac4cL, 0x9b00dbd8L),
        Philox.block(words(0, 0, 0, 0), words(0, 0)));
    assertArrayEquals(
        words(0x408f276dL, 0x41c83b0eL, 0xa20bc7c6L, 0x6d5451fdL),
        Philox.block(
            words(0xffffffffL, 0xffffffffL, 0xffffffffL, 0xffffffffL),
            words(0xffffffffL, 0xffffffffL)));
    assertArrayEquals(
        words(0xd16cfe09L, 0x94fdccebL, 0x5001e420L, 0x24126ea1L),
        Philox.block(
            words(0x243f6a88L, 0x85a308d3L, 0x13198a2eL, 0x03707344L),
            words(0xa4093822L, 0x299f31d0L)));
  }

  @Test
  void uniformsFollowTheDocumentedKeying() {
    long seed = 0x0123456789ABCDEFL;
    String name = "model.layers.0.mlp.up_proj.weight";
    Philox p = Philox.forTensor(seed, name, 3);
    long h = Philox.streamHash(name, 3);
    long element =
        4L * 0x1_0000_0005L + 2; // a block index above 2^32 exercises the counter's high word
    int[] out =
        Philox.block(
            new int[] {5, 1, (int) h, (int) (h >>> 32)},
            new int[] {(int) seed, (int) (seed >>> 32)});
    assertEquals((out[2] >>> 8) * 0x1p-24f, p.uniform(element));
  }

  @Test
  void fnv1aHashOfTheEmptyNameStartsFromTheOffsetBasis() {
    // FNV-1a 64 of four zero bytes, computed by hand from the definition
    long h = 0xCBF29CE484222325L;
    for (int i = 0; i < 4; i++) h *= 0x100000001B3L;
    assertEquals(h, Philox.streamHash("", 0));
    assertNotEquals(Philox.streamHash("a", 0), Philox.streamHash("a", 1));
    assertNotEquals(Philox.streamHash("a", 0), Philox.streamHash("b", 0));
  }

  @Test
  void chunkedDrawsEqualOneLongDraw() {
    Philox p = Philox.forTensor(42, "t", 0);
    float[] all = new float[1001];
    p.uniforms(7, all.length, all);
    float[] piece = new float[333];
    for (int start = 0; start < all.length; start += piece.length) {
      int n = Math.min(piece.length, all.length - start);
      p.uniforms(7 + start, n, piece);
      for (int i = 0; i < n; i++)
        assertEquals(all[start + i], piece[i], "element " + (7 + start + i));
    }
  }

  @Test
  void uniformsLookUniform() {
    Philox p = Philox.forTensor(1, "x", 0);
    int n = 1 << 16;
    float[] u = new float[n];
    p.uniforms(0, n, u);
    int[] bins = new int[16];
    double sum = 0;
    for (float v : u) {
      assertTrue(v >= 0f && v < 1f);
      bins[(int) (v * 16)]++;
      sum += v;
    }
    assertEquals(0.5, sum / n, 4 * Math.sqrt(1.0 / 12 / n));
    double expected = n / 16.0;
    double chi2 = 0;
    for (int b : bins) chi2 += (b - expected) * (b - expected) / expected;
    assertTrue(
        chi2 < 40,
        "chi-square over 16 bins " + chi2); // 15 degrees of freedom: p < 1e-3 beyond 37.7
  }
}
