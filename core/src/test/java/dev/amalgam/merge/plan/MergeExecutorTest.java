package dev.amalgam.merge.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.InputChangedException;
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
    assertNoOutputAndNoPartial(out);
  }

  /** A listener that runs {@code change} once, when the first output bytes are reported. */
  private static ProgressListener onFirstAdvance(IoAction change) {
    return new ProgressListener() {
      private boolean done;

      @Override
      public void start(long totalBytes) {}

      @Override
      public void advance(long bytes) {
        if (done) return;
        done = true;
        try {
          change.run();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
  }

  @FunctionalInterface
  private interface IoAction {
    void run() throws IOException;
  }

  private void assertNoOutputAndNoPartial(Path out) throws IOException {
    assertFalse(Files.exists(out));
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(
          s.noneMatch(q -> q.getFileName().toString().startsWith(".out.")),
          "temporary directory removed");
    }
  }

  @Test
  void anInputTruncatedDuringTheMergeFailsNamingItAndLeavesNothing() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    Path shard = b.resolve("model.safetensors");
    Path out = tmp.resolve("out");
    try (MergePlan p = plan(a, b)) {
      MergeOptions options =
          MergeOptions.builder()
              .progress(
                  onFirstAdvance(
                      () -> {
                        try (java.io.RandomAccessFile raf =
                            new java.io.RandomAccessFile(shard.toFile(), "rw")) {
                          raf.setLength(raf.length() / 3);
                        }
                      }))
              .build();
      InputChangedException e =
          assertThrows(InputChangedException.class, () -> MergeExecutor.execute(p, out, options));
      assertEquals(shard, e.file());
      assertTrue(e.getMessage().contains("ended at byte"), e.getMessage());
    }
    assertNoOutputAndNoPartial(out);
  }

  @Test
  void anInputRewrittenInPlaceDuringTheMergeIsCaughtBeforeTheCommit() throws Exception {
    Path a = model("a", 1, 0);
    Path b = model("b", 1, 0.3);
    Path shard = a.resolve("model.safetensors");
    Path out = tmp.resolve("out");
    try (MergePlan p = plan(a, b)) {
      // same size, new bytes at the end, as a second copy over the first would leave them
      MergeOptions options =
          MergeOptions.builder()
              .progress(
                  onFirstAdvance(
                      () -> {
                        try (java.io.RandomAccessFile raf =
                            new java.io.RandomAccessFile(shard.toFile(), "rw")) {
                          raf.seek(raf.length() - 4);
                          raf.write(new byte[] {1, 2, 3, 4});
                        }
                        Files.setLastModifiedTime(
                            shard,
                            java.nio.file.attribute.FileTime.fromMillis(
                                System.currentTimeMillis() + 2000));
                      }))
              .build();
      InputChangedException e =
          assertThrows(InputChangedException.class, () -> MergeExecutor.execute(p, out, options));
      assertEquals(shard, e.file());
      assertTrue(e.getMessage().contains("modification time"), e.getMessage());
    }
    assertNoOutputAndNoPartial(out);
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
    // 1 GiB budget, bf16 output, two bf16 inputs, no casts: the preferred 4 segments
    assertEquals(
        4 * segment,
        MergeExecutor.chunkElements(1L << 30, 2, 4, List.of(Optional.empty(), Optional.empty())));
    // 64 MiB budget with f32 output, two f32 inputs read and two f16 casts: 4*4 + 2*4 + 2*2 = 28
    // bytes per element -> 1 segment
    long chunk =
        MergeExecutor.chunkElements(
            64L << 20, 4, 8, List.of(Optional.of(DType.F16), Optional.of(DType.F16)));
    assertEquals(segment, chunk);
    assertTrue(chunk * 28 <= 64L << 20);
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
