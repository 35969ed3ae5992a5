package dev.amalgam.bench;

import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufTensorData;
import dev.amalgam.io.gguf.GgufTensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * GGUF read throughput: for each file, {@code RUNS} timed passes over every tensor in two modes,
 * alternating:
 *
 * <ul>
 *   <li>{@code raw}: the zero-copy mapped views the merge reads plain tensors through, every byte
 *       touched (summed as longs) so the pages are really read;
 *   <li>{@code f32}: {@code readF32}, which decodes every tensor to f32 (F16/BF16 widened,
 *       Q8_0/Q4_K/... dequantized), the path a merge of quantized inputs takes.
 * </ul>
 *
 * GB/s counts the bytes stored in the file (1 GB = 1e9 B). Prints median and best per mode. Run on
 * a warm page cache; the script beside it measures {@code cat FILE > /dev/null} in the same run as
 * the reference.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar dev.amalgam.bench.GgufRead RUNS
 * FILE...}
 */
public final class GgufRead {
  private static final int CHUNK = 1 << 22;
  private static long sink;

  private GgufRead() {}

  public static void main(String[] args) throws Exception {
    int runs = Integer.parseInt(args[0]);
    for (int f = 1; f < args.length; f++) {
      Path path = Path.of(args[f]);
      double[] raw = new double[runs];
      double[] f32 = new double[runs];
      long bytes = 0;
      for (int r = 0; r < runs; r++) {
        try (GgufFile file = GgufFile.open(path)) {
          bytes = file.dataBytes();
          raw[r] = pass(file, false);
          f32[r] = pass(file, true);
        }
      }
      report(path, "raw", bytes, raw);
      report(path, "f32", bytes, f32);
    }
    if (sink == 42) System.err.println(); // keep the sums alive
  }

  private static double pass(GgufFile file, boolean decode) throws Exception {
    FloatBuffer floats =
        ByteBuffer.allocateDirect(CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    long start = System.nanoTime();
    for (GgufTensorInfo t : file.tensors()) {
      GgufTensorData data = file.data(t.name());
      long n = t.elementCount();
      for (long first = 0; first < n; first += CHUNK) {
        long c = Math.min(CHUNK, n - first);
        if (decode) {
          floats.clear();
          data.readF32(first, c, floats);
          sink += Float.floatToRawIntBits(floats.get(0));
        } else {
          ByteBuffer b = data.raw(first, c);
          LongBuffer longs = b.asLongBuffer();
          long s = 0;
          while (longs.hasRemaining()) s += longs.get();
          sink += s;
        }
      }
      data.release();
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static void report(Path path, String mode, long bytes, double[] seconds) {
    double[] s = seconds.clone();
    Arrays.sort(s);
    double median =
        s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    System.out.printf(
        Locale.ROOT,
        "%s %s: %.2f GB in median %.3f s (%.2f GB/s), best %.3f s (%.2f GB/s)%n",
        path.getFileName(),
        mode,
        bytes / 1e9,
        median,
        bytes / 1e9 / median,
        s[0],
        bytes / 1e9 / s[0]);
  }
}
