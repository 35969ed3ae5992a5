package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufTensorData;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.io.safetensors.SafetensorsFile;
import dev.amalgam.io.safetensors.TensorData;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threads sharing one opened file: each slices the same tensor views at random ranges and must see
 * the file's bytes there, while another thread keeps releasing those views (which must drop, never
 * reuse, the buffers other threads still read). Each reader checks its buffer after yielding, so a
 * buffer handed to someone else in between would show.
 */
class ConcurrentReadTest {
  private static final int READERS = 6;
  private static final int READS_PER_THREAD = 400;

  @TempDir Path tmp;

  /** One range read through a shared view, returned for checking. */
  private interface RangeReader {
    /** The stored bytes of {@code count} elements from {@code first} of tensor {@code index}. */
    ByteBuffer read(int index, long first, long count) throws IOException;

    /** Elements of tensor {@code index}. */
    long elements(int index);

    /** Elements per indivisible unit (a quantization block) of tensor {@code index}. */
    long unitElements(int index);

    /** Absolute file offset of the bytes of element {@code first} of tensor {@code index}. */
    long offsetOf(int index, long first);

    /** Lets go of tensor {@code index}'s read buffers. */
    void release(int index);

    int tensors();
  }

  @Test
  void threadsSlicingOneSafetensorsFileSeeTheirOwnBytes() throws Exception {
    Path dir = tmp.resolve("model");
    SyntheticLlama.write(
        dir,
        new SyntheticLlama.Shape(2, 256, 512, 1024, 4, 2, false),
        DType.BF16,
        3,
        0,
        0,
        5_000_000_000L);
    Path file = dir.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(file);
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      List<TensorData> views = new ArrayList<>();
      for (TensorInfo t : f.tensors()) views.add(f.data(t.name()));
      long checked =
          readConcurrently(
              bytes,
              new RangeReader() {
                @Override
                public ByteBuffer read(int index, long first, long count) throws IOException {
                  return views.get(index).slice(first, count);
                }

                @Override
                public long elements(int index) {
                  return views.get(index).info().elementCount();
                }

                @Override
                public long unitElements(int index) {
                  return 1;
                }

                @Override
                public long offsetOf(int index, long first) {
                  TensorData v = views.get(index);
                  return v.fileOffset() + v.info().dtype().byteCount(first);
                }

                @Override
                public void release(int index) {
                  views.get(index).release();
                }

                @Override
                public int tensors() {
                  return views.size();
                }
              });
      assertTrue(checked > 0);
    }
  }

  @Test
  void threadsSlicingOneGgufFileSeeTheirOwnBytes() throws Exception {
    Path file = TestAssets.stories260K();
    byte[] bytes = Files.readAllBytes(file);
    try (GgufFile f = GgufFile.open(file)) {
      List<GgufTensorData> views = new ArrayList<>();
      for (GgufTensorInfo t : f.tensors()) views.add(f.data(t.name()));
      long checked =
          readConcurrently(
              bytes,
              new RangeReader() {
                @Override
                public ByteBuffer read(int index, long first, long count) throws IOException {
                  return views.get(index).raw(first, count);
                }

                @Override
                public long elements(int index) {
                  return views.get(index).info().elementCount();
                }

                @Override
                public long unitElements(int index) {
                  return views.get(index).info().type().blockElements();
                }

                @Override
                public long offsetOf(int index, long first) {
                  GgufTensorData v = views.get(index);
                  return v.fileOffset() + v.info().type().byteCount(first);
                }

                @Override
                public void release(int index) {
                  views.get(index).release();
                }

                @Override
                public int tensors() {
                  return views.size();
                }
              });
      assertTrue(checked > 0);
    }
  }

  /**
   * Runs {@link #READERS} readers and one releaser over {@code reader}'s tensors; returns the bytes
   * checked.
   */
  private static long readConcurrently(byte[] file, RangeReader reader) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(READERS + 1);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean readersDone = new AtomicBoolean();
    AtomicLong checked = new AtomicLong();
    AtomicLong releases = new AtomicLong();
    try {
      List<Future<?>> readers = new ArrayList<>();
      for (int r = 0; r < READERS; r++) {
        long seed = 1000 + r;
        readers.add(
            pool.submit(
                (Callable<Void>)
                    () -> {
                      SplittableRandom random = new SplittableRandom(seed);
                      start.await();
                      for (int i = 0; i < READS_PER_THREAD; i++) {
                        int t = random.nextInt(reader.tensors());
                        long unit = reader.unitElements(t);
                        long units = reader.elements(t) / unit;
                        long firstUnit = random.nextLong(units);
                        // Mostly small ranges, now and then up to the rest of the tensor.
                        long maxUnits = units - firstUnit;
                        long countUnits =
                            1
                                + random.nextLong(
                                    random.nextInt(8) == 0 ? maxUnits : Math.min(maxUnits, 4096));
                        long first = firstUnit * unit;
                        long count = countUnits * unit;
                        ByteBuffer got = reader.read(t, first, count);
                        Thread.yield(); // let the releaser and other readers run
                        int offset = Math.toIntExact(reader.offsetOf(t, first));
                        int length = got.remaining();
                        assertEquals(
                            Math.toIntExact(reader.offsetOf(t, first + count)) - offset, length);
                        ByteBuffer want = ByteBuffer.wrap(file, offset, length);
                        if (!want.equals(got)) {
                          throw new AssertionError(
                              "tensor " + t + " elements [" + first + ", +" + count + ") differ");
                        }
                        checked.addAndGet(length);
                      }
                      return null;
                    }));
      }
      Future<?> releaser =
          pool.submit(
              (Callable<Void>)
                  () -> {
                    SplittableRandom random = new SplittableRandom(7);
                    start.await();
                    while (!readersDone.get()) {
                      int t = random.nextInt(reader.tensors());
                      // The releaser reads too, so its own buffer goes back to the pool and
                      // others may take it.
                      long unit = reader.unitElements(t);
                      reader.read(t, 0, Math.min(reader.elements(t), 64 * unit));
                      reader.release(t);
                      releases.incrementAndGet();
                    }
                    return null;
                  });
      start.countDown();
      try {
        for (Future<?> f : readers) f.get(60, TimeUnit.SECONDS);
      } finally {
        readersDone.set(true);
      }
      releaser.get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
    assertTrue(releases.get() > 0, "the releaser ran");
    for (int t = 0; t < reader.tensors(); t++) reader.release(t);
    return checked.get();
  }
}
