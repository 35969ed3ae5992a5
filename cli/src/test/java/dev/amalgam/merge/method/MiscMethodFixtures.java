package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cli.Main;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.kernels.JavaKernels;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Shared fixtures of the model_stock, nearswap, ram, sce and passthrough tests: tiny generated
 * models, CLI runs, whole-tensor reads, and in-memory streams with a tiny chunk size to run an
 * operation directly.
 */
final class MiscMethodFixtures {
  static final SyntheticLlama.Shape TINY = new SyntheticLlama.Shape(2, 32, 48, 64, 4, 2, false);

  private MiscMethodFixtures() {}

  /**
   * A generated model: {@code noise} away from the model of {@code seed}, varied by {@code
   * variantSeed}.
   */
  static Path model(Path dir, DType dtype, long seed, double noise, long variantSeed)
      throws IOException {
    SyntheticLlama.write(dir, TINY, dtype, seed, noise, variantSeed, 5_000_000_000L);
    return dir;
  }

  /** Result of one CLI run. */
  record Run(int exitCode, String out, String err) {
    void assertOk() {
      assertEquals(0, exitCode, () -> "exit code; stderr:\n" + err + "\nstdout:\n" + out);
    }

    /** Exit code 2 and one error line containing every fragment. */
    void assertInvalid(String... fragments) {
      assertEquals(
          Main.EXIT_INVALID, exitCode, () -> "exit code; stderr:\n" + err + "\nstdout:\n" + out);
      assertEquals(1, err.strip().lines().count(), () -> "one line, no stack trace:\n" + err);
      for (String f : fragments)
        assertTrue(err.contains(f), () -> "stderr should contain '" + f + "':\n" + err);
    }
  }

