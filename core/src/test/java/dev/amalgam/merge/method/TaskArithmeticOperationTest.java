package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.kernels.Philox;
import dev.amalgam.merge.method.TaskArithmeticMerge.Sparsification;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The task-arithmetic operation on tensors of several reduction segments and chunks, where its work
 * is split into parallel tasks: every thread count, chunk size and kernel implementation gives the
 * bits of a whole-tensor reference (sorts instead of radix selection, one loop instead of blocks),
 * including magnitude thresholds whose equal elements are kept only in part, so that a task must
 * know how many came before it.
 */
class TaskArithmeticOperationTest {
  private static final String NAME = "model.layers.0.mlp.up_proj.weight";
  private static final int ROW = 1000;
  private static final int N = 2622 * ROW; // whole rows, 2.5 reduction segments
  private static final long SEED = 42;

  /**
   * base, then two models whose task vectors take few distinct magnitudes (many ties at any
   * threshold).
   */
  private static float[][] inputs() {
    Random r = new Random(7);
    float[] base = MemoryStreams.random(1, N, 0.02);
    float[] m0 = new float[N];
    float[] m1 = new float[N];
    for (int i = 0; i < N; i++) {
      m0[i] = base[i] + (r.nextInt(21) - 10) * 0x1p-10f;
      m1[i] = base[i] + (float) (r.nextGaussian() * 0.003);
    }
    return new float[][] {m0, m1, base};
  }

  private record Case(
      String label,
      Sparsification kind,
      boolean consensus,
      boolean normalize,
      boolean rescale,
      double lambda,
      double[] density,
      double gamma,
      double epsilon) {}

  private static List<Case> cases() {
    List<Case> c = new ArrayList<>();
    c.add(
        new Case(
            "task_arithmetic",
            Sparsification.NONE,
            false,
            false,
            false,
            1,
            new double[] {1, 1},
            0,
            0));
    c.add(
        new Case(
            "ties",
            Sparsification.MAGNITUDE,
            true,
            true,
            false,
            0.8,
            new double[] {0.5, 0.3},
            0,
            0));
    c.add(
        new Case(
            "ties+rescale",
            Sparsification.MAGNITUDE,
            true,
            true,
            true,
            1,
            new double[] {0.37, 0.6},
            0,
            0));
    c.add(
        new Case(
            "dare_ties",
            Sparsification.RANDOM,
            true,
            false,
            true,
            1,
            new double[] {0.5, 0.4},
            0,
            0));
    c.add(
        new Case(
            "dare_linear",
            Sparsification.RANDOM,
            false,
            true,
            true,
            1,
            new double[] {0.5, 0.4},
            0,
            0));
    c.add(
        new Case(
            "breadcrumbs_ties",
            Sparsification.MAGNITUDE_OUTLIERS,
            true,
            false,
            true,
            1,
            new double[] {0.5, 0.7},
            0.013,
            0));
    c.add(
        new Case(
            "della",
            Sparsification.DELLA_MAGPRUNE,
            true,
            true,
            true,
            1,
            new double[] {0.5, 0.4},
            0,
            0.1));
    c.add( // without rescaling: masks are ranked in the compute pass, not recorded by an L1 pass
        new Case(
            "della_linear",
            Sparsification.DELLA_MAGPRUNE,
            false,
            true,
            false,
            1,
            new double[] {0.6, 0.3},
            0,
            0.2));
    return c;
  }

  private static TaskArithmeticOperation operation(Case c) {
    double[] weights = {0.7, 0.5};
    List<TaskArithmeticOperation.Model> models = new ArrayList<>();
    for (int k = 0; k < 2; k++) {
      models.add(
          new TaskArithmeticOperation.Model(k, weights[k], c.density()[k], c.gamma(), c.epsilon()));
    }
    return new TaskArithmeticOperation(
        c.kind(),
        c.consensus(),
        c.normalize(),
        c.rescale(),
        c.lambda(),
        2,
        models,
        N,
        ROW,
        NAME,
        SEED,
        c.label());
  }

