package dev.amalgam.merge.plan;

import dev.amalgam.io.ProgressListener;
import dev.amalgam.io.TensorSink;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Overlaps computing with writing: the merge fills reused, page-aligned staging buffers while one
 * writer thread streams the filled ones to the shards in order. The buffers are allocated once
 * (memory stays bounded and no fresh memory is touched per tensor, which is slow on VMs) and handed
 * back to the producer after each write.
 */
final class OutputPipeline implements AutoCloseable {
  private static final int PAGE = 4096;

  /** A queued instruction for the writer thread. */
  private sealed interface Item permits Begin, Data, End {}

  private record Begin(String tensor) implements Item {}

  private record Data(ByteBuffer buffer) implements Item {}

  private record End() implements Item {}

  private final TensorSink writer;
  private final ProgressListener progress;
  private final BlockingQueue<ByteBuffer> free;
  private final BlockingQueue<Item> queue;
  private final Thread thread;
  private volatile Throwable failure;
  private volatile long writeNanos;
  private long waitNanos;

  OutputPipeline(TensorSink writer, int bufferCount, int bufferBytes, ProgressListener progress) {
    this.writer = writer;
    this.progress = progress;
    this.free = new ArrayBlockingQueue<>(bufferCount);
    this.queue = new ArrayBlockingQueue<>(bufferCount * 2 + 4);
    List<ByteBuffer> buffers = new ArrayList<>();
    for (int i = 0; i < bufferCount; i++) {
      // Page-aligned: the kernel copies from a misaligned buffer 2-6x slower (docs/performance.md
      // §7).
      buffers.add(
          ByteBuffer.allocateDirect(bufferBytes + PAGE)
              .alignedSlice(PAGE)
              .limit(bufferBytes)
              .slice());
    }
    free.addAll(buffers);
    this.thread = new Thread(this::drain, "amalgam-writer");
    thread.setDaemon(true);
    thread.start();
  }

  /** Announces the next tensor; its bytes follow through {@link #emit}. */
  void beginTensor(String name) throws IOException, InterruptedException {
    put(new Begin(name));
  }

  /** A free buffer, cleared; waits while the writer is behind. */
  ByteBuffer acquire() throws IOException, InterruptedException {
    ByteBuffer b = free.poll();
    if (b != null) return b.clear();
    long start = System.nanoTime();
    try {
      while (true) {
        checkFailure();
        b = free.poll(100, TimeUnit.MILLISECONDS);
        if (b != null) return b.clear();
      }
    } finally {
      waitNanos += System.nanoTime() - start;
    }
  }

  /** Seconds the writer thread spent in write calls so far. */
  double writeSeconds() {
    return writeNanos / 1e9;
  }

  /** Seconds the producer waited for a free buffer (the writer was the bottleneck). */
  double waitSeconds() {
    return waitNanos / 1e9;
  }

  /** Queues a filled buffer (position 0 to limit) for writing. */
  void emit(ByteBuffer filled) throws IOException, InterruptedException {
    put(new Data(filled));
  }

  /** Waits until everything queued is written; rethrows the writer's failure. */
  void finish() throws IOException, InterruptedException {
    put(new End());
    thread.join();
    checkFailure();
  }

  private void put(Item item) throws IOException, InterruptedException {
    while (true) {
      checkFailure();
      if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) return;
    }
  }

  private void checkFailure() throws IOException {
    Throwable f = failure;
    if (f == null) return;
    if (f instanceof IOException) throw new IOException(f.getMessage(), f);
    if (f instanceof RuntimeException) throw (RuntimeException) f;
    throw new IOException("writer failed: " + f, f);
  }

  private void drain() {
    try {
      while (true) {
        Item item = queue.take();
        if (item instanceof End) return;
        if (item instanceof Begin) {
          writer.beginTensor(((Begin) item).tensor());
        } else {
          ByteBuffer b = ((Data) item).buffer();
          int bytes = b.remaining();
          long start = System.nanoTime();
          writer.write(b);
          writeNanos += System.nanoTime() - start;
          progress.advance(bytes);
          free.put(b);
        }
      }
    } catch (InterruptedException e) {
      failure = new InterruptedIOException("writer interrupted");
    } catch (Throwable t) {
      failure = t;
    }
  }

  /** Stops the writer thread if it is still running (after a failure elsewhere). */
  @Override
  public void close() {
    if (thread.isAlive()) {
      thread.interrupt();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
