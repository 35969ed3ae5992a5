package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.TINY;
import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.floats;
import static dev.amalgam.cli.CliHarness.model;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Merges through the CLI on tiny generated models; results are checked against the documented
 * maths.
 */
class MergeCommandTest {
  @TempDir static Path models;
  @TempDir Path tmp;
  static Path a;
  static Path b;
  static Path c;

  @BeforeAll
  static void generate() throws IOException {
    a = model(models.resolve("a"), TINY, DType.BF16, 1, 0, 0);
    b = model(models.resolve("b"), TINY, DType.BF16, 1, 0.4, 2); // related to a: cos ~0.93
    c = model(models.resolve("c"), TINY, DType.BF16, 7, 0, 0); // unrelated
  }

  /**
   * Reference from docs/merge-semantics.md §2.2 as Amalgam defines it: f32 FMA chain, rounded once.
   */
  static short linearBf16(float[] coefficients, float[][] inputs, int i) {
    float acc = coefficients[0] * inputs[0][i];
    for (int k = 1; k < inputs.length; k++) acc = Math.fma(coefficients[k], inputs[k][i], acc);
    return Bf16.fromFloat(acc);
  }

  static short[] bf16Bits(Path model, String tensor) throws IOException {
    float[] f = floats(model, tensor);
    short[] s = new short[f.length];
    for (int i = 0; i < f.length; i++) s[i] = Bf16.fromFloat(f[i]);
    return s;
  }