  /** Writes {@code yaml} and merges it into {@code dir/out} through the CLI. */
  static Run merge(Path dir, String yaml, String... extra) throws IOException {
    Path cfg = dir.resolve("merge.yml");
    Files.writeString(cfg, yaml, StandardCharsets.UTF_8);
    List<String> args =
        new ArrayList<>(
            List.of("merge", cfg.toString(), dir.resolve("out").toString(), "--no-progress"));
    args.addAll(List.of(extra));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Main.run(
            args.toArray(new String[0]), new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  /** The tensors of a model. */
  static List<TensorInfo> tensors(Path model) throws IOException {
    try (SafetensorsModel m = SafetensorsModel.open(model)) {
      return m.tensors();
    }
  }

  /** Every element of a tensor widened to float. */
  static float[] floats(Path model, String tensor) throws IOException {
    try (SafetensorsModel m = SafetensorsModel.open(model)) {
      TensorInfo info = m.tensor(tensor).orElseThrow();
      ByteBuffer b = m.data(tensor).slice(0, info.elementCount());
      float[] f = new float[Math.toIntExact(info.elementCount())];
      for (int i = 0; i < f.length; i++) f[i] = JavaKernels.load(b, info.dtype(), i);
      return f;
    }
  }

  /** The stored type of a tensor. */
  static DType dtype(Path model, String tensor) throws IOException {
    try (SafetensorsModel m = SafetensorsModel.open(model)) {
      return m.tensor(tensor).orElseThrow().dtype();
    }
  }

  /** {@code value} rounded to {@code type}, widened back to float. */
  static float round(float value, DType type) {
    ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    JavaKernels.store(b, type, 0, value);
    return JavaKernels.load(b, type, 0);
  }

  /**
   * Asserts that every tensor of the merge output equals the reference bit for bit (after rounding
   * the reference to the output type). The reference gets the inputs' whole tensors in merge order.
   */
  static void assertMergeEquals(Path out, List<Path> inputs, Reference reference)
      throws IOException {
    for (TensorInfo t : tensors(out)) {
      float[][] in = new float[inputs.size()][];
      for (int i = 0; i < in.length; i++) in[i] = floats(inputs.get(i), t.name());
      float[] want = reference.compute(t, in);
      float[] got = floats(out, t.name());
      assertEquals(want.length, got.length, t.name());
      for (int i = 0; i < got.length; i++) {
        float w = round(want[i], t.dtype());
        if (Float.floatToIntBits(w) != Float.floatToIntBits(got[i])) {
          throw new AssertionError(
              t.name()
                  + "["
                  + i
                  + "]: got "
                  + got[i]
                  + ", want "
                  + w
                  + " (unrounded "
                  + want[i]
                  + ")");
        }
      }
    }
  }

  /** A plain-Java reference of a method over whole tensors. */
  interface Reference {
    /** The unrounded result for tensor {@code t} from the inputs' elements. */
    float[] compute(TensorInfo t, float[][] inputs);
  }

  /** A context with fixed parameters, for running a method's operation directly. */
  static TensorContext context(
      TensorInfo info, int baseIndex, int inputs, Map<String, Object> global) {
    List<InputTensor> list = new ArrayList<>();
    for (int i = 0; i < inputs; i++) list.add(new InputTensor(i, info, i == baseIndex, "m" + i));
    return new TensorContext() {
      @Override
      public String tensorName() {
        return info.name();
      }

      @Override
      public List<InputTensor> inputs() {
        return list;
      }

      @Override
      public double number(String parameter) {
        return ((Number) global.get(parameter)).doubleValue();
      }

      @Override
      public boolean bool(String parameter) {
        return (Boolean) global.get(parameter);
      }

      @Override
      public double number(InputTensor input, String parameter) {
        return ((Number) global.get(parameter)).doubleValue();
      }

      @Override
      public long randomSeed() {
        return 0;
      }
    };
  }

  /**
   * Runs an operation over f32 inputs held in arrays, {@code chunk} elements at a time; returns the
   * output.
   */
  static float[] runInMemory(TensorOperation op, float[][] inputs, long chunk) throws Exception {
    int n = inputs[0].length;
    ByteBuffer[] data = new ByteBuffer[inputs.length];
    for (int i = 0; i < inputs.length; i++) {
      data[i] = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
      data[i].asFloatBuffer().put(inputs[i]);
    }
    ByteBuffer result = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    try (Kernels kernels = Kernels.java(1)) {
      IntFunction<DType> f32 = i -> DType.F32;
      op.run(
          new TensorStreams() {
            @Override
            public int inputCount() {
              return inputs.length;
            }

            @Override
            public long elementCount() {
              return n;
            }

            @Override
            public long chunkElements() {
              return chunk;
            }

            @Override
            public DType inputType(int input) {
              return f32.apply(input);
            }

            @Override
            public ByteBuffer inputChunk(int input, long first, long count) {
              if (count > chunk) throw new AssertionError("chunk too large: " + count);
              return data[input]
                  .duplicate()
                  .order(ByteOrder.LITTLE_ENDIAN)
                  .position((int) first * 4)
                  .limit((int) (first + count) * 4)
                  .slice()
                  .order(ByteOrder.LITTLE_ENDIAN)
                  .asReadOnlyBuffer()
                  .order(ByteOrder.LITTLE_ENDIAN);
            }

            @Override
            public DType outputType() {
              return DType.F32;
            }

            @Override
            public ByteBuffer outputChunk() {
              return ByteBuffer.allocateDirect((int) chunk * 4).order(ByteOrder.LITTLE_ENDIAN);
            }

            @Override
            public void emit(ByteBuffer filled) {
              if (filled.remaining() > 4 * chunk)
                throw new AssertionError("output chunk too large");
              result.put(filled.duplicate());
            }

            @Override
            public Kernels kernels() {
              return kernels;
            }
          });
    }
    if (result.hasRemaining())
      throw new AssertionError("output covers " + result.position() / 4 + " of " + n);
    float[] out = new float[n];
    result.flip();
    result.asFloatBuffer().get(out);
    return out;
  }
}
