package dev.amalgam.io.gguf;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.kernels.Isa;
import dev.amalgam.kernels.JavaKernels;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * GgufWriter's Q8_0 and plain conversions and GgufTensorData's decoding go through the kernels:
 * every kernel implementation must write the files GgufQuant's reference writes, byte for byte, and
 * read back its values.
 */
class GgufKernelPathsTest {
  @TempDir Path dir;

  private static final int ROWS = 1100; // 96 x 1100 elements: more than one kernel chunk of 2^20

  /** Gaussian values with NaN, infinities and subnormals in a few blocks, as every source dtype. */
  private static ByteBuffer source(DType type, int n) {
    SplittableRandom rng = new SplittableRandom(11);
    ByteBuffer b =
        ByteBuffer.allocateDirect(Math.toIntExact(type.byteCount(n)))
            .order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      float v = (float) rng.nextGaussian();
      if (i % 4099 == 5) v = Float.NaN;
      if (i % 5003 == 7) v = Float.NEGATIVE_INFINITY;
      if (i / 32 % 997 == 3) v = Float.intBitsToFloat(rng.nextInt() & 0x807fffff);
      JavaKernels.store(b, type, i, v);
    }
    return b;
  }

  private static List<Kernels> everyKernels() {
    List<Kernels> all = new ArrayList<>();
    all.add(Kernels.java(2));
    Kernels.nativeBestIsa()
        .ifPresent(
            best -> {
              for (Isa isa : Isa.values())
                if (isa.compareTo(best) <= 0) all.add(Kernels.nativeKernels(isa, 2));
            });
    return all;
  }

  @Test
  void everyKernelWritesTheReferenceBytes() throws Exception {
    int n = 96 * ROWS;
    List<Executable> checks = new ArrayList<>();
    for (DType from : new DType[] {DType.F32, DType.F16, DType.BF16}) {
      ByteBuffer src = source(from, n);
      float[] x = new float[n];
      for (int i = 0; i < n; i++) x[i] = JavaKernels.load(src, from, i);
      ByteBuffer q8 = ByteBuffer.allocate(34 * n / 32);
      GgufQuant.quantizeQ8_0(x, 0, n, q8);
      ByteBuffer f16 = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) JavaKernels.store(f16, DType.F16, i, x[i]);
      for (Kernels k : everyKernels()) {
        Path p = dir.resolve(from + "-" + k.description().replace(' ', '_') + ".gguf");
        try (GgufWriter w =
            GgufWriter.create(
                p,
                new GgufMetadata().put(GgufMetadata.ARCHITECTURE, GgufValue.string("llama")),
                List.of(
                    new GgufWriter.TensorSpec("q8", GgmlType.Q8_0, new long[] {96, ROWS}),
                    new GgufWriter.TensorSpec("f16", GgmlType.F16, new long[] {96, ROWS})))) {
          w.setSync(false);
          w.setKernels(k);
          w.beginTensor("q8");
          w.writeConverted(
              src.duplicate().order(ByteOrder.LITTLE_ENDIAN),
              from,
              32 * 7); // then unaligned chunks
          w.writeConverted(
              src.duplicate()
                  .order(ByteOrder.LITTLE_ENDIAN)
                  .position(Math.toIntExact(from.byteCount(32 * 7))),
              from,
              n - 32 * 7);
          w.endTensor();
          w.beginTensor("f16");
          w.writeConverted(src.duplicate().order(ByteOrder.LITTLE_ENDIAN), from, n);
          w.endTensor();
          w.finish();
        } finally {
          k.close();
        }
        checks.add(
            () -> {
              try (GgufFile f = GgufFile.open(p)) {
                assertEquals(
                    q8.duplicate().clear(),
                    f.data("q8").raw(0, n),
                    k.description() + " Q8_0 from " + from);
                assertEquals(
                    f16.duplicate().clear(),
                    f.data("f16").raw(0, n),
                    k.description() + " F16 from " + from);
              }
            });
      }
    }
    assertAll(checks);
  }

  @Test
  void readF32DecodesLikeGgufQuant() throws Exception {
    int n = 32 * 2500; // more than one decode chunk of 2^16
    Path p = dir.resolve("read.gguf");
    SplittableRandom rng = new SplittableRandom(3);
    GgmlType[] types = {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F16, GgmlType.BF16};
    List<GgufWriter.TensorSpec> specs = new ArrayList<>();
    for (GgmlType t : types) specs.add(new GgufWriter.TensorSpec(t.name(), t, new long[] {n}));
    List<byte[]> stored = new ArrayList<>();
    try (GgufWriter w =
        GgufWriter.create(
            p,
            new GgufMetadata().put(GgufMetadata.ARCHITECTURE, GgufValue.string("llama")),
            specs)) {
      w.setSync(false);
      for (GgmlType t : types) {
        byte[] bytes = new byte[Math.toIntExact(t.byteCount(n))];
        for (int i = 0; i < bytes.length; i++)
          bytes[i] = (byte) rng.nextInt(); // every scale and quant pattern
        stored.add(bytes);
        w.beginTensor(t.name());
        w.write(ByteBuffer.wrap(bytes));
        w.endTensor();
      }
      w.finish();
    }
    try (GgufFile f = GgufFile.open(p)) {
      for (int k = 0; k < types.length; k++) {
        GgmlType t = types[k];
        float[] want = new float[n];
        GgufQuant.dequantize(t, ByteBuffer.wrap(stored.get(k)), want, 0, n);
        FloatBuffer heap = FloatBuffer.allocate(n + 3).position(3);
        f.data(t.name()).readF32(0, n, heap);
        assertEquals(n + 3, heap.position(), t + ": FloatBuffer advanced");
        ByteBuffer direct =
            ByteBuffer.allocateDirect(4 * n + 8).order(ByteOrder.BIG_ENDIAN).position(8);
        f.data(t.name()).readF32(0, n, direct);
        assertEquals(4 * n + 8, direct.position(), t + ": ByteBuffer advanced");
        ByteBuffer part = ByteBuffer.allocate(4 * 64);
        f.data(t.name()).readF32(32 * 100, 64, part); // a heap buffer, a range from the middle
        for (int i = 0; i < n; i++) {
          int bits = Float.floatToRawIntBits(want[i]);
          assertEquals(
              bits, Float.floatToRawIntBits(heap.get(3 + i)), t + " FloatBuffer element " + i);
          assertEquals(
              bits, Integer.reverseBytes(direct.getInt(8 + 4 * i)), t + " ByteBuffer element " + i);
        }
        for (int i = 0; i < 64; i++) {
          assertEquals(
              Float.floatToRawIntBits(want[3200 + i]),
              Integer.reverseBytes(part.getInt(4 * i)),
              t + " range");
        }
        assertThrows(
            IllegalArgumentException.class,
            () -> f.data(t.name()).readF32(0, 64, ByteBuffer.allocate(255)));
        assertThrows(
            IllegalArgumentException.class,
            () -> f.data(t.name()).readF32(0, 64, ByteBuffer.allocate(256).asReadOnlyBuffer()));
      }
    }
    assertEquals(1, Files.list(dir).count());
  }
}
