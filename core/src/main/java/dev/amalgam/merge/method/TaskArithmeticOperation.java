package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.kernels.Philox;
import dev.amalgam.merge.method.MagnitudeSelection.Threshold;
import dev.amalgam.merge.method.MagnitudeSelection.TopK;
import dev.amalgam.merge.method.TaskArithmeticMerge.Sparsification;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * One tensor of the task-arithmetic family, streamed in blocks with bounded memory: up to two
 * selection passes (magnitude thresholds, {@link MagnitudeSelection}), an L1 pass when rescaling,
 * then the compute pass. Random masks are regenerated from {@link Philox} in every pass: they are a
 * pure function of the element index. The L1 sums accumulate per {@link Kernels#DOT_SEGMENT}
 * segment, in element order, so nothing depends on block sizes. Each pass walks the tensor one
 * chunk at a time and splits the chunk into one task per segment, run in parallel on the kernels'
 * threads (see {@code Run}); DELLA, which ranks within rows, splits its spans into blocks of whole
 * rows instead. The hot loops (task vectors straight from the stored inputs, histogram counting,
 * Philox/Bernoulli and magnitude masks, DELLA's per-row ranking, the sign-consensus merge) run in
 * the stream's {@link Kernels}: native where the library is loaded, with the same bits as the Java
 * reference, at any thread count.
 */
final class TaskArithmeticOperation implements TensorOperation {
  /**
   * Elements per work block (rounded to whole rows): small enough to keep one float block per
   * input.
   */
  static final int WORK_BLOCK = 1 << 16;

  /** One non-base input with its resolved parameters. */
  record Model(int input, double weight, double density, double gamma, double epsilon) {}

  private final Sparsification sparsification;
  private final boolean consensus;
  private final boolean normalize;
  private final boolean rescale;
  private final double lambda;
  private final int base;
  private final List<Model> models;
  private final long elementCount;
  private final long rowLength;
  private final String tensorName;
  private final long seed;
  private final String description;

  TaskArithmeticOperation(
      Sparsification sparsification,
      boolean consensus,
      boolean normalize,
      boolean rescale,
      double lambda,
      int base,
      List<Model> models,
      long elementCount,
      long rowLength,
      String tensorName,
      long seed,
      String description) {
    this.sparsification = sparsification;
    this.consensus = consensus;
    this.normalize = normalize;
    this.rescale = rescale;
    this.lambda = lambda;
    this.base = base;
    this.models = models;
    this.elementCount = elementCount;
    this.rowLength = rowLength;
    this.tensorName = tensorName;
    this.seed = seed;
    this.description = description;
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public void run(TensorStreams io) throws IOException, InterruptedException {
    new Run(io).execute();
  }

  /**
   * One block of a task's segment: elements {@code [offset, offset + count)} of the fetched span.
   */
  @FunctionalInterface
  private interface BlockBody {
    void run(Worker w, int task, int offset, int count) throws IOException;
  }

  /** A task body that may fail with an I/O error. */
  @FunctionalInterface
  private interface Body {
    void run(int worker, int task) throws IOException;
  }

  /** Runs {@code tasks} on the kernels' threads, rethrowing an I/O failure as itself. */
  private static void runTasks(Kernels kernels, int tasks, Body body) throws IOException {
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
   * One run over one tensor. The tensor is walked in spans of one chunk; each span is split into
   * tasks of one {@link Kernels#DOT_SEGMENT} segment that run in parallel, each in work blocks with
   * its worker's scratch. Nothing depends on which thread runs a task: histogram counts are integer
   * sums, the L1 sums are per segment (added in segment order afterwards), and a magnitude mask
   * whose threshold keeps only some of its equal elements first counts, per task, the equal
   * elements before it. DELLA ranks within rows, so its spans are whole rows and its tasks blocks
   * of whole rows; its L1 sums run as a second step per span ({@code rowWiseL1}).
   */
  private final class Run {
    private final TensorStreams io;
    private final Kernels kernels;
    private final long n;
    private final int block;
    private final boolean rowWise;
    private final long span;
    private final int unit; // elements per task: one reduction segment, or one block of rows
    private final DType baseType;
    private final int m;
    private final ModelMask[] masks;
    private final Worker[] workers;
    private final ByteBuffer[] fetched;
    // DELLA: per model, which elements its mask kept, recorded by the L1 pass so that the compute
    // pass need not rank the rows again (null where not recorded)
    private final long[][] keptBits;

    Run(TensorStreams io) throws IOException {
      this.io = io;
      this.kernels = io.kernels();
      this.n = io.elementCount();
      this.block = blockSize(io.chunkElements());
      this.rowWise = sparsification == Sparsification.DELLA_MAGPRUNE;
      this.m = models.size();
      this.span = rowWise ? rowSpan(io.chunkElements(), m) : io.chunkElements();
      this.unit = rowWise ? block : Kernels.DOT_SEGMENT;
      this.baseType = io.inputType(base);
      this.masks = new ModelMask[m];
      for (int k = 0; k < m; k++) masks[k] = new ModelMask(models.get(k), n, kernels);
      long maxTasks = (Math.min(span, Math.max(n, 1)) + unit - 1) / unit;
      this.workers = new Worker[(int) Math.max(1, Math.min(kernels.threads(), maxTasks))];
      this.fetched = new ByteBuffer[io.inputCount()];
      this.keptBits = new long[m][];
    }

    private int tasks(int count) {
      return (count + unit - 1) / unit;
    }

    private Worker worker(int index) throws IOException {
      if (workers[index] == null) workers[index] = new Worker(io, m, block, tensorName);
      return workers[index];
    }

    /**
     * Runs {@code body} on every block of every task's part of the fetched span (one task per
     * reduction segment, or per block of whole rows when ranking rows), on the kernels' threads,
     * with the base's block already read into the worker's {@code b}.
     */
    private void forEachBlock(int count, BlockBody body) throws IOException {
      runTasks(
          kernels,
          tasks(count),
          (wi, t) -> {
            Worker w = workers[wi];
            int from = t * unit;
            int to = Math.min(count, from + unit);
            for (int o = from; o < to; o += block) {
              int c = Math.min(block, to - o);
              w.chunks.read(fetched[base], baseType, o, c, w.b);
              body.run(w, t, o, c);
            }
          });
    }

    /**
     * Fetches the span's chunks of the base and of the models that {@code wanted} selects (main
     * thread).
     */
    private void fetch(long first, int count, boolean[] wanted) throws IOException {
      fetched[base] = io.inputChunk(base, first, count);
      for (int k = 0; k < m; k++) {
        if (wanted == null || wanted[k])
          fetched[models.get(k).input()] = io.inputChunk(models.get(k).input(), first, count);
      }
    }

    /**
     * {@code d = round_to_base_type(X) - B} for elements {@code [offset, offset + count)} of the
     * fetched span.
     */
    private void taskVector(Worker w, int input, int offset, int count, float[] d) {
      DType type = io.inputType(input);
      ByteBuffer x = fetched[input].duplicate();
      x.position(Math.multiplyExact(offset, type.byteSize()));
      kernels.taskVector(x, type, baseType, w.b, d, count);
    }

    void execute() throws IOException, InterruptedException {
      for (int w = 0; w < workers.length; w++) worker(w);
      select();
      float[] factors = rescaleFactors();
      compute(factors);
    }

    /** Selection passes: magnitude thresholds, counted per worker and added up. */
    private void select() throws IOException {
      while (Arrays.stream(masks).anyMatch(ModelMask::needsPass)) {
        boolean[] wanted = new boolean[m];
        for (int k = 0; k < m; k++) wanted[k] = masks[k].needsPass();
        for (long first = 0; first < n; first += span) {
          int count = (int) Math.min(span, n - first);
          fetch(first, count, wanted);
          forEachBlock(
              count,
              (w, t, o, c) -> {
                for (int k = 0; k < m; k++) {
                  if (!wanted[k]) continue;
                  taskVector(w, models.get(k).input(), o, c, w.d[k]);
                  masks[k].count(w.d[k], c, w.histogram(2 * k), w.histogram(2 * k + 1));
                }
              });
        }
        for (Worker w : workers) {
          for (int k = 0; k < m; k++) {
            if (wanted[k]) masks[k].add(w.histogram(2 * k), w.histogram(2 * k + 1));
          }
        }
        for (ModelMask mask : masks) mask.finishPass();
      }
    }

    /**
     * Per task of the span: each model's mask counters at the task's first element. Only thresholds
     * that keep some but not all of their equal elements need them; they are counted here, the rest
     * start at zero.
     *
     * @param before per model, equal elements (keep, drop) in the spans before; advanced past this
     *     span
     */
    private long[][][] maskCounters(long first, int count, long[] before) throws IOException {
      int tasks = tasks(count);
      long[][][] seen = new long[tasks][m][2];
      boolean any = false;
      for (ModelMask mask : masks) any |= mask.orderDependent();
      if (!any) return seen;
      long[][] equal = new long[tasks][2 * m];
      forEachBlock(
          count,
          (w, t, o, c) -> {
            for (int k = 0; k < m; k++) {
              if (!masks[k].orderDependent()) continue;
              taskVector(w, models.get(k).input(), o, c, w.d[k]);
              masks[k].countEqual(w.d[k], c, equal[t], 2 * k);
            }
          });
      for (int t = 0; t < tasks; t++) {
        for (int k = 0; k < m; k++) {
          for (int j = 0; j < 2; j++) {
            seen[t][k][j] = Math.min(before[2 * k + j], masks[k].equalKept(j));
            before[2 * k + j] += equal[t][2 * k + j];
          }
        }
      }
      return seen;
    }

    /** The L1 pass: each sparsified model's rescale factor, 1 where none applies. */
    private float[] rescaleFactors() throws IOException {
      float[] factors = new float[m];
      Arrays.fill(factors, 1f);
      if (!rescale || Arrays.stream(masks).noneMatch(ModelMask::active)) return factors;
      double[] whole = new double[m];
      double[] kept = new double[m];
      boolean[] wanted = new boolean[m];
      for (int k = 0; k < m; k++) wanted[k] = masks[k].active();
      if (rowWise) {
        rowWiseL1(wanted, whole, kept);
      } else {
        long[] before = new long[2 * m];
        for (long first = 0; first < n; first += span) {
          int count = (int) Math.min(span, n - first);
          fetch(first, count, wanted);
          long spanFirst = first;
          long[][][] seen = maskCounters(first, count, before);
          int tasks = tasks(count);
          double[][] segmentWhole = new double[tasks][m];
          double[][] segmentKept = new double[tasks][m];
          forEachBlock(
              count,
              (w, t, o, c) -> {
                for (int k = 0; k < m; k++) {
                  if (!wanted[k]) continue;
                  taskVector(w, models.get(k).input(), o, c, w.d[k]);
                  System.arraycopy(w.d[k], 0, w.raw(k), 0, c);
                  masks[k].apply(w, spanFirst + o, c, w.d[k], seen[t][k]);
                }
                addAbs(segmentWhole[t], segmentKept[t], w.raw, w.d, wanted, c);
              });
          for (int t = 0; t < tasks; t++) {
            for (int k = 0; k < m; k++) {
              whole[k] += segmentWhole[t][k];
              kept[k] += segmentKept[t][k];
            }
          }
        }
      }
      for (int k = 0; k < m; k++) {
        if (!masks[k].active()) continue;
        if (whole[k] >= 1e-7 && kept[k] >= 1e-7) factors[k] = (float) (whole[k] / kept[k]);
      }
      return factors;
    }

    /**
     * DELLA's L1 sums. Its tasks are blocks of whole rows, which do not line up with the reduction
     * segments, so each span runs in two steps: the tasks mask their rows into a span-wide copy;
     * then one task per piece of a segment inside the span sums |d| and |mask d| in element order,
     * the piece that continues a segment from the span before starting from that segment's running
     * sums. Completed segments are added in order: the sums of one thread walking the tensor.
     */
    private void rowWiseL1(boolean[] wanted, double[] whole, double[] kept) throws IOException {
      if ((n + 63) / 64 * m <= KEPT_BITS_WORDS) {
        for (int k = 0; k < m; k++) {
          if (wanted[k]) keptBits[k] = new long[(int) ((n + 63) / 64)];
        }
      }
      float[][] masked = new float[m][];
      for (int k = 0; k < m; k++) if (wanted[k]) masked[k] = new float[(int) Math.min(span, n)];
      double[] runningWhole = new double[m]; // the current segment's sums, carried across spans
      double[] runningKept = new double[m];
      long[] noCounters = new long[2]; // DELLA masks keep no counters; shared, never written
      for (long first = 0; first < n; first += span) {
        int count = (int) Math.min(span, n - first);
        fetch(first, count, wanted);
        long spanFirst = first;
        long[][][] edges = new long[tasks(count)][m][4];
        forEachBlock(
            count,
            (w, t, o, c) -> {
              for (int k = 0; k < m; k++) {
                if (!wanted[k]) continue;
                taskVector(w, models.get(k).input(), o, c, w.d[k]);
                if (keptBits[k] != null) System.arraycopy(w.d[k], 0, w.raw(k), 0, c);
                masks[k].apply(w, spanFirst + o, c, w.d[k], noCounters);
                System.arraycopy(w.d[k], 0, masked[k], o, c);
                if (keptBits[k] != null) {
                  recordKept(keptBits[k], spanFirst + o, w.raw(k), w.d[k], c, edges[t][k]);
                }
              }
            });
        for (long[][] taskEdges : edges) {
          for (int k = 0; k < m; k++) {
            if (keptBits[k] == null) continue;
            for (int e = 0; e < 4; e += 2) {
              if (taskEdges[k][e] >= 0) keptBits[k][(int) taskEdges[k][e]] |= taskEdges[k][e + 1];
            }
          }
        }
        int pieces = 0;
        int[] bounds = new int[count / Kernels.DOT_SEGMENT + 3];
        for (int at = 0; at < count; ) {
          bounds[pieces++] = at;
          long segmentEnd = ((spanFirst + at) / Kernels.DOT_SEGMENT + 1) * Kernels.DOT_SEGMENT;
          at = (int) Math.min(count, segmentEnd - spanFirst);
        }
        bounds[pieces] = count;
        double[][] pieceWhole = new double[pieces][];
        double[][] pieceKept = new double[pieces][];
        runTasks(
            kernels,
            pieces,
            (wi, p) -> {
              Worker w = workers[wi];
              double[] sumWhole = p == 0 ? runningWhole.clone() : new double[m];
              double[] sumKept = p == 0 ? runningKept.clone() : new double[m];
              for (int o = bounds[p]; o < bounds[p + 1]; o += block) {
                int c = Math.min(block, bounds[p + 1] - o);
                w.chunks.read(fetched[base], baseType, o, c, w.b);
                for (int k = 0; k < m; k++) {
                  if (!wanted[k]) continue;
                  taskVector(w, models.get(k).input(), o, c, w.raw(k));
                  System.arraycopy(masked[k], o, w.d[k], 0, c);
                }
                addAbs(sumWhole, sumKept, w.raw, w.d, wanted, c);
              }
              pieceWhole[p] = sumWhole;
              pieceKept[p] = sumKept;
            });
        for (int p = 0; p < pieces; p++) {
          boolean closes = (spanFirst + bounds[p + 1]) % Kernels.DOT_SEGMENT == 0;
          for (int k = 0; k < m; k++) {
            if (closes) {
              whole[k] += pieceWhole[p][k];
              kept[k] += pieceKept[p][k];
              runningWhole[k] = 0;
              runningKept[k] = 0;
            } else {
              runningWhole[k] = pieceWhole[p][k];
              runningKept[k] = pieceKept[p][k];
            }
          }
        }
      }
      for (int k = 0; k < m; k++) {
        whole[k] += runningWhole[k];
        kept[k] += runningKept[k];
      }
    }

    /**
     * The compute pass: masked, weighted task vectors merged onto the base, one output chunk per
     * span.
     */
    private void compute(float[] factors) throws IOException, InterruptedException {
      int rows = Math.max(m, 1); // no model: one zero row gives the same +0 mix as an empty sum
      float[] weights = new float[rows];
      float scalarDivisor = 0f;
      for (int k = 0; k < m; k++) {
        weights[k] = (float) models.get(k).weight();
        scalarDivisor += weights[k];
      }
      if (Math.abs(scalarDivisor) < 1e-8f) scalarDivisor = 1f;
      float divisor = normalize ? scalarDivisor : 1f;
      long[] before = new long[2 * m];
      for (long first = 0; first < n; first += span) {
        int count = (int) Math.min(span, n - first);
        fetch(first, count, null);
        long spanFirst = first;
        long[][][] seen = maskCounters(first, count, before);
        ByteBuffer out = io.outputChunk();
        forEachBlock(
            count,
            (w, t, o, c) -> {
              for (int k = 0; k < m; k++) {
                float[] d = w.d[k];
                taskVector(w, models.get(k).input(), o, c, d);
                if (keptBits[k] != null) {
                  applyKept(keptBits[k], spanFirst + o, d, c);
                } else {
                  masks[k].apply(w, spanFirst + o, c, d, seen[t][k]);
                }
                weigh(d, c, factors[k], weights[k], w.weighted, k * block);
              }
              if (consensus) {
                SignConsensus.disjointMerge(
                    kernels, w.weighted, block, weights, c, normalize, w.b, (float) lambda, w.out);
              } else {
                SignConsensus.plainMerge(
                    kernels, w.weighted, block, rows, c, divisor, w.b, (float) lambda, w.out);
              }
              w.chunks.write(w.out, c, out, o);
            });
        out.position(0).limit(Math.toIntExact(io.outputType().byteCount(count)));
        io.emit(out);
      }
    }
  }

  /**
   * For the wanted models: {@code whole[k] += |raw[k][0]| + |raw[k][1]| + ...} and {@code kept[k]}
   * likewise over the masked {@code d[k]}, in double, in element order. Each sum is one chain of
   * dependent additions (their order fixes the bits), so up to two models' four chains run side by
   * side in one loop to overlap latencies.
   */
  static void addAbs(
      double[] whole, double[] kept, float[][] raw, float[][] d, boolean[] wanted, int count) {
    int pending = -1;
    for (int k = 0; k < whole.length; k++) {
      if (!wanted[k]) continue;
      if (pending < 0) {
        pending = k;
        continue;
      }
      double w0 = whole[pending];
      double k0 = kept[pending];
      double w1 = whole[k];
      double k1 = kept[k];
      float[] r0 = raw[pending];
      float[] d0 = d[pending];
      float[] r1 = raw[k];
      float[] d1 = d[k];
      for (int i = 0; i < count; i++) {
        w0 += Math.abs(r0[i]);
        k0 += Math.abs(d0[i]);
        w1 += Math.abs(r1[i]);
        k1 += Math.abs(d1[i]);
      }
      whole[pending] = w0;
      kept[pending] = k0;
      whole[k] = w1;
      kept[k] = k1;
      pending = -1;
    }
    if (pending >= 0) {
      double w0 = whole[pending];
      double k0 = kept[pending];
      float[] r0 = raw[pending];
      float[] d0 = d[pending];
      for (int i = 0; i < count; i++) {
        w0 += Math.abs(r0[i]);
        k0 += Math.abs(d0[i]);
      }
      whole[pending] = w0;
      kept[pending] = k0;
    }
  }

  /** One worker's scratch: reused for every block it runs. */
  private static final class Worker {
    final FloatChunks chunks;
    final float[] b;
    final float[][] d;
    final float[] weighted; // the weighted task vectors side by side, model k at k * block
    final float[] out;
    final float[][] raw; // the L1 pass's unmasked task vectors, allocated on first use
    private final long[][] histograms;
    long[] rowKeys; // DELLA's per-row scratch, allocated on first use
    float[] rowUniforms;

    Worker(TensorStreams io, int models, int block, String tensorName) throws IOException {
      chunks = new FloatChunks(io);
      b = new float[block];
      d = new float[models][block];
      int rows = Math.max(models, 1);
      try {
        weighted = new float[Math.multiplyExact(rows, block)];
      } catch (ArithmeticException e) {
        throw new IOException(
            "tensor '"
                + tensorName
                + "': "
                + rows
                + " task vectors of "
                + block
                + " elements exceed one array; raise the memory budget's chunk or merge fewer models",
            e);
      }
      out = new float[block];
      raw = new float[models][];
      histograms = new long[2 * models][];
    }

    /** Model k's unmasked copy, allocated on first use. */
    float[] raw(int k) {
      if (raw[k] == null) raw[k] = new float[b.length];
      return raw[k];
    }

    /** Histogram {@code index} (model k's keep at 2k, drop at 2k + 1), allocated on first use. */
    long[] histogram(int index) {
      if (histograms[index] == null) histograms[index] = new long[MagnitudeSelection.BUCKETS];
      return histograms[index];
    }
  }

  private int blockSize(long chunk) throws IOException {
    long rows = Math.max(1, WORK_BLOCK / rowLength);
    long block = Math.min(rows * rowLength, Math.max(elementCount, 1));
    if (sparsification != Sparsification.DELLA_MAGPRUNE) block = Math.min(WORK_BLOCK, chunk);
    if (block > chunk) {
      throw new IOException(
          "tensor '"
              + tensorName
              + "': rows of "
              + rowLength
              + " elements exceed the merge's"
              + " chunk of "
              + chunk
              + " elements; raise the memory budget");
    }
    return (int) block;
  }

  /**
   * Elements DELLA keeps a masked copy of per model in its L1 pass: the span is capped so that the
   * copies of all models take at most 32 MiB.
   */
  static final long ROW_SPAN_FLOATS = 8L << 20;

  /**
   * DELLA's span: whole rows, at most one chunk, and at most {@link #ROW_SPAN_FLOATS} over all
   * models (one row at least).
   */
  private long rowSpan(long chunk, int models) {
    long limit = Math.min(chunk, Math.max(rowLength, ROW_SPAN_FLOATS / Math.max(1, models)));
    return Math.max(1, limit / rowLength) * rowLength;
  }

  /** Words of DELLA's kept bits the L1 pass may record over all models (32 MiB). */
  static final long KEPT_BITS_WORDS = 4L << 20;

  /**
   * Sets the bits of {@code d[0..count)}, elements {@code first..} of the tensor, that the mask
   * kept: those whose masked value has the raw value's bits (a +0 counts as kept either way, which
   * gives the same +0 when the bits are applied). Words wholly inside the range are stored; the
   * partial words at its ends, which a neighbouring task may share, go to {@code edges} (word
   * index, bits; twice, index -1 when unused) for the caller to merge.
   */
  static void recordKept(long[] bits, long first, float[] raw, float[] d, int count, long[] edges) {
    edges[0] = -1;
    edges[2] = -1;
    long index = first;
    for (int i = 0; i < count; ) {
      int at = (int) (index & 63);
      int take = Math.min(64 - at, count - i);
      long word = 0;
      for (int b = 0; b < take; b++) {
        int diff = Float.floatToRawIntBits(raw[i + b]) ^ Float.floatToRawIntBits(d[i + b]);
        // branch-free: 1 iff diff == 0 (diff | -diff has its sign bit set iff diff != 0)
        long same = ((diff | -diff) >>> 31) ^ 1;
        word |= same << (at + b);
      }
      int w = (int) (index >>> 6);
      if (take == 64) {
        bits[w] = word;
      } else {
        int slot = i == 0 ? 0 : 2;
        edges[slot] = w;
        edges[slot + 1] = word;
      }
      i += take;
      index += take;
    }
  }

  /** Zeroes the elements of {@code d[0..count)}, elements {@code first..}, whose bit is clear. */
  static void applyKept(long[] bits, long first, float[] d, int count) {
    long index = first;
    for (int i = 0; i < count; ) {
      int at = (int) (index & 63);
      int take = Math.min(64 - at, count - i);
      long word = bits[(int) (index >>> 6)] >>> at;
      for (int b = 0; b < take; b++) {
        // branch-free: the bits are random, so a branch would mispredict half the time
        int keep = -(int) ((word >>> b) & 1);
        d[i + b] = Float.intBitsToFloat(Float.floatToRawIntBits(d[i + b]) & keep);
      }
      i += take;
      index += take;
    }
  }

  /** {@code into[offset + i] = weight * (d[i] * factor)}, the factor skipped when it is 1. */
  static void weigh(float[] d, int count, float factor, float weight, float[] into, int offset) {
    if (factor != 1f) {
      for (int i = 0; i < count; i++) into[offset + i] = weight * (d[i] * factor);
    } else {
      for (int i = 0; i < count; i++) into[offset + i] = weight * d[i];
    }
  }

  /**
   * One model's mask: thresholds found by selection passes, or random draws regenerated in every
   * pass.
   */
  final class ModelMask {
    private final Model model;
    private final Sparsification kind;
    private final TopK
        keepTop; // magnitude: the kept set; outliers: everything but the n_bot smallest
    private final TopK dropTop; // outliers: the n_top largest
    private final Kernels kernels;
    private final long streamHash; // of the Philox stream, for the random kinds

    ModelMask(Model model, long numel, Kernels kernels) {
      this.model = model;
      this.kernels = kernels;
      double d = model.density();
      this.kind = d >= 1 ? Sparsification.NONE : sparsification;
      TopK keep = null;
      TopK drop = null;
      if (kind == Sparsification.MAGNITUDE) {
        keep = new TopK((long) Math.floor(d * numel), numel, kernels);
      } else if (kind == Sparsification.MAGNITUDE_OUTLIERS) {
        long nTop = (long) Math.floor(model.gamma() * numel);
        long target = (long) Math.floor(d * numel);
        long nBot = numel - target - nTop;
        if (nBot < 0) {
          nTop += nBot;
          nBot = 0;
        }
        keep = new TopK(numel - nBot, numel, kernels);
        drop = new TopK(nTop, numel, kernels);
      }
      this.keepTop = keep;
      this.dropTop = drop;
      this.streamHash =
          kind == Sparsification.RANDOM || kind == Sparsification.DELLA_MAGPRUNE
              ? Philox.streamHash(tensorName, model.input())
              : 0;
    }

    boolean active() {
      return kind != Sparsification.NONE;
    }

    boolean needsPass() {
      return (keepTop != null && keepTop.needsPass()) || (dropTop != null && dropTop.needsPass());
    }

    /** Counts a block of this pass into the worker's histograms (see {@link TopK#count}). */
    void count(float[] delta, int count, long[] keepCounts, long[] dropCounts) {
      if (keepTop != null) keepTop.count(delta, count, keepCounts);
      if (dropTop != null) dropTop.count(delta, count, dropCounts);
    }

    /** Adds a worker's counts of this pass. */
    void add(long[] keepCounts, long[] dropCounts) {
      if (keepTop != null) keepTop.add(keepCounts);
      if (dropTop != null) dropTop.add(dropCounts);
    }

    void finishPass() {
      if (keepTop != null) keepTop.finishPass();
      if (dropTop != null) dropTop.finishPass();
    }

    /**
     * Whether applying the mask to a block needs the count of equal-to-threshold elements before
     * it.
     */
    boolean orderDependent() {
      return (keepTop != null && keepTop.orderDependent())
          || (dropTop != null && dropTop.orderDependent());
    }

    /** The equal elements kept by the keep (j = 0) or drop (j = 1) threshold. */
    long equalKept(int j) {
      TopK top = j == 0 ? keepTop : dropTop;
      return top == null ? 0 : top.threshold().equalKept();
    }

    /**
     * Adds the block's elements equal to the order-dependent thresholds to {@code into[at]} (keep),
     * {@code [at + 1]}.
     */
    void countEqual(float[] d, int count, long[] into, int at) {
      if (keepTop != null && keepTop.orderDependent()) {
        into[at] += SparsifyKernels.countMagnitudeBits(d, count, keepTop.threshold().bits());
      }
      if (dropTop != null && dropTop.orderDependent()) {
        into[at + 1] += SparsifyKernels.countMagnitudeBits(d, count, dropTop.threshold().bits());
      }
    }

    /**
     * Zeroes the dropped elements of {@code d[0..count)}, elements {@code first..} of the tensor,
     * in order.
     *
     * @param seen the magnitude masks' counters (keep, drop) at the block's first element; advanced
     *     past it
     */
    void apply(Worker w, long first, int count, float[] d, long[] seen) {
      switch (kind) {
        case NONE:
          return;
        case MAGNITUDE:
        case MAGNITUDE_OUTLIERS:
          Threshold keep = keepTop.threshold();
          Threshold drop = dropTop == null ? Threshold.none() : dropTop.threshold();
          kernels.magnitudeMask(
              d, count, keep.bits(), keep.equalKept(), drop.bits(), drop.equalKept(), seen);
          return;
        case RANDOM:
          kernels.bernoulliKeep(seed, streamHash, first, model.density(), d, count);
          return;
        case DELLA_MAGPRUNE:
          if (model.density() <= 0) {
            Arrays.fill(d, 0, count, 0f);
            return;
          }
          int row = (int) rowLength;
          if (w.rowKeys == null) {
            w.rowKeys = new long[Math.multiplyExact(3, row)];
            w.rowUniforms = new float[row];
          }
          kernels.dellaMask(
              seed,
              streamHash,
              first,
              model.density(),
              model.epsilon(),
              d,
              count,
              row,
              w.rowKeys,
              w.rowUniforms);
          return;
        default:
          throw new IllegalStateException(kind.toString());
      }
    }
  }
}