  @Test
  void parallelTasksGiveTheWholeTensorReferenceBits() throws Exception {
    float[][] in = inputs();
    List<Kernels> kernels = new ArrayList<>();
    kernels.add(Kernels.java(1));
    kernels.add(Kernels.java(3));
    kernels.add(Kernels.best(2));
    try {
      for (Case c : cases()) {
        float[] want = reference(c, in[2], new float[][] {in[0], in[1]});
        for (Kernels k : kernels) {
          for (long chunk :
              new long[] {
                Kernels.DOT_SEGMENT, 2L * Kernels.DOT_SEGMENT, 4L * Kernels.DOT_SEGMENT
              }) {
            float[] got = MemoryStreams.run(operation(c), k, chunk, in);
            for (int i = 0; i < N; i++) {
              if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                fail(
                    c.label()
                        + " with "
                        + k.description()
                        + ", chunk "
                        + chunk
                        + ": element "
                        + i
                        + " is "
                        + got[i]
                        + ", want "
                        + want[i]);
              }
            }
          }
        }
      }
    } finally {
      kernels.forEach(Kernels::close);
    }
  }

  @Test
  void theTiesCaseKeepsOnlyPartOfTheEqualMagnitudes() {
    // the test above exercises the ordered counting only if the threshold splits a run of equal
    // magnitudes
    float[][] in = inputs();
    float[] d = new float[N];
    for (int i = 0; i < N; i++) d[i] = in[0][i] - in[2][i];
    long[] keys = descendingKeys(d);
    long k = (long) Math.floor(0.5 * N);
    int atThreshold = (int) (keys[(int) k - 1] >>> 32);
    int next = (int) (keys[(int) k] >>> 32);
    assertTrue(atThreshold == next, "the 0.5 threshold falls inside a run of equal magnitudes");
  }

  /** Keys sorting by |d| descending, then index: (0x7FFFFFFF - magnitude bits) << 32 | index. */
  private static long[] descendingKeys(float[] d) {
    long[] keys = new long[d.length];
    for (int i = 0; i < d.length; i++) {
      keys[i] = ((long) (0x7FFFFFFF - MagnitudeSelection.absBits(d[i])) << 32) | i;
    }
    Arrays.sort(keys);
    return keys;
  }

  private static boolean[] mask(Case c, float[] d, int model) {
    int n = d.length;
    double density = c.density()[model];
    boolean[] keep = new boolean[n];
    if (density >= 1 || c.kind() == Sparsification.NONE) {
      Arrays.fill(keep, true);
      return keep;
    }
    Philox philox = Philox.forTensor(SEED, NAME, model);
    switch (c.kind()) {
      case MAGNITUDE:
        {
          long[] keys = descendingKeys(d);
          long k = (long) Math.floor(density * n);
          for (int r = 0; r < k; r++) keep[(int) keys[r]] = true;
          break;
        }
      case MAGNITUDE_OUTLIERS:
        {
          long nTop = (long) Math.floor(c.gamma() * n);
          long nBot = n - (long) Math.floor(density * n) - nTop;
          if (nBot < 0) {
            nTop += nBot;
            nBot = 0;
          }
          long[] keys = descendingKeys(d);
          for (long r = nTop; r < n - nBot; r++) keep[(int) keys[(int) r]] = true;
          break;
        }
      case RANDOM:
        for (int i = 0; i < n; i++) keep[i] = philox.uniform(i) < density;
        break;
      case DELLA_MAGPRUNE:
        for (int start = 0; start < n; start += ROW) {
          long[] asc = new long[ROW];
          for (int j = 0; j < ROW; j++)
            asc[j] = ((long) MagnitudeSelection.absBits(d[start + j]) << 32) | j;
          Arrays.sort(asc);
          for (int r = 0; r < ROW; r++) {
            int i = start + (int) asc[r];
            double prob = (density - c.epsilon()) + 2 * c.epsilon() * r / (ROW - 1);
            keep[i] = philox.uniform(i) < prob;
          }
        }
        break;
      default:
        throw new AssertionError(c.kind());
    }
    return keep;
  }

  /** The documented maths over the whole tensor; L1 sums per reduction segment in element order. */
  private static float[] reference(Case c, float[] b, float[][] x) {
    int n = b.length;
    int m = x.length;
    float[][] w = new float[m][];
    float[] weights = {0.7f, 0.5f};
    for (int k = 0; k < m; k++) {
      float[] d = new float[n];
      for (int i = 0; i < n; i++) d[i] = x[k][i] - b[i];
      boolean[] keep = mask(c, d, k);
      double l1 = 0;
      double l1Kept = 0;
      for (int s = 0; s < n; s += Kernels.DOT_SEGMENT) {
        double segment = 0;
        double segmentKept = 0;
        for (int i = s; i < Math.min(n, s + Kernels.DOT_SEGMENT); i++) {
          segment += Math.abs(d[i]);
          if (!keep[i]) d[i] = 0f;
          segmentKept += Math.abs(d[i]);
        }
        l1 += segment;
        l1Kept += segmentKept;
      }
      float factor = 1f;
      if (c.rescale()
          && c.kind() != Sparsification.NONE
          && c.density()[k] < 1
          && l1 >= 1e-7
          && l1Kept >= 1e-7) {
        factor = (float) (l1 / l1Kept);
      }
      for (int i = 0; i < n; i++)
        d[i] = factor != 1f ? weights[k] * (d[i] * factor) : weights[k] * d[i];
      w[k] = d;
    }
    float sumW = weights[0] + weights[1];
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      float mixed = 0f;
      float divisor = sumW;
      if (c.consensus()) {
        float s = 0f;
        for (int k = 0; k < m; k++) s += w[k][i];
        boolean positive = s >= 0f;
        divisor = 0f;
        for (int k = 0; k < m; k++) {
          if (positive ? w[k][i] > 0f : w[k][i] < 0f) {
            mixed += w[k][i];
            divisor += weights[k];
          }
        }
        if (divisor == 0f) divisor = 1f;
      } else {
        for (int k = 0; k < m; k++) mixed += w[k][i];
      }
      if (c.normalize()) mixed /= divisor;
      if (c.lambda() != 1) mixed *= (float) c.lambda();
      out[i] = b[i] + mixed;
    }
    return out;
  }
}
