package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The streaming radix selection against a full sort, with many ties, across block boundaries. */
class MagnitudeSelectionTest {
  /** The top-k set by sorting: |x| descending, index ascending. */
  private static boolean[] sortedTopK(float[] v, long k) {
    Integer[] order = IntStream.range(0, v.length).boxed().toArray(Integer[]::new);
    Arrays.sort(
        order,
        Comparator.<Integer>comparingInt(i -> MagnitudeSelection.absBits(v[i]))
            .reversed()
            .thenComparingInt(i -> i));
    boolean[] in = new boolean[v.length];
    for (int r = 0; r < k && r < v.length; r++) in[order[r]] = true;
    return in;
  }

  private static boolean[] streamedTopK(float[] v, long k, int block) {
    MagnitudeSelection.TopK top = new MagnitudeSelection.TopK(k, v.length);
    float[] buf = new float[block];
    while (top.needsPass()) {
      for (int first = 0; first < v.length; first += block) {
        int n = Math.min(block, v.length - first);
        System.arraycopy(v, first, buf, 0, n);
        top.accept(buf, n);
      }
      top.finishPass();
    }
    MagnitudeSelection.Cursor cursor = new MagnitudeSelection.Cursor(top.threshold());
    boolean[] in = new boolean[v.length];
    for (int i = 0; i < v.length; i++) in[i] = cursor.inTop(MagnitudeSelection.absBits(v[i]));
    return in;
  }

  @Test
  void equalsAFullSortForEveryRankWithTies() {
    Random r = new Random(5);
    float[] v = new float[3001];
    for (int i = 0; i < v.length; i++) {
      // few distinct magnitudes (many ties), both signs, zeros and -0, values sharing their high 16
      // bits
      int kind = r.nextInt(4);
      v[i] =
          kind == 0
              ? (r.nextBoolean() ? 0f : -0f)
              : kind == 1
                  ? (r.nextInt(7) - 3) * 0.25f
                  : Float.intBitsToFloat(0x3F800000 | r.nextInt(8)) * (r.nextBoolean() ? 1 : -1);
    }
    for (long k : new long[] {0, 1, 2, 17, 500, 1500, 2999, 3000, 3001, 5000}) {
      boolean[] want = sortedTopK(v, k);
      for (int block : new int[] {7, 1000, 4096}) {
        boolean[] got = streamedTopK(v, k, block);
        assertEquals(Arrays.toString(want), Arrays.toString(got), "k=" + k + " block=" + block);
        assertEquals(
            Math.min(k, v.length), IntStream.range(0, v.length).filter(i -> got[i]).count());
      }
    }
  }

  @Test
  void continuousValues() {
    Random r = new Random(9);
    float[] v = new float[10_000];
    for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
    for (long k : new long[] {1, 100, 5000, 9999}) {
      assertEquals(
          Arrays.toString(sortedTopK(v, k)), Arrays.toString(streamedTopK(v, k, 333)), "k=" + k);
    }
  }
}
