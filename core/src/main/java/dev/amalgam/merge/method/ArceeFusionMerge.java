package dev.amalgam.merge.method;

import dev.amalgam.kernels.JavaKernels;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Arcee Fusion (mergekit {@code arcee_fusion}, docs/merge-semantics.md §2.11): takes the other
 * model's value where its change from the base is important. With {@code a} the base and {@code b}
 * the other model, per slice along the last dimension ("row") {@code p = softmax(b) + 1e-8}, {@code
 * q = softmax(a) + 1e-8} and {@code KL = sum p log(p / q)}; the importance of each element is
 * {@code I = |b - a| * KL(row)}; the threshold is {@code median + 1.5 (Q3 - Q1)} of {@code I} with
 * quantile {@code q} the element of rank {@code floor(q (n - 1))}; the output is {@code a + (b - a)
 * * [I >= threshold]}.
 *
 * <p>Streaming with O(rows) state, in three passes over the inputs when a row fits in a chunk
 * (always, in practice): (1) per row, the softmax maxima and sums (online rescaling, in element
 * order), then the KL divergence, then a histogram of the top 16 bits of the sortable keys of
 * {@code I}; (2) histograms of the low 16 bits inside the buckets that hold the three quantiles,
 * which makes the selection exact; (3) the output. A row longer than a chunk takes three passes for
 * the first one instead, its sums carried from chunk to chunk in order. {@code I} is recomputed
 * from the inputs in each pass, never stored. KL sums are double, {@code I} is f32.
 *
 * <p>Each pass reads a chunk on the calling thread and splits it into tasks of whole rows on the
 * kernels' threads, so every row is accumulated by one task in element order and the bits do not
 * depend on the thread count or the chunk size; the histograms are integer counts per worker, added
 * afterwards. The softmax and KL steps stay in Java, as they call Math.exp and Math.log, whose
 * HotSpot intrinsics no native code reproduces bit for bit; they walk rows (no division per
 * element), and the KL step reuses the exp(x - max) that the softmax step computed after a row's
 * maximum last grew (the same operation on the same operands). The importance histograms and the
 * output are native kernels ({@link Kernels#fusionHistogramHigh}, {@link
 * Kernels#fusionHistogramLow}, {@link Kernels#fusionSelect}; amalgam.h contract point 9) reading
 * the stored inputs and writing the output type directly.
 *
 * <p>Against mergekit, two deliberate fixes: (1) quantiles are exact over all elements, where
 * mergekit sorts a random sample of 1,000,000 elements (with replacement) once a tensor has more,
 * so its threshold is random and unreproducible; (2) the output follows {@code out_dtype}, else
 * {@code dtype}, else the base model's type, where mergekit always writes f32 (mergekit issue
 * #604). mergekit also computes the softmax in the input dtype; here it is double.
 */
final class ArceeFusionMerge {
  /** The {@code arcee_fusion} method: one model fused into a required base; no parameters. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("arcee_fusion")
          .displayName("Arcee Fusion")
          .reference("https://arcee.ai")
          .inputs(InputRule.baseAndOneOther("fuses one model into base_model"))
          .outputFollowsBase()
          .plans(ArceeFusionMerge::plan);

  /** mergekit's guard added to both softmax distributions. */
  static final double SOFTMAX_EPS = 1e-8;

  private ArceeFusionMerge() {}

  /** The fusion of the other input into the base, rows along the last dimension. */
  static TensorOperation plan(TensorContext context) {
    List<InputTensor> inputs = context.inputs();
    int base = inputs.get(0).isBase() ? 0 : 1;
    long[] shape = inputs.get(0).info().shape();
    long rowLength = shape.length == 0 ? 1 : shape[shape.length - 1];
    return new Operation(base, 1 - base, rowLength);
  }

  /**
   * Maps a float to an int whose signed order is the float's order (NaNs with the sign bit clear
   * last).
   */
  static int sortableKey(float f) {
    return JavaKernels.sortableKey(f);
  }

  /** The float a {@link #sortableKey} came from. */
  static float fromSortableKey(int key) {
    return Float.intBitsToFloat(key ^ ((key >> 31) & 0x7fffffff));
  }

  /** The passes described in the class comment. */
  static final class Operation implements TensorOperation {
    /** Elements per task (rounded to whole rows): small enough to balance the threads. */
    static final int TASK_ELEMENTS = 1 << 18;

    /** Elements a worker widens to f32 at a time: two blocks of floats stay in the L2 cache. */
    static final int BLOCK_ELEMENTS = 1 << 16;

    private final int base;
    private final int other;
    private final long rowLength;

    Operation(int base, int other, long rowLength) {
      this.base = base;
      this.other = other;
      this.rowLength = rowLength;
    }

    @Override
    public String describe() {
      return "arcee_fusion (threshold median + 1.5 IQR of |b - a| x KL per row, exact quantiles)";
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      if (io.elementCount() == 0) return;
      new Run(io).execute();
    }

    /**
     * The work of one task: elements {@code [from, to)} of the span that starts at {@code first}.
     */
    @FunctionalInterface
    private interface TaskBody {
      void run(Worker w, long first, int from, int to) throws IOException;
    }

    /** A task body that may fail with an I/O error. */
    @FunctionalInterface
    private interface Body {
      void run(int worker, int task) throws IOException;
    }

    /** One worker's scratch, reused for every task it runs. */
    private static final class Worker {
      final FloatChunks chunks;
      final float[] a;
      final float[] b;
      final long[] high = new long[Kernels.MAGNITUDE_BUCKETS];
      long[] low;
      // pass 1's exp values of a block of whole rows, and per row where its maximum last grew
      final double[] expA;
      final double[] expB;
      final int[] lastA;
      final int[] lastB;

      Worker(TensorStreams io, int block, int blockRows) {
        chunks = new FloatChunks(io);
        a = new float[block];
        b = new float[block];
        expA = new double[blockRows > 0 ? block : 0];
        expB = new double[expA.length];
        lastA = new int[blockRows];
        lastB = new int[blockRows];
      }
    }

    /**
     * One run over one tensor: the passes walk it in spans of at most one chunk, fetched on this
     * thread, and split each span into tasks on the kernels' threads. When a row fits in a span,
     * spans and tasks hold whole rows, so a row is accumulated by one task, in element order, and
     * the statistics pass computes its softmax sums, then its KL divergence, then counts its keys
     * (the old passes 1 to 3, fused). A row longer than a span (not seen in practice) is walked one
     * task per span, in three passes; its sums then carry across spans, still in order.
     */
    private final class Run {
      final TensorStreams io;
      final Kernels kernels;
      final long total;
      final boolean wholeRows;
      final long span;
      final int taskElements;
      final int block;
      final DType aType;
      final DType bType;
      final double[] maxA;
      final double[] sumA;
      final double[] maxB;
      final double[] sumB;
      final double[] klSum;
      final float[] kl;
      final Worker[] workers;
      ByteBuffer fetchedA;
      ByteBuffer fetchedB;
      ByteBuffer out;

      Run(TensorStreams io) {
        this.io = io;
        this.kernels = io.kernels();
        this.total = io.elementCount();
        long chunk = io.chunkElements();
        long rowCount = total / rowLength;
        if (rowCount > Integer.MAX_VALUE - 8) {
          throw new ArithmeticException(
              "arcee_fusion: "
                  + rowCount
                  + " rows in one tensor is more than this"
                  + " method keeps per-row sums for");
        }
        this.wholeRows = rowLength <= chunk;
        this.span = wholeRows ? chunk / rowLength * rowLength : chunk;
        long task = wholeRows ? rowLength * Math.max(1, TASK_ELEMENTS / rowLength) : span;
        this.taskElements = (int) Math.min(task, span);
        this.block = (int) Math.min(BLOCK_ELEMENTS, Math.min(span, total));
        this.aType = io.inputType(base);
        this.bType = io.inputType(other);
        int rows = (int) rowCount;
        maxA = new double[rows];
        sumA = new double[rows];
        maxB = new double[rows];
        sumB = new double[rows];
        klSum = new double[rows];
        kl = new float[rows];
        Arrays.fill(maxA, Double.NEGATIVE_INFINITY);
        Arrays.fill(maxB, Double.NEGATIVE_INFINITY);
        long tasks = (Math.min(span, total) + taskElements - 1) / taskElements;
        workers = new Worker[(int) Math.max(1, Math.min(kernels.threads(), tasks))];
        int blockRows = wholeRows && rowLength <= block ? (int) (block / rowLength) : 0;
        for (int w = 0; w < workers.length; w++) workers[w] = new Worker(io, block, blockRows);
      }

      void execute() throws IOException, InterruptedException {
        if (wholeRows) {
          walk(this::statistics, false);
        } else {
          walk((w, first, from, to) -> sweep(w, first, from, to, this::softmax), false);
          walk((w, first, from, to) -> sweep(w, first, from, to, this::divergence), false);
          for (int r = 0; r < kl.length; r++) kl[r] = (float) klSum[r];
          walk(
              (w, first, from, to) ->
                  kernels.fusionHistogramHigh(
                      slice(fetchedA, aType, from),
                      aType,
                      slice(fetchedB, bType, from),
                      bType,
                      to - from,
                      first + from,
                      rowLength,
                      kl,
                      w.high),
              false);
        }
        long last = total - 1;
        float[] q =
            select(
                new long[] {
                  (long) Math.floor(0.25 * last),
                  (long) Math.floor(0.5 * last),
                  (long) Math.floor(0.75 * last)
                });
        float threshold = q[1] + 1.5f * (q[2] - q[0]);
        walk(
            (w, first, from, to) ->
                kernels.fusionSelect(
                    slice(fetchedA, aType, from),
                    aType,
                    slice(fetchedB, bType, from),
                    bType,
                    to - from,
                    first + from,
                    rowLength,
                    kl,
                    threshold,
                    slice(out, io.outputType(), from),
                    io.outputType()),
            true);
      }

      /**
       * Runs {@code body} on every task of every span, in span order; with {@code emit}, the tasks
       * fill one output chunk per span, emitted after them.
       */
      void walk(TaskBody body, boolean emit) throws IOException, InterruptedException {
        for (long first = 0; first < total; first += span) {
          int count = (int) Math.min(span, total - first);
          fetchedA = io.inputChunk(base, first, count);
          fetchedB = io.inputChunk(other, first, count);
          if (emit) out = io.outputChunk();
          long spanFirst = first;
          int tasks = (count + taskElements - 1) / taskElements;
          runTasks(
              tasks,
              (wi, t) -> {
                int from = t * taskElements;
                body.run(workers[wi], spanFirst, from, Math.min(count, from + taskElements));
              });
          if (emit) {
            out.position(0).limit(Math.toIntExact(io.outputType().byteCount(count)));
            io.emit(out);
          }
        }
      }

      /** Runs {@code tasks} on the kernels' threads, rethrowing an I/O failure as itself. */
      void runTasks(int tasks, Body body) throws IOException {
        try {
          kernels.forEachTask(
              tasks,
              (worker, task) -> {
                try {
                  body.run(worker, task);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
        } catch (UncheckedIOException e) {
          throw e.getCause();
        }
      }

      /**
       * Elements from {@code offset} of a fetched span or of the output chunk, as a view positioned
       * there.
       */
      ByteBuffer slice(ByteBuffer buffer, DType type, int offset) {
        ByteBuffer view = buffer == out ? buffer.duplicate().clear() : buffer.duplicate();
        return view.position(Math.multiplyExact(offset, type.byteSize()));
      }

      /**
       * The fused statistics of a task of whole rows: each row's softmax sums, then its KL
       * divergence (with the row's elements widened once when a block holds whole rows), then the
       * top-16 key histogram of the task.
       */
      void statistics(Worker w, long first, int from, int to) throws IOException {
        int row = (int) rowLength;
        if (row <= block) {
          int step = block / row * row;
          for (int o = from; o < to; o += step) {
            int c = Math.min(step, to - o);
            w.chunks.read(fetchedA, aType, o, c, w.a);
            w.chunks.read(fetchedB, bType, o, c, w.b);
            softmax(w.a, w.b, c, first + o, w);
            divergence(w.a, w.b, c, first + o, w);
          }
        } else {
          for (int o = from; o < to; o += row) {
            sweep(w, first, o, o + row, this::softmax);
            sweep(w, first, o, o + row, this::divergence);
          }
        }
        int firstRow = (int) ((first + from) / rowLength);
        int endRow = (int) ((first + to) / rowLength);
        for (int r = firstRow; r < endRow; r++) kl[r] = (float) klSum[r];
        // The task's own rows only: other workers write other parts of kl meanwhile.
        kernels.fusionHistogramHigh(
            slice(fetchedA, aType, from),
            aType,
            slice(fetchedB, bType, from),
            bType,
            to - from,
            0,
            rowLength,
            Arrays.copyOfRange(kl, firstRow, endRow),
            w.high);
      }

      /** Widens elements {@code [from, to)} of the span block by block, in order, into a step. */
      void sweep(Worker w, long first, int from, int to, RowStep step) throws IOException {
        for (int o = from; o < to; o += block) {
          int c = Math.min(block, to - o);
          w.chunks.read(fetchedA, aType, o, c, w.a);
          w.chunks.read(fetchedB, bType, o, c, w.b);
          step.run(w.a, w.b, c, first + o, null);
        }
      }

      /**
       * Pass 1 on elements {@code first ..} of the tensor: per-row maxima and sums of exp(x - max),
       * rescaled whenever the maximum grows. Walks rows; each row's state is local while it runs.
       * With a cache (a block of whole rows), it keeps each exp(x - max) and where each row's
       * maximum last grew, for {@link #divergence}.
       */
      void softmax(float[] a, float[] b, int count, long first, Worker cache) {
        int r = (int) (first / rowLength);
        long column = first % rowLength;
        for (int e = 0, rr = 0; e < count; r++, rr++, column = 0) {
          int end = (int) Math.min(count, e + (rowLength - column));
          double mA = maxA[r];
          double sA = sumA[r];
          double mB = maxB[r];
          double sB = sumB[r];
          int lastA = -1;
          int lastB = -1;
          for (; e < end; e++) {
            double xa = a[e];
            if (xa > mA) {
              sA = sA * Math.exp(mA - xa) + 1.0;
              mA = xa;
              lastA = e;
            } else {
              double ea = Math.exp(xa - mA);
              sA += ea;
              if (cache != null) cache.expA[e] = ea;
            }
            double xb = b[e];
            if (xb > mB) {
              sB = sB * Math.exp(mB - xb) + 1.0;
              mB = xb;
              lastB = e;
            } else {
              double eb = Math.exp(xb - mB);
              sB += eb;
              if (cache != null) cache.expB[e] = eb;
            }
          }
          maxA[r] = mA;
          sumA[r] = sA;
          maxB[r] = mB;
          sumB[r] = sB;
          if (cache != null) {
            cache.lastA[rr] = lastA;
            cache.lastB[rr] = lastB;
          }
        }
      }

      /**
       * Pass 2 on elements {@code first ..}: KL(p || q) per row, p from the other model. After the
       * last growth of a row's maximum, pass 1 already computed exp(x - max) with the final
       * maximum: with a cache those values are reused (the same operation on the same operands),
       * which saves about half of this pass's exp calls.
       */
      void divergence(float[] a, float[] b, int count, long first, Worker cache) {
        int r = (int) (first / rowLength);
        long column = first % rowLength;
        for (int e = 0, rr = 0; e < count; r++, rr++, column = 0) {
          int end = (int) Math.min(count, e + (rowLength - column));
          double mA = maxA[r];
          double sA = sumA[r];
          double mB = maxB[r];
          double sB = sumB[r];
          double acc = klSum[r];
          int lastA = cache == null ? Integer.MAX_VALUE : cache.lastA[rr];
          int lastB = cache == null ? Integer.MAX_VALUE : cache.lastB[rr];
          for (; e < end; e++) {
            double eb = e > lastB ? cache.expB[e] : Math.exp(b[e] - mB);
            double ea = e > lastA ? cache.expA[e] : Math.exp(a[e] - mA);
            double p = eb / sB + SOFTMAX_EPS;
            double q = ea / sA + SOFTMAX_EPS;
            acc += p * Math.log(p / q);
          }
          klSum[r] = acc;
        }
      }

      /**
       * Passes 3 and 4: the importances of the given ranks (0-based, ascending order), exactly,
       * from the top-16 histograms the workers counted, then the low-16 histograms of the chosen
       * buckets.
       */
      float[] select(long[] ranks) throws IOException, InterruptedException {
        long[] high = new long[Kernels.MAGNITUDE_BUCKETS];
        for (Worker w : workers) {
          for (int i = 0; i < high.length; i++) high[i] += w.high[i];
        }
        // buckets are in unsigned order of the top bits: negative keys (0x8000..) come first
        int[] bucket = new int[ranks.length];
        long[] within = new long[ranks.length];
        for (int k = 0; k < ranks.length; k++) {
          long seen = 0;
          for (int i = 0; i < 1 << 16; i++) {
            int h = i ^ 0x8000; // signed order of the top 16 bits
            if (ranks[k] < seen + high[h]) {
              bucket[k] = h;
              within[k] = ranks[k] - seen;
              break;
            }
            seen += high[h];
          }
        }
        for (Worker w : workers) w.low = new long[ranks.length * Kernels.MAGNITUDE_BUCKETS];
        walk(
            (w, first, from, to) ->
                kernels.fusionHistogramLow(
                    slice(fetchedA, aType, from),
                    aType,
                    slice(fetchedB, bType, from),
                    bType,
                    to - from,
                    first + from,
                    rowLength,
                    kl,
                    bucket,
                    w.low),
            false);
        float[] values = new float[ranks.length];
        for (int k = 0; k < ranks.length; k++) {
          long seen = 0;
          for (int i = 0; i < 1 << 16; i++) {
            long low = 0;
            for (Worker w : workers) low += w.low[k * Kernels.MAGNITUDE_BUCKETS + i];
            if (within[k] < seen + low) {
              values[k] = fromSortableKey((bucket[k] << 16) | i);
              break;
            }
            seen += low;
          }
        }
        return values;
      }
    }

    /**
     * A per-row pass over a block of widened elements, the first at tensor element {@code first}.
     */
    @FunctionalInterface
    private interface RowStep {
      void run(float[] a, float[] b, int count, long first, Worker cache);
    }
  }
}