  @Test
  void linearMergeEqualsTheReferenceAndWritesACompleteModel() throws Exception {
    Path cfg =
        config(
            tmp,
            "linear.yml",
            String.join(
                "\n",
                "merge_method: linear",
                "models:",
                "  - model: " + a,
                "    parameters:",
                "      weight: 0.3",
                "  - model: " + c,
                "    parameters:",
                "      weight: 0.6",
                "dtype: bfloat16",
                ""));
    Path out = tmp.resolve("out");
    CliHarness.Run r = run("merge", cfg.toString(), out.toString(), "--no-progress");
    r.assertOk();
    assertTrue(
        r.out()
            .startsWith("merged " + SyntheticLlama.tensors(TINY, DType.BF16).size() + " tensors"),
        r.out());

    for (String f :
        List.of("model.safetensors", "config.json", "README.md", "amalgam_config.yml")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
    assertEquals(Files.readString(cfg), Files.readString(out.resolve("amalgam_config.yml")));
    JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    assertEquals("bfloat16", config.get("torch_dtype").asText());
    assertEquals(TINY.layers(), config.get("num_hidden_layers").asInt());
    String card = Files.readString(out.resolve("README.md"));
    assertTrue(card.startsWith("---\nbase_model:\n"), card);
    assertTrue(card.contains("merge_method: linear"), card);

    float[] coefficients = {(float) (0.3 / 0.9), (float) (0.6 / 0.9)};
    try (SafetensorsModel merged = SafetensorsModel.open(out)) {
      assertEquals(
          SyntheticLlama.tensors(TINY, DType.BF16),
          merged.tensors(),
          "names, order, shapes and dtypes");
      for (TensorInfo t : merged.tensors()) {
        float[][] in = {floats(a, t.name()), floats(c, t.name())};
        short[] got = bf16Bits(out, t.name());
        for (int i = 0; i < got.length; i++) {
          if (got[i] != linearBf16(coefficients, in, i)) {
            throw new AssertionError(
                t.name()
                    + "["
                    + i
                    + "]: got "
                    + got[i]
                    + ", want "
                    + linearBf16(coefficients, in, i));
          }
        }
      }
    }
  }

  @Test
  void linearWithFiltersPrecedenceAndWithoutNormalisation() throws Exception {
    // per-model filters win over top-level values; unmatched tensors fall through to the top-level
    // weight
    Path cfg =
        config(
            tmp,
            "linear.yml",
            String.join(
                "\n",
                "merge_method: linear",
                "models:",
                "  - model: " + a,
                "    parameters:",
                "      weight:",
                "        - filter: mlp",
                "          value: 2.0",
                "  - model: " + b,
                "  - model: " + c,
                "parameters:",
                "  weight: 0.5",
                "  normalize: false",
                ""));
    Path out = tmp.resolve("out");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();
    for (String name :
        List.of("model.layers.1.mlp.up_proj.weight", "model.layers.1.self_attn.q_proj.weight")) {
      float wa = name.contains("mlp") ? 2.0f : 0.5f;
      float[] coefficients = {wa, 0.5f, 0.5f};
      float[][] in = {floats(a, name), floats(b, name), floats(c, name)};
      short[] got = bf16Bits(out, name);
      for (int i = 0; i < got.length; i++)
        assertEquals(linearBf16(coefficients, in, i), got[i], name + "[" + i + "]");
    }
  }

  /** mergekit's SLERP in double precision (docs/merge-semantics.md §2.3), then rounded to bf16. */
  static short[] slerpReference(float[] v0, float[] v1, double t) {
    double dot = 0, n0 = 0, n1 = 0;
    for (int i = 0; i < v0.length; i++) {
      dot += (double) v0[i] * v1[i];
      n0 += (double) v0[i] * v0[i];
      n1 += (double) v1[i] * v1[i];
    }
    n0 = Math.sqrt(n0);
    n1 = Math.sqrt(n1);
    double cos = dot / ((n0 > 1e-8 ? n0 : 1) * (n1 > 1e-8 ? n1 : 1));
    double s0;
    double s1;
    if (Math.abs(cos) > 0.9995) {
      s0 = 1 - t;
      s1 = t;
    } else {
      double theta = Math.acos(cos);
      s0 = Math.sin(theta * (1 - t)) / Math.sin(theta);
      s1 = Math.sin(theta * t) / Math.sin(theta);
    }
    short[] out = new short[v0.length];
    for (int i = 0; i < out.length; i++) out[i] = Bf16.fromFloat((float) (s0 * v0[i] + s1 * v1[i]));
    return out;
  }

  /** Worked example of docs/merge-semantics.md §3.3 applied per layer, in double precision. */
  static double gradient(double[] g, int layer, int layers) {
    double s = (double) layer / (layers - 1) * (g.length - 1);
    int i0 = (int) Math.floor(s);
    int i1 = Math.min(g.length - 1, i0 + 1);
    return (1 - (s - i0)) * g[i0] + (s - i0) * g[i1];
  }

  @Test
  void slerpWithGradientFollowsTheLayerRule() throws Exception {
    SyntheticLlama.Shape deep = new SyntheticLlama.Shape(40, 32, 48, 64, 4, 2, false);
    Path base = model(tmp.resolve("deep-a"), deep, DType.BF16, 3, 0, 0);
    Path other = model(tmp.resolve("deep-b"), deep, DType.BF16, 3, 0.5, 4);
    Path cfg =
        config(
            tmp,
            "slerp.yml",
            String.join(
                "\n",
                "merge_method: slerp",
                "base_model: " + base,
                "models:",
                "  - model: " + base,
                "  - model: " + other,
                "parameters:",
                "  t:",
                "    - filter: self_attn",
                "      value: [0, 0.5, 0.3, 0.7, 1]",
                "    - value: 0.25",
                ""));
    Path out = tmp.resolve("out");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();

    String q0 = "model.layers.0.self_attn.q_proj.weight";
    String q39 = "model.layers.39.self_attn.q_proj.weight";
    assertArrayEquals(
        CliHarness.bytes(base, q0), CliHarness.bytes(out, q0), "t = 0 gives the base bit for bit");
    assertArrayEquals(
        CliHarness.bytes(other, q39), CliHarness.bytes(out, q39), "t = 1 gives the other model");
    double[] g = {0, 0.5, 0.3, 0.7, 1};
    assertEquals(0.495, gradient(g, 10, 40), 0.0005);
    assertEquals(0.321, gradient(g, 20, 40), 0.0005);
    for (int layer : new int[] {10, 20, 29}) {
      String name = "model.layers." + layer + ".self_attn.o_proj.weight";
      assertSlerpClose(base, other, out, name, gradient(g, layer, 40));
    }
    assertSlerpClose(base, other, out, "model.layers.10.mlp.up_proj.weight", 0.25);
    assertSlerpClose(base, other, out, "model.embed_tokens.weight", 0.25);
  }

  /**
   * At least 99% of elements equal the double-precision reference, none more than 1 bf16 ulp away.
   */
  static void assertSlerpClose(Path base, Path other, Path out, String name, double t)
      throws IOException {
    short[] want = slerpReference(floats(base, name), floats(other, name), t);
    short[] got = bf16Bits(out, name);
    int equal = 0;
    for (int i = 0; i < want.length; i++) {
      int ulp = Math.abs(ordered(want[i]) - ordered(got[i]));
      assertTrue(ulp <= 1, name + "[" + i + "] differs by " + ulp + " ulp");
      if (ulp == 0) equal++;
    }
    assertTrue(
        equal >= 0.99 * want.length, name + ": only " + equal + " of " + want.length + " exact");
  }

  static int ordered(short bf16) {
    int v = bf16 & 0xffff;
    return (v & 0x8000) != 0 ? -(v & 0x7fff) : v;
  }

  @Test
  void mergingAModelWithAnIdenticalCopyGivesItBackBitForBit() throws Exception {
    Path x = model(tmp.resolve("x"), TINY, DType.F32, 3, 0, 0);
    Path y = model(tmp.resolve("y"), TINY, DType.F32, 3, 0, 0);
    for (String method : List.of("slerp", "linear")) {
      Path cfg =
          config(
              tmp,
              method + ".yml",
              method.equals("slerp")
                  ? "merge_method: slerp\nbase_model: "
                      + x
                      + "\nmodels:\n  - model: "
                      + y
                      + "\nparameters:\n  t: 0.1\n"
                  : "merge_method: linear\nmodels:\n  - model: "
                      + x
                      + "\n    parameters: {weight: 0.9}\n  - model: "
                      + y
                      + "\n    parameters: {weight: 0.1}\n");
      Path out = tmp.resolve(method);
      run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();
      for (TensorInfo t : SyntheticLlama.tensors(TINY, DType.F32)) {
        float[] want = floats(x, t.name());
        float[] got = floats(out, t.name());
        for (int i = 0; i < want.length; i++) {
          assertEquals(
              Float.floatToRawIntBits(want[i]),
              Float.floatToRawIntBits(got[i]),
              method + " " + t.name() + "[" + i + "]");
        }
      }
    }
  }

  @Test
  void resultsDoNotDependOnTheThreadCount() throws Exception {
    Path cfg =
        config(
            tmp,
            "slerp.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n  - model: "
                + b
                + "\nparameters:\n  t: 0.37\n");
    run("merge", cfg.toString(), tmp.resolve("one").toString(), "-j", "1", "--no-progress")
        .assertOk();
    run("merge", cfg.toString(), tmp.resolve("two").toString(), "-j", "2", "--no-progress")
        .assertOk();
    assertArrayEquals(
        Files.readAllBytes(tmp.resolve("one/model.safetensors")),
        Files.readAllBytes(tmp.resolve("two/model.safetensors")));
  }

  @Test
  void shardsByTheSizeLimit() throws Exception {
    Path cfg =
        config(
            tmp,
            "slerp.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + b
                + "\nparameters:\n  t: 0.5\n");
    Path out = tmp.resolve("out");
    run("merge", cfg.toString(), out.toString(), "--out-shard-size", "40k", "--no-progress")
        .assertOk();
    assertTrue(Files.isRegularFile(out.resolve("model.safetensors.index.json")));
    JsonNode index =
        new ObjectMapper().readTree(out.resolve("model.safetensors.index.json").toFile());
    try (SafetensorsModel merged = SafetensorsModel.open(out);
        SafetensorsModel in = SafetensorsModel.open(a)) {
      assertTrue(merged.files().size() > 1, "several shards");
      assertEquals(
          "model-00001-of-0000" + merged.files().size() + ".safetensors",
          merged.files().get(0).getFileName().toString());
      assertEquals(in.totalBytes(), index.get("metadata").get("total_size").asLong());
      assertEquals(in.tensors(), merged.tensors());
    }
  }

  @Test
  void dtypeRoundsInputsOnLoadAndOutDtypeSetsTheOutput() throws Exception {
    Path fa = model(tmp.resolve("fa"), TINY, DType.F32, 1, 0, 0);
    Path fb = model(tmp.resolve("fb"), TINY, DType.F32, 7, 0, 0);
    Path cfg =
        config(
            tmp,
            "linear.yml",
            "merge_method: linear\nmodels:\n  - model: "
                + fa
                + "\n    parameters: {weight: 1}\n  - model: "
                + fb
                + "\n    parameters: {weight: 3}\ndtype: float16\n"
                + "out_dtype: float32\n");
    Path out = tmp.resolve("out");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertOk();
    assertEquals(
        "float32",
        new ObjectMapper()
            .readTree(out.resolve("config.json").toFile())
            .get("torch_dtype")
            .asText());
    String name = "model.layers.2.mlp.down_proj.weight";
    float[] x = floats(fa, name);
    float[] y = floats(fb, name);
    float[] got = floats(out, name);
    try (SafetensorsModel m = SafetensorsModel.open(out)) {
      assertEquals(DType.F32, m.tensor(name).orElseThrow().dtype());
    }
    for (int i = 0; i < got.length; i++) {
      float xr =
          F16.toFloat(F16.fromFloat(x[i])); // rounded to float16 on load, as mergekit's dtype does
      float yr = F16.toFloat(F16.fromFloat(y[i]));
      float want = Math.fma(0.75f, yr, 0.25f * xr);
      assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), name + "[" + i + "]");
    }
  }

  @Test
  void replacesAnExistingOutputOnlyWithForce() throws Exception {
    Path cfg =
        config(
            tmp,
            "slerp.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + b
                + "\nparameters:\n  t: 0.5\n");
    Path out = tmp.resolve("out");
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "old");
    run("merge", cfg.toString(), out.toString(), "--no-progress")
        .assertInvalid(out.toString(), "--force");
    assertTrue(Files.exists(out.resolve("keep.txt")), "the old directory is untouched");
    run("merge", cfg.toString(), out.toString(), "--no-progress", "--force").assertOk();
    assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    assertTrue(Files.notExists(out.resolve("keep.txt")));
  }

  @Test
  void otherFailuresExitWithOneAndOneLine() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isDirectory(Path.of("/proc/self")), "needs Linux /proc");
    Path cfg =
        config(
            tmp,
            "slerp.yml",
            "merge_method: slerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + b
                + "\nparameters:\n  t: 0.5\n");
    CliHarness.Run r =
        run("merge", cfg.toString(), "/proc/amalgam-cannot-write-here", "--no-progress");
    assertEquals(Main.EXIT_FAILURE, r.exitCode(), r.err());
    assertTrue(r.err().startsWith("amalgam: error: "), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    CliHarness.Run verbose =
        run(
            "merge",
            cfg.toString(),
            "/proc/amalgam-cannot-write-here",
            "--no-progress",
            "--verbose");
    assertTrue(verbose.err().lines().count() > 3, "--verbose adds the stack trace");
  }
}
