package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.io.gguf.GgufWriter;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.kernels.JavaKernels;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Shared pieces of the end-to-end conversion and merge tests: the stories260K model (skipped when
 * absent), tensor bytes and values of GGUF and safetensors models, whole-model comparisons, a
 * perturbed GGUF copy and the check that a failure left no hidden partial file behind.
 */
public final class GgufFixtures {
  /** A few TinyStories-style sentences; repeated they give the perplexity texts. */
  public static final String STORY =
      "Once upon a time there was a little girl named Lily. She loved to play outside"
          + " in the sun. One day, she saw a big red ball in the park. She wanted to play with it, so she ran to the"
          + " ball and kicked it. The ball went high in the sky. Lily was happy. Her mom said, \"Lily, it is time to go"
          + " home.\" They walked home together and ate a big dinner. Then Lily went to bed and had a good dream. ";

  /** 2 layers, hidden 64, 8 heads of 8, 2 KV heads (GQA 4:1), MLP 128, vocabulary 320, untied. */
  public static final SyntheticLlama.Shape LLAMA3_SHAPE =
      new SyntheticLlama.Shape(2, 64, 128, 320, 8, 2, false);

  /** The Llama-3 rope_theta of the synthetic checkpoint. */
  public static final double LLAMA3_ROPE_THETA = 500000;

  private GgufFixtures() {}

