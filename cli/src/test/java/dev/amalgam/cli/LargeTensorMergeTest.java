package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.io.safetensors.TensorData;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A merge of one 2.4 GB tensor (more than a Java 17 mapping or array can hold) end to end. Inputs
 * are sparse files, but the output is 2.4 GB of real data: run with {@code mvn verify -Pheavy}.
 */
@Tag("heavy")
class LargeTensorMergeTest {
  private static final long N = 600_000_000L; // f32 elements: 2.4 GB, past 2^31 bytes
  private static final long[] PROBES = {
    0, 1, (1L << 29) - 1, 1L << 29, (1L << 29) + 1, 536_870_911L, N - 1
  };

  @TempDir Path tmp;

  /** A one-tensor model in a sparse file: zeros except value(i) at the probe elements. */
  private static Path model(Path dir, float scale) throws IOException {
    Files.createDirectories(dir);
    String header =
        "{\"__metadata__\":{\"format\":\"pt\"},\"big.weight\":{\"dtype\":\"F32\",\"shape\":["
            + N
            + "],\"data_offsets\":[0,"
            + 4 * N
            + "]}}";
    while ((8 + header.length()) % 8 != 0) header += " ";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    try (RandomAccessFile f =
        new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
      f.setLength(8 + h.length + 4 * N);
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length);
      f.write(len.array());
      f.write(h);
      for (long i : PROBES) {
        f.seek(8 + h.length + 4 * i);
        f.writeInt(Integer.reverseBytes(Float.floatToIntBits(scale * (i % 1000 + 1))));
      }
    }
    Files.writeString(
        dir.resolve("config.json"),
        "{\"architectures\": [\"Probe\"], \"torch_dtype\": \"float32\"}");
    return dir;
  }

  @Test
  void mergesATensorLargerThanTwoGibibytes() throws Exception {
    Path a = model(tmp.resolve("a"), 1f);
    Path b = model(tmp.resolve("b"), 10f);
    Path cfg =
        config(
            tmp,
            "linear.yml",
            "merge_method: linear\nmodels:\n  - model: "
                + a
                + "\n    parameters: {weight: 1}\n  - model: "
                + b
                + "\n    parameters: {weight: 2}\n"
                + "parameters:\n  normalize: false\n");
    Path out = tmp.resolve("out");
    run("merge", cfg.toString(), out.toString(), "--no-progress", "--no-fsync").assertOk();
    try (SafetensorsModel m = SafetensorsModel.open(out)) {
      TensorData d = m.data("big.weight");
      for (long i : PROBES) {
        float want = 21f * (i % 1000 + 1);
        assertEquals(
            want, d.slice(i, 1).order(ByteOrder.LITTLE_ENDIAN).getFloat(0), "element " + i);
        if (i + 1 < N && !contains(i + 1))
          assertEquals(0f, d.slice(i + 1, 1).getFloat(0), "element " + (i + 1));
      }
    }
  }

  private static boolean contains(long i) {
    for (long p : PROBES) if (p == i) return true;
    return false;
  }
}
