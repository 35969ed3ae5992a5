package dev.amalgam.merge.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.safetensors.SafetensorsFile;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.io.safetensors.TensorData;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NaN and infinite values in an input: counted per tensor and input, listed under warn, refused
 * under error before anything is committed, not counted under ignore; SLERP says when it takes the
 * linear path because of them.
 */
class NonFiniteMergeTest {
  @TempDir Path tmp;

  private static final String TENSOR = "model.layers.0.mlp.up_proj.weight";

  private Path model(String name, long seed, double noise) throws IOException {
    Path dir = tmp.resolve(name);
    SyntheticLlama.write(
        dir, SyntheticLlama.Shape.tiny(), DType.BF16, seed, noise, 5, 5_000_000_000L);
    return dir;
  }

  /**
   * Overwrites elements of a bf16 tensor in place: {@code nans} NaNs, then {@code infs} infinities.
   */
  private static void poison(Path dir, String tensor, int nans, int infs) throws IOException {
    Path file = dir.resolve("model.safetensors");
    long offset;
    try (SafetensorsFile st = SafetensorsFile.open(file)) {
      offset = st.dataOffset(tensor);
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      for (int i = 0; i < nans + infs; i++) {
        raf.seek(offset + 2L * (37 * i + 5));
        short bits = i < nans ? (short) 0x7fc1 : (short) (i % 2 == 0 ? 0x7f80 : 0xff80);
        raf.write(new byte[] {(byte) bits, (byte) (bits >> 8)});
      }
    }
  }

  private MergePlan plan(String method, Path a, Path b) throws IOException {
    String yaml =
        method.equals("slerp")
            ? "merge_method: slerp\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + b
                + "\nparameters:\n  t: 0.3\n"
            : "merge_method: linear\nmodels:\n  - model: "
                + a
                + "\n    parameters:\n      weight: 0.5\n  - model: "
                + b
                + "\n    parameters:\n      weight: 0.5\n";
    return MergePlanner.plan(ConfigReader.parse(yaml, "test.yml", tmp));
  }

  @Test
  void warnListsEachAffectedTensorWithItsInputAndCounts() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    poison(b, TENSOR, 10, 20);
    List<String> warnings = new ArrayList<>();
    MergeResult r;
    try (MergePlan p = plan("linear", a, b)) {
      r =
          MergeExecutor.execute(
              p,
              tmp.resolve("out"),
              MergeOptions.builder().warnings(WarningListener.collectingInto(warnings)).build());
    }
    assertEquals(2, r.nonFinite().size(), r.nonFinite().toString());
    NonFiniteCount in = r.nonFinite().get(0);
    assertEquals(TENSOR, in.tensor());
    assertEquals(b.toString(), in.source());
    assertEquals(10, in.nans());
    assertEquals(20, in.infinities());
    NonFiniteCount out = r.nonFinite().get(1);
    assertEquals(NonFiniteCount.OUTPUT, out.source());
    assertEquals(30, out.total(), "each poisoned element stays non-finite in a linear merge");
    assertTrue(in.describe().contains("10 NaN and 20 infinite"), in.describe());
    // the merged tensor really holds them
    try (SafetensorsModel m = SafetensorsModel.open(tmp.resolve("out"))) {
      TensorData d = m.data(TENSOR);
      ByteBuffer all = d.slice(0, d.info().elementCount());
      int bad = 0;
      for (int i = 0; i < d.info().elementCount(); i++) {
        if (!Float.isFinite(Bf16.toFloat(all.getShort(2 * i)))) bad++;
      }
      assertEquals(30, bad);
    }
  }

  @Test
  void errorRefusesBeforeAnythingIsCommitted() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    poison(a, TENSOR, 1, 0);
    Path out = tmp.resolve("out");
    try (MergePlan p = plan("linear", a, b)) {
      NonFiniteException e =
          assertThrows(
              NonFiniteException.class,
              () ->
                  MergeExecutor.execute(
                      p, out, MergeOptions.builder().onNonFinite(NonFinitePolicy.ERROR).build()));
      assertTrue(e.getMessage().contains(TENSOR), e.getMessage());
      assertTrue(e.getMessage().contains(a.toString()), e.getMessage());
      assertTrue(e.isBadInput());
    }
    assertFalse(Files.exists(out));
  }

  @Test
  void ignoreDoesNotCount() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    poison(b, TENSOR, 3, 3);
    try (MergePlan p = plan("linear", a, b)) {
      MergeResult r =
          MergeExecutor.execute(
              p,
              tmp.resolve("out"),
              MergeOptions.builder().onNonFinite(NonFinitePolicy.IGNORE).build());
      assertTrue(r.nonFinite().isEmpty());
    }
  }

  @Test
  void slerpSaysWhenNonFiniteValuesSendItDownTheLinearPath() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    poison(b, TENSOR, 1, 0);
    List<String> warnings = new ArrayList<>();
    try (MergePlan p = plan("slerp", a, b)) {
      MergeResult r =
          MergeExecutor.execute(
              p,
              tmp.resolve("out"),
              MergeOptions.builder().warnings(WarningListener.collectingInto(warnings)).build());
      assertEquals(1, r.nonFinite().get(0).nans());
    }
    List<String> slerp = warnings.stream().filter(w -> w.contains("SLERP")).toList();
    assertEquals(1, slerp.size(), warnings.toString());
    assertTrue(slerp.get(0).startsWith("tensor '" + TENSOR + "': SLERP took the linear path"));
  }

  @Test
  void aFiniteParameterThatOverflowsF32IsRefusedAtItsYamlPath() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    String yaml =
        "merge_method: slerp\nbase_model: "
            + a
            + "\nmodels:\n  - model: "
            + b
            + "\nparameters:\n  t: -1e308\n";
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> MergePlanner.plan(ConfigReader.parse(yaml, "test.yml", tmp)).close());
    assertTrue(e.getMessage().contains("parameters.t"), e.getMessage());
    assertTrue(e.getMessage().contains("within"), e.getMessage());
  }
}
