package dev.amalgam.merge.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.ProgressListener;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.merge.method.TensorOperation;
import dev.amalgam.merge.method.TensorStreams;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MergeExecutorTest {
  @TempDir Path tmp;

  private MergePlan plan(Path a, Path b) throws IOException {
    String yaml =
        "merge_method: slerp\nbase_model: "
            + a
            + "\nmodels:\n  - model: "
            + b
            + "\nparameters:\n  t: 0.5\n";
    return MergePlanner.plan(ConfigReader.parse(yaml, "test.yml", tmp));
  }

  private Path model(String name, long seed, double noise) throws IOException {
    Path dir = tmp.resolve(name);
    SyntheticLlama.write(
        dir, SyntheticLlama.Shape.tiny(), DType.BF16, seed, noise, 5, 5_000_000_000L);
    return dir;
  }

  /**
   * Replaces the operation of tensor {@code index} with one that fails after emitting half of its
   * chunks.
   */
  private static MergePlan failingAt(MergePlan p, int index) {
    List<TensorTask> tasks = new ArrayList<>(p.tasks());
    TensorTask t = tasks.get(index);
    TensorOperation failing =
        new TensorOperation() {
          @Override
          public String describe() {
            return "fails";
          }

          @Override
          public void run(TensorStreams io) throws IOException, InterruptedException {
            ByteBuffer out = io.outputChunk();
            out.limit(2);
            io.emit(out);
            throw new IOException("simulated failure in " + t.output().name());
          }
        };
    tasks.set(index, new TensorTask(t.output(), t.inputs(), t.castTo(), t.layerIndex(), failing));
    return new MergePlan(
        p.config(),
        p.method(),
        p.inputs(),
        p.donor(),
        p.layerCount(),
        tasks,
        p.outputConfig(),
        p.output(),
        p.gguf(),
        p.warnings());
  }

  @Test
  void aFailedMergeLeavesNothingThatLooksLikeAModel() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    Path out = tmp.resolve("out");
    try (MergePlan p = plan(a, b)) {
      MergePlan broken = failingAt(p, p.tasks().size() / 2);
      IOException e =
          assertThrows(
              IOException.class, () -> MergeExecutor.execute(broken, out, MergeOptions.defaults()));
      assertTrue(e.getMessage().contains("simulated failure"), e.getMessage());
    }
    assertFalse(Files.exists(out));
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(
          s.noneMatch(q -> q.getFileName().toString().startsWith(".out.")),
          "temporary directory removed");
    }
  }

  @Test
  void progressCountsEveryOutputByteAndSummaryAddsUp() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    AtomicLong total = new AtomicLong();
    AtomicLong advanced = new AtomicLong();
    ProgressListener listener =
        new ProgressListener() {
          @Override
          public void start(long totalBytes) {
            total.set(totalBytes);
          }

          @Override
          public void advance(long bytes) {
            advanced.addAndGet(bytes);
          }
        };
    try (MergePlan p = plan(a, b)) {
      MergeResult r =
          MergeExecutor.execute(
              p, tmp.resolve("out"), MergeOptions.builder().progress(listener).build());
      assertEquals(p.outputBytes(), total.get());
      assertEquals(p.outputBytes(), advanced.get());
      assertEquals(p.outputBytes(), r.bytesWritten());
      assertEquals(2 * p.outputBytes(), r.bytesRead());
      assertEquals(List.of("model.safetensors"), r.shardFiles());
    }
  }

  @Test
  void chunksStayWithinTheBudgetAndOnSegmentBoundaries() {
    long segment = Kernels.DOT_SEGMENT;
    // 1 GiB budget, bf16 output, no casts: the preferred 4 segments
    assertEquals(
        4 * segment,
        MergeExecutor.chunkElements(1L << 30, 2, List.of(Optional.empty(), Optional.empty())));
    // 64 MiB budget with f32 output and two f16 casts: 4*4 + 2*2 = 20 bytes per element -> 1
    // segment
    long chunk =
        MergeExecutor.chunkElements(
            64L << 20, 4, List.of(Optional.of(DType.F16), Optional.of(DType.F16)));
    assertEquals(segment, chunk);
    assertTrue(chunk * 20 <= 64L << 20);
  }

  @Test
  void optionsRejectNonsense() {
    assertThrows(IllegalArgumentException.class, () -> MergeOptions.builder().threads(-1).build());
    assertThrows(
        IllegalArgumentException.class, () -> MergeOptions.builder().maxShardBytes(0).build());
    assertThrows(
        IllegalArgumentException.class, () -> MergeOptions.builder().memoryBudget(1 << 20).build());
  }
}
