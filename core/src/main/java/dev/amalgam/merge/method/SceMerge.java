package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.io.IOException;
import java.lang.ref.SoftReference;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * SCE, Select-Calculate-Erase (docs/merge-semantics.md §2.8). With task vectors {@code tau_i = X_i
 * - B}:
 *
 * <ol>
 *   <li><b>Select</b> (only when {@code select_topk < 1}): the per-element population variance of
 *       the {@code tau_i} across models; the {@code k = floor(count_nonzero(var) * select_topk)}
 *       elements of largest variance are kept in every task vector, the others zeroed ({@code k =
 *       0}: all zeroed).
 *   <li><b>Calculate</b>: {@code s_i = mean(tau_i^2)} over the whole (selected) tensor, normalised
 *       to sum 1, or {@code 1/N} each when the raw sum is below 1e-6.
 *   <li><b>Erase</b>: TIES sign consensus ("sum") on the unweighted selected {@code tau}: {@code
 *       sigma = +1} where {@code sum_i tau_i >= 0}, else -1; {@code e_i = [sign(tau_i) == sigma]}
 *       (zeros never agree).
 * </ol>
 *
 * {@code out = B + sum_i s_i tau_i e_i / max(sum_i s_i e_i, 1e-6)}.
 *
 * <p>Streaming: the exact k-th largest variance is found without sorting by a two-level radix
 * selection over the variance's f32 bits (non-negative floats order like their bit patterns): one
 * pass builds a histogram of the upper 16 bits and counts the non-zero variances, a second a
 * histogram of the lower 16 bits within the bucket that holds the k-th largest. Then a pass sums
 * {@code tau_i^2} (in double, per fixed segment) and a last pass computes the output: four passes
 * with selection, two without; state is a 64K-entry histogram per thread (and the keys of a small
 * tensor, see below).
 *
 * <p>Every pass reads each input chunk once on the calling thread and cuts it into one task per
 * {@link Kernels#DOT_SEGMENT} segment, run in parallel on the kernels' threads; each task widens
 * its part of the inputs to f32 block by block and hands it to the SCE kernels ({@link
 * Kernels#sceHistogramHigh}, {@link Kernels#sceHistogramLow}, {@link Kernels#sceSquareSums}, {@link
 * Kernels#sceMerge}: native where the library is loaded, the Java reference otherwise, with the
 * same bits). A tensor of at most {@link #KEPT_KEYS_LIMIT} elements keeps its variance keys from
 * the first pass: the second pass then counts them without reading the inputs, and the last two
 * passes read them instead of computing them; a larger one computes the keys in every pass. The
 * output does not depend on the thread count, the chunk size or whether keys are kept: histograms
 * are integer counts, the squares are summed per segment in element order and the segments added in
 * order, and where the threshold keeps only some of its ties the weight pass counts, per segment,
 * the ties before it (from the kept keys, or with an extra key computation) and the compute pass
 * reuses those counts.
 *
 * <p>Differences from mergekit: variances are computed in double from the inputs widened to f32 and
 * rounded to f32 for the ranking; ties at the threshold variance are broken by element index (lower
 * indices kept first), where torch.topk's tie order is unspecified; a NaN variance ranks above
 * every number, as in torch.topk. The output is computed in double and rounded once (mergekit:
 * every step in the base dtype). {@code int8_mask} is accepted and has no effect (masks here are
 * booleans, never tensors). {@code select_topk} outside [0, 1] is a configuration error (mergekit
 * treats values above 1 as 1 and negative ones as 0). Kept as in mergekit: the 1e-6 threshold on
 * the raw sum of the {@code s_i}, which switches to uniform weights when all task vectors are small
 * (mean squares summing below 1e-6), and the 1e-6 floor of the divisor, which shrinks an element
 * whose only agreeing model has a normalised weight below 1e-6.
 */
final class SceMerge {
  /** The {@code sce} method: task vectors of one or more models from a required base. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("sce")
          .displayName("SCE")
          .reference("https://arxiv.org/abs/2408.07990")
          .parameters(
              ParameterSpec.optional(
                  "select_topk",
                  Scope.GLOBAL,
                  Type.NUMBER,
                  1.0,
                  "fraction of the elements with non-zero variance across models to keep (1 keeps all)"),
              ParameterSpec.optional(
                  "int8_mask",
                  Scope.GLOBAL,
                  Type.BOOLEAN,
                  false,
                  "accepted for mergekit compatibility; no effect"))
          .inputs(InputRule.baseAndAtLeast(1, "merges the other models' differences to base_model"))
          .plans(SceMerge::plan);

  /** mergekit's threshold on the raw sum of the weights and floor of the divisor. */
  static final double WEIGHT_FLOOR = 1e-6;

  private SceMerge() {}

  /** Select, calculate and erase at this tensor's {@code select_topk}, which must lie in [0, 1]. */
  static TensorOperation plan(TensorContext context) {
    double topk = context.number("select_topk");
    if (topk < 0 || topk > 1) {
      throw new ConfigException(
          "parameters.select_topk",
          "must be in [0, 1] for tensor '" + context.tensorName() + "', got " + topk);
    }
    context.bool("int8_mask"); // validated for its type; see the class comment
    List<InputTensor> inputs = context.inputs();
    return new SceOperation(MethodInputs.base(inputs), MethodInputs.others(inputs), topk);
  }

  /** The threshold of a selection that keeps every element (every key is at least 0). */
  static final int KEEP_ALL = -1;

  /** The threshold of a selection that keeps none (every key is at most 0x7FC00000). */
  static final int KEEP_NONE = Integer.MAX_VALUE;

  /**
   * Tensors of at most this many elements keep their variance keys from the first pass (4 bytes
   * each, 64 MiB at most): the second pass then reads no input, and the last two read the keys
   * instead of computing them.
   */
  static final long KEPT_KEYS_LIMIT = 16L << 20;

  /**
   * The key array of the last run, for the next: a tensor's keys are all written before they are
   * read, so it needs no clearing, and allocating (zeroing) up to 64 MiB per tensor showed in
   * profiles. Softly held: the collector may take it back.
   */
  private static final AtomicReference<SoftReference<int[]>> SPARE_KEYS = new AtomicReference<>();

  /** An array of at least {@code n} keys, the spare one where it is large enough. */
  private static int[] takeKeys(long n) {
    SoftReference<int[]> spare = SPARE_KEYS.getAndSet(null);
    int[] keys = spare == null ? null : spare.get();
    return keys != null && keys.length >= n ? keys : new int[(int) n];
  }

  /** Selection passes, the weight pass, then the compute pass. */
  static final class SceOperation implements TensorOperation {
    private final int base;
    private final int[] others;
    private final double topk;
    private final long keptKeysLimit;

    SceOperation(int base, int[] others, double topk) {
      this(base, others, topk, KEPT_KEYS_LIMIT);
    }

    /** With another limit on the tensors that keep their keys (tests take both paths). */
    SceOperation(int base, int[] others, double topk, long keptKeysLimit) {
      this.base = base;
      this.others = others;
      this.topk = topk;
      this.keptKeysLimit = keptKeysLimit;
    }

    @Override
    public String describe() {
      return String.format(Locale.ROOT, "sce select_topk=%.6g", topk);
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      new Run(io, base, others, topk, keptKeysLimit).execute();
    }
  }

  /** A task's work on one block of its piece: elements {@code [offset, offset + count)}. */
  @FunctionalInterface
  private interface BlockBody {
    void run(Worker w, int task, int offset, int count);
  }

  /**
   * One run over one tensor. Each pass walks the tensor one chunk (span) at a time: the main thread
   * fetches the span of every input, then the span is cut into pieces at the fixed {@link
   * Kernels#DOT_SEGMENT} boundaries, one task per piece on the kernels' threads, each in work
   * blocks that its worker widens to f32 and hands to the SCE kernels. Nothing depends on the
   * thread count or the chunk size: histograms are integer counts added up per worker; the sums of
   * squares run per segment in element order (a segment cut by a span boundary carries its partial
   * sums into the next span) and are added in segment order, as {@link SegmentedSums} does; and
   * where the threshold keeps only some of its equal keys, each piece starts from the count of
   * equal keys before it, counted once in the weight pass and kept for the compute pass. A small
   * tensor's keys, kept from the first pass, stand in for computed ones (the same values).
   */
  private static final class Run {
    private final TensorStreams io;
    private final Kernels kernels;
    private final int base;
    private final int[] others;
    private final double topk;
    private final int m;
    private final long n;
    private final long span;
    private final int block;
    private final ByteBuffer[] fetched;
    private final Worker[] workers;
    private final long keptKeysLimit;
    private int[] keys; // the tensor's variance keys when the selection needs them and they fit

    Run(TensorStreams io, int base, int[] others, double topk, long keptKeysLimit) {
      this.keptKeysLimit = keptKeysLimit;
      this.io = io;
      this.kernels = io.kernels();
      this.base = base;
      this.others = others;
      this.topk = topk;
      this.m = others.length;
      this.n = io.elementCount();
      this.span = io.chunkElements();
      long widest = Math.min(TaskArithmeticOperation.WORK_BLOCK, Integer.MAX_VALUE / m);
      this.block = (int) Math.max(1, Math.min(widest, Math.min(span, n)));
      this.fetched = new ByteBuffer[io.inputCount()];
      long maxPieces =
          (Math.min(span, Math.max(n, 1)) + Kernels.DOT_SEGMENT - 1) / Kernels.DOT_SEGMENT;
      int count = (int) Math.max(1, Math.min(kernels.threads(), maxPieces + 1));
      this.workers = new Worker[count];
      for (int w = 0; w < count; w++) workers[w] = new Worker(io, m, block);
    }

    void execute() throws IOException, InterruptedException {
      int threshold = topk >= 1 ? KEEP_ALL : KEEP_NONE;
      long equalKept = 0;
      boolean orderDependent = false;
      if (topk > 0 && topk < 1) {
        if (n <= keptKeysLimit) keys = takeKeys(n);
        // pass 1: histogram of the upper 16 bits, and the count of non-zero variances
        long[] upper = new long[Kernels.MAGNITUDE_BUCKETS];
        long nonzero = 0;
        forEachSpan(
            (first, count) ->
                forEachBlock(
                    first,
                    count,
                    (w, t, o, c) -> {
                      int[] out = keys == null ? null : w.keys;
                      kernels.sceHistogramHigh(w.x, block, m, w.b, c, w.histogram, w.nonzero, out);
                      if (out != null) System.arraycopy(out, 0, keys, (int) (first + o), c);
                    }));
        for (Worker w : workers) {
          add(upper, w.histogram);
          nonzero += w.nonzero[0];
        }
        long k = (long) (nonzero * topk);
        if (k > 0) {
          long larger = 0;
          int bucket = upper.length - 1;
          while (larger + upper[bucket] < k) larger += upper[bucket--];
          // pass 2: histogram of the lower 16 bits inside that bucket
          int high = bucket;
          if (keys != null) {
            lowerFromKeys(high);
          } else {
            forEachSpan(
                (first, count) ->
                    forEachBlock(
                        first,
                        count,
                        (w, t, o, c) ->
                            kernels.sceHistogramLow(w.x, block, m, w.b, c, high, w.histogram)));
          }
          long[] lower = new long[Kernels.MAGNITUDE_BUCKETS];
          for (Worker w : workers) add(lower, w.histogram);
          int low = lower.length - 1;
          while (larger + lower[low] < k) larger += lower[low--];
          threshold = (bucket << 16) | low;
          equalKept = k - larger;
          orderDependent = equalKept < lower[low];
        }
      }
      Selection selection = new Selection(threshold, equalKept, orderDependent);
      double[] weights = new double[m];
      if (n > 0 && threshold != KEEP_NONE) {
        double[] squares = squareSums(selection);
        for (int i = 0; i < m; i++) weights[i] = squares[i] / n;
      }
      normalise(weights);
      compute(selection, weights);
      if (keys != null) SPARE_KEYS.set(new SoftReference<>(keys));
    }

    /**
     * Pass 3: {@code sum(tau_i^2)} over the selected elements, per segment in element order, the
     * segments added in order.
     */
    private double[] squareSums(Selection selection) throws IOException, InterruptedException {
      double[] totals = new double[m];
      double[][] carry = {null}; // the partial sums of a segment that the last span cut
      forEachSpan(
          (first, count) -> {
            long[][] seen = selection.startPieces(this, first, count);
            int pieces = pieces(first, count);
            double[][] partial = new double[pieces][];
            for (int t = 0; t < pieces; t++) {
              partial[t] = t == 0 && carry[0] != null ? carry[0] : new double[m];
            }
            carry[0] = null;
            forEachBlock(
                first,
                count,
                (w, t, o, c) ->
                    kernels.sceSquareSums(
                        w.x,
                        block,
                        m,
                        w.b,
                        blockKeys(w, first + o, c),
                        c,
                        selection.threshold,
                        selection.equalKept,
                        seen[t],
                        partial[t]));
            for (int t = 0; t < pieces; t++) {
              long end = first + pieceEnd(first, count, t);
              if (end % Kernels.DOT_SEGMENT == 0 || end == n) {
                for (int i = 0; i < m; i++) totals[i] += partial[t][i];
              } else {
                carry[0] = partial[t];
              }
            }
          });
      return totals;
    }

    /** Pass 4: erase by sign consensus, weighted average of the agreeing deltas. */
    private void compute(Selection selection, double[] weights)
        throws IOException, InterruptedException {
      selection.replay();
      forEachSpan(
          (first, count) -> {
            long[][] seen = selection.startPieces(this, first, count);
            ByteBuffer out = io.outputChunk();
            forEachBlock(
                first,
                count,
                (w, t, o, c) -> {
                  kernels.sceMerge(
                      w.x,
                      block,
                      m,
                      w.b,
                      blockKeys(w, first + o, c),
                      c,
                      selection.threshold,
                      selection.equalKept,
                      seen[t],
                      weights,
                      w.out);
                  w.chunks.write(w.out, c, out, o);
                });
            out.position(0).limit(Math.toIntExact(io.outputType().byteCount(count)));
            io.emit(out);
          });
    }

    /** A pass's work on one span of the tensor. */
    @FunctionalInterface
    private interface SpanBody {
      void run(long first, int count) throws IOException, InterruptedException;
    }

    /** Fetches each span of every input in order (main thread) and runs {@code body} on it. */
    private void forEachSpan(SpanBody body) throws IOException, InterruptedException {
      for (long first = 0; first < n; first += span) {
        int count = (int) Math.min(span, n - first);
        fetched[base] = io.inputChunk(base, first, count);
        for (int other : others) fetched[other] = io.inputChunk(other, first, count);
        body.run(first, count);
      }
    }

    /** The pieces of a span: its parts in different {@link Kernels#DOT_SEGMENT} segments. */
    static int pieces(long first, int count) {
      return (int) ((first + count - 1) / Kernels.DOT_SEGMENT - first / Kernels.DOT_SEGMENT + 1);
    }

    /** Where piece {@code t} of the span starts, relative to the span. */
    static int pieceStart(long first, int t) {
      if (t == 0) return 0;
      return (int) ((first / Kernels.DOT_SEGMENT + t) * Kernels.DOT_SEGMENT - first);
    }

    static int pieceEnd(long first, int count, int t) {
      return (int)
          Math.min(count, (first / Kernels.DOT_SEGMENT + t + 1) * Kernels.DOT_SEGMENT - first);
    }

    /**
     * Runs {@code body} on every block of every piece of the fetched span, one task per piece on
     * the kernels' threads, with the block's base in the worker's {@code b} and the models' in its
     * {@code x} (model k at {@code k * block}).
     */
    void forEachBlock(long first, int count, BlockBody body) {
      kernels.forEachTask(
          pieces(first, count),
          (wi, t) -> {
            Worker w = workers[wi];
            int to = pieceEnd(first, count, t);
            for (int o = pieceStart(first, t); o < to; o += block) {
              int c = Math.min(block, to - o);
              w.chunks.read(fetched[base], io.inputType(base), o, c, w.b, 0);
              for (int k = 0; k < m; k++) {
                w.chunks.read(fetched[others[k]], io.inputType(others[k]), o, c, w.x, k * block);
              }
              body.run(w, t, o, c);
            }
          });
    }

    /**
     * The kept keys of elements {@code [first, first + count)} in the worker's scratch, or null.
     */
    private int[] blockKeys(Worker w, long first, int count) {
      if (keys == null) return null;
      System.arraycopy(keys, (int) first, w.keys, 0, count);
      return w.keys;
    }

    /**
     * Pass 2 from the kept keys, no input read: one task per worker, each counting every workers-th
     * segment into its own histogram.
     */
    private void lowerFromKeys(int high) {
      long segments = (n + Kernels.DOT_SEGMENT - 1) / Kernels.DOT_SEGMENT;
      int tasks = (int) Math.min(workers.length, segments);
      kernels.forEachTask(
          tasks,
          (wi, t) -> {
            long[] histogram = workers[wi].histogram;
            for (long segment = t; segment < segments; segment += tasks) {
              int to = (int) Math.min(n, (segment + 1) * Kernels.DOT_SEGMENT);
              for (int i = (int) (segment * Kernels.DOT_SEGMENT); i < to; i++) {
                int key = keys[i];
                if (key >>> 16 == high) histogram[key & 0xFFFF]++;
              }
            }
          });
    }

    private static void add(long[] into, long[] counts) {
      for (int i = 0; i < into.length; i++) into[i] += counts[i];
      Arrays.fill(counts, 0);
    }
  }

  /**
   * The Select step's outcome: the elements whose variance key is above {@code threshold}, plus the
   * first {@code equalKept} (in element order) that equal it; {@link #KEEP_ALL} and {@link
   * #KEEP_NONE} keep all or none. When only some equal keys are kept, each piece of the tensor must
   * start from the count of equal keys before it: the weight pass counts them and the compute pass
   * replays the same counts.
   */
  private static final class Selection {
    final int threshold;
    final long equalKept;
    private final boolean orderDependent;
    private long[] starts = new long[16]; // per piece, in tensor order
    private int recorded;
    private int replayed = -1; // -1 while recording
    private long equalBefore;

    Selection(int threshold, long equalKept, boolean orderDependent) {
      this.threshold = threshold;
      this.equalKept = equalKept;
      this.orderDependent = orderDependent;
    }

    /** Switches from counting the pieces' starts to replaying them, from the tensor's start. */
    void replay() {
      if (replayed < 0) replayed = 0;
    }

    /**
     * Each piece's counter of kept equal keys at its first element, for the span of the fetched
     * inputs.
     */
    long[][] startPieces(Run run, long first, int count) {
      int pieces = Run.pieces(first, count);
      long[][] seen = new long[pieces][1];
      if (!orderDependent) return seen; // every equal key is kept: the counters never stop a key
      if (replayed >= 0) {
        for (int t = 0; t < pieces; t++) seen[t][0] = starts[replayed++];
        return seen;
      }
      long[] equal = new long[pieces];
      if (run.keys != null) {
        int[] keys = run.keys;
        run.kernels.forEachTask(
            pieces,
            (wi, t) -> {
              int to = (int) first + Run.pieceEnd(first, count, t);
              long ties = 0;
              for (int i = (int) first + Run.pieceStart(first, t); i < to; i++) {
                if (keys[i] == threshold) ties++;
              }
              equal[t] = ties;
            });
        return record(seen, equal);
      }
      int high = threshold >>> 16;
      int low = threshold & 0xFFFF;
      run.forEachBlock(
          first,
          count,
          (w, t, o, c) -> {
            long before = w.histogram[low];
            run.kernels.sceHistogramLow(w.x, run.block, run.m, w.b, c, high, w.histogram);
            equal[t] += w.histogram[low] - before;
          });
      return record(seen, equal);
    }

    /** Each piece starts from the equal keys before it (at most the kept ones); kept for replay. */
    private long[][] record(long[][] seen, long[] equal) {
      for (int t = 0; t < seen.length; t++) {
        seen[t][0] = Math.min(equalBefore, equalKept);
        equalBefore += equal[t];
        if (recorded == starts.length) starts = Arrays.copyOf(starts, 2 * recorded);
        starts[recorded++] = seen[t][0];
      }
      return seen;
    }
  }

  /** One worker's scratch, reused for every block it runs. */
  private static final class Worker {
    final FloatChunks chunks;
    final float[] b;
    final float[] x; // the models' f32 blocks side by side, model k at k * block
    final float[] out;
    final long[] histogram = new long[Kernels.MAGNITUDE_BUCKETS];
    final long[] nonzero = new long[1];
    final int[] keys; // one block of the run's kept keys

    Worker(TensorStreams io, int models, int block) {
      chunks = new FloatChunks(io);
      keys = new int[block];
      b = new float[block];
      x = new float[models * block];
      out = new float[block];
    }
  }

  /** {@code s_i / sum(s)}, or uniform when the sum is below the floor. */
  static void normalise(double[] weights) {
    double sum = 0;
    for (double w : weights) sum += w;
    for (int i = 0; i < weights.length; i++) {
      weights[i] = Math.abs(sum) < WEIGHT_FLOOR ? 1.0 / weights.length : weights[i] / sum;
    }
  }
}
