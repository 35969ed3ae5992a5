package dev.amalgam.synthetic;

import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufTensorData;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.io.gguf.GgufWriter;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes a perturbed copy of a GGUF model: every matrix gets seeded Gaussian noise of {@code noise}
 * times its own RMS; vectors (norms) and everything else are copied byte for byte, as are the
 * metadata and tensor order. The demo and the tests merge a model with such a copy to show that a
 * merge changes what the model writes. Tensors are processed one at a time, each held in memory
 * once as f32 (fine for the small models this is for).
 */
public final class PerturbedGguf {
  private PerturbedGguf() {}

  /**
   * Writes the copy.
   *
   * @param noise standard deviation of the noise relative to each matrix's RMS (0.3 changes a tiny
   *     model's text)
   * @param seed with the tensor name, seeds each tensor's noise
   */
  public static void write(Path source, Path target, double noise, long seed) throws IOException {
    try (GgufFile src = GgufFile.open(source)) {
      List<GgufWriter.TensorSpec> specs = new ArrayList<>();
      for (GgufTensorInfo t : src.tensors()) specs.add(GgufWriter.TensorSpec.of(t));
      try (GgufWriter w = GgufWriter.create(target, src.metadata(), specs, true)) {
        w.setSync(false);
        for (GgufTensorInfo t : src.tensors()) {
          GgufTensorData data = src.data(t.name());
          w.beginTensor(t.name());
          long elements = t.elementCount();
          boolean perturb =
              t.rank() >= 2
                  && t.type()
                      .plainDType()
                      .filter(d -> d == DType.F32 || d == DType.F16 || d == DType.BF16)
                      .isPresent()
                  && elements <= Integer.MAX_VALUE / 4;
          if (!perturb) {
            w.write(data.raw(0, elements));
          } else {
            int n = Math.toIntExact(elements);
            ByteBuffer bytes = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer values = bytes.asFloatBuffer();
            data.readF32(0, n, values);
            double sumSquares = 0;
            for (int i = 0; i < n; i++) sumSquares += (double) values.get(i) * values.get(i);
            double scale = noise * Math.sqrt(sumSquares / Math.max(1, n));
            SplittableRandom random =
                new SplittableRandom(seed ^ t.name().hashCode() * 0x9E3779B97F4A7C15L);
            for (int i = 0; i < n; i++)
              values.put(i, (float) (values.get(i) + scale * gaussian(random)));
            w.writeConverted(bytes, DType.F32, n);
          }
          w.endTensor();
        }
        w.finish();
      }
    }
  }

  private static double gaussian(SplittableRandom r) {
    double u = r.nextDouble();
    double v = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
  }
}
