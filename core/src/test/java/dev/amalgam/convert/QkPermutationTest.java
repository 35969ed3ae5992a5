package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class QkPermutationTest {
  /**
   * The GGUF matrix built the way llama.cpp's converter describes it: reshape the HF rows to
   * (heads, 2, half, cols), swap the two middle axes, reshape back.
   */
  private static float[] constructGguf(float[] hf, int heads, int rows, int cols) {
    int headDim = rows / heads;
    int half = headDim / 2;
    float[] out = new float[hf.length];
    int target = 0;
    for (int h = 0; h < heads; h++) {
      for (int j = 0; j < half; j++) {
        for (int i = 0; i < 2; i++) {
          int source = h * headDim + i * half + j;
          System.arraycopy(hf, source * cols, out, target * cols, cols);
          target++;
        }
      }
    }
    return out;
  }

  private static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  @Test
  void matchesTheDirectConstructionForQueries() {
    int rows = 64, heads = 8, cols = 5;
    float[] hf = random(rows * cols, 1);
    QkPermutation p = new QkPermutation(rows, heads);
    assertArrayEquals(constructGguf(hf, heads, rows, cols), p.hfToGguf(hf, cols));
  }

  @Test
  void groupedQueryKeysUseTheKeyValueHeadCount() {
    // stories260K: K is [32 rows, 64 cols] with 4 key/value heads of 8
    int rows = 32, kvHeads = 4, cols = 64;
    float[] hf = random(rows * cols, 2);
    QkPermutation k = new QkPermutation(rows, kvHeads);
    assertEquals(8, k.headDim());
    assertArrayEquals(constructGguf(hf, kvHeads, rows, cols), k.hfToGguf(hf, cols));
    // permuting with the query head count (8 heads of 4) would give a different matrix
    float[] wrong = new QkPermutation(rows, 8).hfToGguf(hf, cols);
    assertEquals(false, java.util.Arrays.equals(wrong, k.hfToGguf(hf, cols)));
  }

  @Test
  void rowIndexFormulaAndInverse() {
    QkPermutation p = new QkPermutation(24, 3); // headDim 8, half 4
    // head 1 starts at row 8: GGUF rows 8..15 hold HF rows 8, 12, 9, 13, 10, 14, 11, 15
    long[] expected = {8, 12, 9, 13, 10, 14, 11, 15};
    for (int g = 0; g < 8; g++) assertEquals(expected[g], p.ggufRowToHfRow(8 + g));
    for (long r = 0; r < p.rows(); r++) {
      assertEquals(r, p.hfRowToGgufRow(p.ggufRowToHfRow(r)));
      assertEquals(r, p.ggufRowToHfRow(p.hfRowToGgufRow(r)));
    }
    assertThrows(IndexOutOfBoundsException.class, () -> p.ggufRowToHfRow(24));
    assertThrows(IndexOutOfBoundsException.class, () -> p.hfRowToGgufRow(-1));
  }

  @Test
  void arrayPermutationsAreInverse() {
    QkPermutation p = new QkPermutation(32, 4);
    float[] hf = random(32 * 3, 3);
    assertArrayEquals(hf, p.ggufToHf(p.hfToGguf(hf, 3), 3));
    byte[] bytes = new byte[32 * 6];
    new Random(4).nextBytes(bytes);
    assertArrayEquals(bytes, p.ggufToHf(p.hfToGguf(bytes, 6), 6));
    // bytes and floats agree: a float row is 4 bytes per column
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(hf.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float v : hf) b.putFloat(v);
    byte[] permuted = p.hfToGguf(b.array(), 12);
    java.nio.ByteBuffer back =
        java.nio.ByteBuffer.wrap(permuted).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    float[] fromBytes = new float[hf.length];
    for (int i = 0; i < hf.length; i++) fromBytes[i] = back.getFloat();
    assertArrayEquals(p.hfToGguf(hf, 3), fromBytes);
  }

  /**
   * The reason for the permutation: HF's rotate-half rope on HF rows equals llama.cpp's
   * adjacent-pair rope on the permuted rows, position by position.
   */
  @Test
  void turnsRotateHalfRopeIntoAdjacentPairRope() {
    int heads = 4, headDim = 16, rows = heads * headDim, half = headDim / 2;
    QkPermutation p = new QkPermutation(rows, heads);
    float[] q = random(rows, 5); // one projected query vector (a matrix with one column)
    for (int pos : new int[] {0, 1, 7, 300}) {
      double[] neox = new double[rows];
      double[] norm = new double[rows];
      float[] permuted = p.hfToGguf(q, 1);
      for (int h = 0; h < heads; h++) {
        for (int j = 0; j < half; j++) {
          double theta = pos * Math.pow(10000.0, -2.0 * j / headDim);
          double c = Math.cos(theta), s = Math.sin(theta);
          int a = h * headDim + j, b = a + half; // rotate-half pair
          neox[a] = q[a] * c - q[b] * s;
          neox[b] = q[a] * s + q[b] * c;
          int x = h * headDim + 2 * j, y = x + 1; // adjacent pair
          norm[x] = permuted[x] * c - permuted[y] * s;
          norm[y] = permuted[x] * s + permuted[y] * c;
        }
      }
      for (int g = 0; g < rows; g++) {
        assertEquals(neox[(int) p.ggufRowToHfRow(g)], norm[g], 1e-9, "pos " + pos + " row " + g);
      }
    }
  }

  @Test
  void rejectsShapesThatDoNotSplitIntoEvenHeads() {
    assertThrows(IllegalArgumentException.class, () -> new QkPermutation(30, 4));
    IllegalArgumentException odd =
        assertThrows(IllegalArgumentException.class, () -> new QkPermutation(28, 4));
    assertEquals(true, odd.getMessage().contains("odd"));
    assertThrows(IllegalArgumentException.class, () -> new QkPermutation(0, 1));
    assertThrows(IllegalArgumentException.class, () -> new QkPermutation(8, 0));
    QkPermutation p = new QkPermutation(8, 2);
    assertThrows(IllegalArgumentException.class, () -> p.hfToGguf(new float[15], 2));
    assertThrows(IllegalArgumentException.class, () -> p.hfToGguf(new byte[16], 0));
  }

  @Test
  void handlesRowIndicesBeyondIntRange() {
    long rows = 1L << 33;
    QkPermutation p = new QkPermutation(rows, 1L << 20);
    long g = rows - 3;
    assertEquals(g, p.hfRowToGgufRow(p.ggufRowToHfRow(g)));
  }
}