  /**
   * Writes a synthetic Llama-3-style checkpoint of {@link #LLAMA3_SHAPE}: SyntheticLlama's bf16
   * weights, config.json with llama3 rope scaling, a synthetic Llama-3 tokenizer.
   */
  public static Path writeLlama3Checkpoint(Path dir, long seed, double noise) throws IOException {
    SyntheticLlama.write(dir, LLAMA3_SHAPE, DType.BF16, seed, noise, seed + 1, 5_000_000_000L);
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
    config.put("rope_theta", LLAMA3_ROPE_THETA);
    ObjectNode scaling = config.putObject("rope_scaling");
    scaling.put("rope_type", "llama3");
    scaling.put("factor", 8.0);
    scaling.put("low_freq_factor", 1.0);
    scaling.put("high_freq_factor", 4.0);
    scaling.put("original_max_position_embeddings", 8192);
    json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config);
    SyntheticTokenizers.writeLlama3(dir, LLAMA3_SHAPE.vocab());
    return dir;
  }

  /** The repository's stories260K.gguf (docs/formats.md §5). */
  public static Path stories() {
    return TestAssets.stories260K();
  }

  /** The stored bytes of one GGUF tensor. */
  public static byte[] bytes(GgufFile file, String name) throws IOException {
    GgufTensorInfo t =
        file.tensor(name).orElseThrow(() -> new AssertionError(file.path() + " has no " + name));
    ByteBuffer b = file.data(name).raw(0, t.elementCount());
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** The values of one GGUF tensor, dequantized to f32. */
  public static float[] floats(GgufFile file, String name) throws IOException {
    GgufTensorInfo t =
        file.tensor(name).orElseThrow(() -> new AssertionError(file.path() + " has no " + name));
    float[] out = new float[Math.toIntExact(t.elementCount())];
    file.data(name).readF32(0, t.elementCount(), FloatBuffer.wrap(out));
    return out;
  }

  /** The stored bytes of one safetensors tensor. */
  public static byte[] bytes(SafetensorsModel model, String name) throws IOException {
    TensorInfo info =
        model.tensor(name).orElseThrow(() -> new AssertionError(model.path() + " has no " + name));
    ByteBuffer b = model.data(name).slice(0, info.elementCount());
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** The values of one safetensors tensor widened to f32. */
  public static float[] floats(SafetensorsModel model, String name) throws IOException {
    TensorInfo info =
        model.tensor(name).orElseThrow(() -> new AssertionError(model.path() + " has no " + name));
    ByteBuffer b = model.data(name).slice(0, info.elementCount());
    float[] out = new float[Math.toIntExact(info.elementCount())];
    for (int i = 0; i < out.length; i++) out[i] = JavaKernels.load(b, info.dtype(), i);
    return out;
  }

  /**
   * Asserts that two GGUF files hold the same tensors: same names (order free), types, {@code ne}
   * and bytes. Metadata may differ.
   */
  public static void assertSameTensors(Path expected, Path actual) throws IOException {
    try (GgufFile e = GgufFile.open(expected);
        GgufFile a = GgufFile.open(actual)) {
      assertEquals(names(e), names(a), "tensor names of " + actual);
      for (GgufTensorInfo t : e.tensors()) {
        GgufTensorInfo other = a.tensor(t.name()).orElseThrow();
        assertEquals(t.type(), other.type(), t.name() + " type");
        assertArrayEquals(t.ne(), other.ne(), t.name() + " ne");
        assertArrayEquals(bytes(e, t.name()), bytes(a, t.name()), t.name() + " bytes");
      }
    }
  }

  /** Asserts that two safetensors models hold the same tensors: names, dtypes, shapes and bytes. */
  public static void assertSameHfTensors(Path expected, Path actual) throws IOException {
    try (SafetensorsModel e = SafetensorsModel.open(expected);
        SafetensorsModel a = SafetensorsModel.open(actual)) {
      assertEquals(
          e.tensors().stream().map(TensorInfo::name).sorted().toList(),
          a.tensors().stream().map(TensorInfo::name).sorted().toList(),
          "tensor names of " + actual);
      for (TensorInfo t : e.tensors()) {
        TensorInfo other = a.tensor(t.name()).orElseThrow();
        assertEquals(t.dtype(), other.dtype(), t.name() + " dtype");
        assertArrayEquals(t.shape(), other.shape(), t.name() + " shape");
        assertArrayEquals(bytes(e, t.name()), bytes(a, t.name()), t.name() + " bytes");
      }
    }
  }

  /** Tensor names, sorted. */
  public static List<String> names(GgufFile f) {
    return f.tensors().stream().map(GgufTensorInfo::name).sorted().toList();
  }

  /** Every tensor's type by name. */
  public static Map<String, GgmlType> types(GgufFile f) {
    Map<String, GgmlType> m = new LinkedHashMap<>();
    for (GgufTensorInfo t : f.tensors()) m.put(t.name(), t.type());
    return m;
  }

  /**
   * Writes an F32 copy of an F32 GGUF file with the same metadata and tensor order, adding seeded
   * Gaussian noise of {@code relative} times each tensor's RMS to every 2-D tensor (vectors are
   * copied unchanged).
   */
  public static Path perturbedCopy(Path source, Path target, long seed, double relative)
      throws IOException {
    Random random = new Random(seed);
    try (GgufFile src = GgufFile.open(source)) {
      List<GgufWriter.TensorSpec> specs = new ArrayList<>();
      for (GgufTensorInfo t : src.tensors()) {
        assertEquals(GgmlType.F32, t.type(), "perturbedCopy expects F32 tensors: " + t.name());
        specs.add(GgufWriter.TensorSpec.of(t));
      }
      try (GgufWriter w = GgufWriter.create(target, new GgufMetadata(src.metadata()), specs)) {
        w.setSync(false);
        for (GgufTensorInfo t : src.tensors()) {
          float[] v = floats(src, t.name());
          if (t.rank() == 2) {
            double sumSquares = 0;
            for (float x : v) sumSquares += (double) x * x;
            double sigma = relative * Math.sqrt(sumSquares / v.length);
            for (int i = 0; i < v.length; i++) v[i] += (float) (sigma * random.nextGaussian());
          }
          ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
          b.asFloatBuffer().put(v);
          w.beginTensor(t.name());
          w.write(b);
          w.endTensor();
        }
        w.finish();
      }
    }
    return target;
  }

  /**
   * Asserts that no hidden temporary ({@code .amalgam-partial-}) file or directory is left in
   * {@code dir}.
   */
  public static void assertNoPartialFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      List<String> left =
          s.map(p -> p.getFileName().toString())
              .filter(n -> n.contains(".amalgam-partial"))
              .toList();
      assertTrue(left.isEmpty(), "temporary files left in " + dir + ": " + left);
    }
  }

  /** Every token log-probability finite and not positive. */
  public static void assertLogProbs(double[] logProbs) {
    assertTrue(logProbs.length > 0, "nothing scored");
    for (double lp : logProbs) assertTrue(Double.isFinite(lp) && lp <= 0, "log-prob " + lp);
  }
}
