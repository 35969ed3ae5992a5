package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.TINY;
import static dev.amalgam.cli.CliHarness.assertNoOutput;
import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.floats;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernels.Philox;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The task-arithmetic family (task_arithmetic, ties, dare_ties, dare_linear, breadcrumbs,
 * breadcrumbs_ties, della, della_linear) through the CLI, against a whole-tensor plain-Java
 * reference written from docs/merge-semantics.md §2.7 with Amalgam's documented choices (f32 chain
 * rounded once, ties by index, Philox masks).
 */
class TaskArithmeticMergeTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path base;
  static Path m1;
  static Path m2;
  static Path m2f32;
  static Path copy1;
  static Path copy2;

  @BeforeAll
  static void generate() throws IOException {
    base = model(models.resolve("base"), TINY, DType.BF16, 1, 0, 0);
    m1 = model(models.resolve("m1"), TINY, DType.BF16, 1, 0.3, 2);
    m2 = model(models.resolve("m2"), TINY, DType.BF16, 1, 0.3, 3);
    m2f32 = model(models.resolve("m2f32"), TINY, DType.F32, 1, 0.3, 3);
    copy1 =
        model(
            models.resolve("copy1"),
            TINY,
            DType.BF16,
            1,
            0,
            0); // the base's bytes: zero task vectors
    copy2 = model(models.resolve("copy2"), TINY, DType.BF16, 1, 0, 0);
  }

  /** Parameters of one reference merge. */
  record Params(
      String method,
      double[] weights,
      double[] density,
      double gamma,
      double epsilon,
      boolean normalize,
      boolean rescale,
      double lambda,
      long seed) {}

  static boolean consensus(String method) {
    return List.of("ties", "dare_ties", "breadcrumbs_ties", "della").contains(method);
  }

  /** Reference: the documented maths over the whole tensor, sorting where the code streams. */
  static float[] reference(Params p, String name, long rowLength, float[] b, float[][] x) {
    int n = b.length;
    int m = x.length;
    float[][] w = new float[m][];
    float[] weights = new float[m];
    for (int k = 0; k < m; k++) {
      float[] d = new float[n];
      for (int i = 0; i < n; i++)
        d[i] = Bf16.toFloat(Bf16.fromFloat(x[k][i])) - b[i]; // cast to the base dtype
      boolean[] keep = mask(p, name, rowLength, d, k, p.density()[k]);
      double l1 = 0;
      double l1Kept = 0;
      for (int i = 0; i < n; i++) {
        l1 += Math.abs(d[i]);
        if (!keep[i]) d[i] = 0f;
        l1Kept += Math.abs(d[i]);
      }
      float factor = 1f;
      if (p.rescale()
          && p.density()[k] < 1
          && !p.method().equals("task_arithmetic")
          && l1 >= 1e-7
          && l1Kept >= 1e-7) {
        factor = (float) (l1 / l1Kept);
      }
      weights[k] = (float) p.weights()[k];
      for (int i = 0; i < n; i++) {
        if (factor != 1f) d[i] *= factor;
        d[i] = weights[k] * d[i];
      }
      w[k] = d;
    }
    float sumW = 0f;
    for (float v : weights) sumW += v;
    if (Math.abs(sumW) < 1e-8f) sumW = 1f;
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      float mixed = 0f;
      float divisor = sumW;
      if (consensus(p.method())) {
        float s = 0f;
        for (int k = 0; k < m; k++) s += w[k][i];
        int sign = s >= 0 ? 1 : -1;
        divisor = 0f;
        for (int k = 0; k < m; k++) {
          if (Math.signum(w[k][i]) == sign) {
            mixed += w[k][i];
            divisor += weights[k];
          }
        }
        if (divisor == 0f) divisor = 1f;
      } else {
        for (int k = 0; k < m; k++) mixed += w[k][i];
      }
      if (p.normalize() && divisor != 1f) mixed /= divisor;
      if (p.lambda() != 1) mixed *= (float) p.lambda();
      out[i] = b[i] + mixed;
    }
    return out;
  }

  /** Element order by |d| descending, then index. */
  static Integer[] descending(float[] d, int from, int to) {
    Integer[] order = IntStream.range(from, to).boxed().toArray(Integer[]::new);
    Arrays.sort(
        order, Comparator.<Integer>comparingDouble(i -> -Math.abs(d[i])).thenComparingInt(i -> i));
    return order;
  }

  static boolean[] mask(
      Params p, String name, long rowLength, float[] d, int model, double density) {
    int n = d.length;
    boolean[] keep = new boolean[n];
    if (density >= 1 || p.method().equals("task_arithmetic")) {
      Arrays.fill(keep, true);
      return keep;
    }
    int input = model; // the models come first in merge order, the base is appended
    Philox philox = Philox.forTensor(p.seed(), name, input);
    switch (p.method()) {
      case "ties":
        {
          Integer[] order = descending(d, 0, n);
          long k = (long) Math.floor(density * n);
          for (int r = 0; r < k; r++) keep[order[r]] = true;
          break;
        }
      case "breadcrumbs":
      case "breadcrumbs_ties":
        {
          long nTop = (long) Math.floor(p.gamma() * n);
          long nBot = n - (long) Math.floor(density * n) - nTop;
          if (nBot < 0) {
            nTop += nBot;
            nBot = 0;
          }
          Integer[] order = descending(d, 0, n);
          for (long r = nTop; r < n - nBot; r++) keep[order[(int) r]] = true;
          break;
        }
      case "dare_ties":
      case "dare_linear":
        for (int i = 0; i < n; i++) keep[i] = philox.uniform(i) < density;
        break;
      case "della":
      case "della_linear":
        {
          int row = (int) rowLength;
          for (int start = 0; start < n; start += row) {
            // ascending rank in the row, ties by index
            Integer[] asc = IntStream.range(start, start + row).boxed().toArray(Integer[]::new);
            Arrays.sort(
                asc,
                Comparator.<Integer>comparingDouble(i -> Math.abs(d[i])).thenComparingInt(i -> i));
            for (int r = 0; r < row; r++) {
              double prob =
                  (density - p.epsilon()) + (row > 1 ? 2 * p.epsilon() * r / (row - 1) : 0);
              keep[asc[r]] = philox.uniform(asc[r]) < prob;
            }
          }
          break;
        }
      default:
        throw new AssertionError(p.method());
    }
    return keep;
  }

  static String yaml(Params p, Path... inputs) {
    StringBuilder y =
        new StringBuilder("merge_method: " + p.method() + "\nbase_model: " + base + "\nmodels:\n");
    for (int k = 0; k < inputs.length; k++) {
      y.append("  - model: ")
          .append(inputs[k])
          .append("\n    parameters:\n      weight: ")
          .append(p.weights()[k])
          .append("\n      density: ")
          .append(p.density()[k])
          .append('\n');
    }
    y.append("parameters:\n  normalize: ")
        .append(p.normalize())
        .append("\n  rescale: ")
        .append(p.rescale())
        .append("\n  lambda: ")
        .append(p.lambda())
        .append('\n');
    if (p.method().startsWith("breadcrumbs")) y.append("  gamma: ").append(p.gamma()).append('\n');
    if (p.method().startsWith("della")) y.append("  epsilon: ").append(p.epsilon()).append('\n');
    return y.toString();
  }

  Path merge(Params p, String outName, String threads, Path... inputs) throws IOException {
    Path cfg = config(tmp, outName + ".yml", yaml(p, inputs));
    Path out = tmp.resolve(outName);
    run(
            "merge",
            cfg.toString(),
            out.toString(),
            "--no-progress",
            "-j",
            threads,
            "--random-seed",
            Long.toString(p.seed()))
        .assertOk();
    return out;
  }

  void assertMatchesReference(Params p, Path out, Path... inputs) throws IOException {
    for (TensorInfo t : SyntheticLlama.tensors(TINY, DType.BF16)) {
      float[] b = floats(base, t.name());
      float[][] x = new float[inputs.length][];
      for (int k = 0; k < inputs.length; k++) x[k] = floats(inputs[k], t.name());
      long row = t.rank() == 0 ? 1 : t.dim(t.rank() - 1);
      float[] want = reference(p, t.name(), row, b, x);
      float[] got = floats(out, t.name());
      for (int i = 0; i < got.length; i++) {
        short w = Bf16.fromFloat(want[i]);
        if (Bf16.fromFloat(got[i]) != w) {
          throw new AssertionError(
              p.method()
                  + " "
                  + t.name()
                  + "["
                  + i
                  + "]: got "
                  + got[i]
                  + ", want "
                  + Bf16.toFloat(w));
        }
      }
    }
  }

  @Test
  void everyMethodEqualsTheReference() throws IOException {
    for (String method :
        List.of(
            "task_arithmetic",
            "ties",
            "dare_ties",
            "dare_linear",
            "breadcrumbs",
            "breadcrumbs_ties",
            "della",
            "della_linear")) {
      boolean normalize = method.equals("ties") || method.equals("della");
      boolean rescale = method.startsWith("dare") || method.startsWith("della");
      Params p =
          new Params(
              method,
              new double[] {0.7, 0.5},
              new double[] {0.5, 0.3},
              0.1,
              0.1,
              normalize,
              rescale,
              method.equals("ties") ? 0.8 : 1.0,
              11);
      Path out = merge(p, method, "2", m1, m2);
      assertMatchesReference(p, out, m1, m2);
    }
  }

  @Test
  void inputsAreRoundedToTheBaseDtypeAndTheOutputFollowsTheBase() throws IOException {
    Params p =
        new Params(
            "ties", new double[] {1.0, 0.4}, new double[] {0.6, 0.4}, 0, 0, true, false, 1.0, 0);
    Path out = merge(p, "ties-f32", "1", m1, m2f32);
    assertMatchesReference(p, out, m1, m2f32);
    assertTrue(Files.readString(out.resolve("config.json")).contains("\"bfloat16\""));
  }

  @Test
  void breadcrumbsWithoutOutliersDropsOnlyTheSmallest() throws IOException {
    // gamma 0: mergekit zeroes the whole task vector here; Amalgam keeps the largest `density`
    // fraction
    Params p =
        new Params(
            "breadcrumbs", new double[] {1.0}, new double[] {0.4}, 0, 0, false, false, 1.0, 0);
    Path out = merge(p, "crumbs0", "2", m1);
    assertMatchesReference(p, out, m1);
    String name = "model.layers.0.mlp.up_proj.weight";
    float[] got = floats(out, name);
    float[] b = floats(base, name);
    long changed = IntStream.range(0, got.length).filter(i -> got[i] != b[i]).count();
    assertTrue(changed > 0.3 * got.length && changed <= 0.4 * got.length, "changed " + changed);
  }

  @Test
  void densityOneIsTaskArithmetic() throws IOException {
    Params ta =
        new Params(
            "task_arithmetic",
            new double[] {0.6, 0.9},
            new double[] {1, 1},
            0,
            0,
            false,
            false,
            1,
            0);
    Path want = merge(ta, "ta", "2", m1, m2);
    for (String method : List.of("dare_linear", "della_linear", "breadcrumbs")) {
      Params p = new Params(method, ta.weights(), ta.density(), 0.01, 0.15, false, true, 1, 5);
      assertArrayEquals(
          Files.readAllBytes(want.resolve("model.safetensors")),
          Files.readAllBytes(merge(p, method + "-d1", "2", m1, m2).resolve("model.safetensors")),
          method);
    }
  }

  @Test
  void zeroTaskVectorsGiveTheBase() throws IOException {
    for (String method : List.of("ties", "dare_ties", "della")) {
      Params p =
          new Params(
              method, new double[] {1, 1}, new double[] {0.5, 0.5}, 0.01, 0.1, true, true, 1, 3);
      Path out = merge(p, method + "-zero", "2", copy1, copy2);
      for (TensorInfo t : SyntheticLlama.tensors(TINY, DType.BF16)) {
        assertArrayEquals(
            CliHarness.bytes(base, t.name()), CliHarness.bytes(out, t.name()), t.name());
      }
    }
  }

  @Test
  void weightsSummingToZeroAreNotDividedBy() throws IOException {
    Params p =
        new Params(
            "task_arithmetic", new double[] {1, -1}, new double[] {1, 1}, 0, 0, true, false, 1, 0);
    Path out = merge(p, "zero-sum", "2", m1, m2);
    assertMatchesReference(p, out, m1, m2);
  }

  @Test
  void seededRandomMasksAreReproducibleAtAnyThreadCount() throws IOException {
    Params p =
        new Params(
            "dare_ties",
            new double[] {0.5, 0.5},
            new double[] {0.4, 0.6},
            0,
            0,
            false,
            true,
            1,
            99);
    Path one = merge(p, "dare-j1", "1", m1, m2);
    Path two = merge(p, "dare-j2", "2", m1, m2);
    byte[] bytes = Files.readAllBytes(one.resolve("model.safetensors"));
    assertArrayEquals(bytes, Files.readAllBytes(two.resolve("model.safetensors")));
    // the masks are a function of the tensor name, not of the order tensors are merged in: the
    // per-name
    // reference (which sees one tensor at a time) equals the merge
    assertMatchesReference(p, one, m1, m2);
    Params other = new Params(p.method(), p.weights(), p.density(), 0, 0, false, true, 1, 100);
    assertFalse(
        Arrays.equals(
            bytes,
            Files.readAllBytes(
                merge(other, "dare-s100", "2", m1, m2).resolve("model.safetensors"))),
        "another seed gives other masks");
    Params della = new Params("della", p.weights(), p.density(), 0, 0.2, true, true, 1, 99);
    assertArrayEquals(
        Files.readAllBytes(merge(della, "della-j1", "1", m1, m2).resolve("model.safetensors")),
        Files.readAllBytes(merge(della, "della-j2", "2", m1, m2).resolve("model.safetensors")));
  }

  @Test
  void randomMaskDensityIsCloseToTheConfiguredDensity() throws IOException {
    double density = 0.3;
    Params p =
        new Params(
            "dare_linear", new double[] {1}, new double[] {density}, 0, 0, false, false, 1, 7);
    Path out = merge(p, "dare-density", "2", m1);
    long kept = 0;
    long total = 0;
    for (TensorInfo t : SyntheticLlama.tensors(TINY, DType.BF16)) {
      float[] b = floats(base, t.name());
      float[] x = floats(m1, t.name());
      float[] got = floats(out, t.name());
      for (int i = 0; i < b.length; i++) {
        if (x[i] == b[i]) continue;
        total++;
        if (got[i] == x[i]) {
          kept++;
        } else {
          assertEquals(b[i], got[i], t.name() + "[" + i + "] is either kept or dropped");
        }
      }
    }
    double sigma = Math.sqrt(total * density * (1 - density));
    assertTrue(total > 10_000, "enough samples: " + total);
    assertTrue(Math.abs(kept - density * total) < 4 * sigma, "kept " + kept + " of " + total);
  }

  private void assertRejected(String yaml, String... fragments) throws IOException {
    Path cfg = config(tmp, "bad.yml", yaml);
    Path out = tmp.resolve("bad-out");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertInvalid(fragments);
    assertNoOutput(out);
  }

  @Test
  void configurationErrors() throws IOException {
    String two = "models:\n  - model: " + m1 + "\n    parameters: {weight: 1, density: 0.5}\n";
    assertRejected("merge_method: ties\n" + two, "base_model:", "set base_model");
    assertRejected(
        "merge_method: dare_ties\nbase_model: " + base + "\nmodels:\n  - model: " + base + "\n",
        "models:",
        "at least 1 model besides base_model");
    assertRejected(
        "merge_method: ties\nbase_model: " + base + "\nmodels:\n  - model: " + m1 + "\n",
        "models[0].parameters.weight",
        "required by ties");
    assertRejected(
        "merge_method: ties\nbase_model: "
            + base
            + "\nmodels:\n  - model: "
            + m1
            + "\n    parameters: {weight: 1, density: -0.5}\n",
        "models[0].parameters.density",
        "must be >= 0");
    assertRejected(
        "merge_method: della\nbase_model: " + base + "\n" + two + "parameters:\n  epsilon: 0.5\n",
        "models[0].parameters.epsilon",
        "(0, 1)");
    assertRejected(
        "merge_method: breadcrumbs\nbase_model: " + base + "\n" + two + "parameters:\n  gamma: 2\n",
        "models[0].parameters.gamma",
        "[0, 1]");
    assertRejected(
        "merge_method: ties\nbase_model: " + base + "\n" + two + "parameters:\n  lambda: x\n",
        "parameters.lambda",
        "expected a number");
  }
}
