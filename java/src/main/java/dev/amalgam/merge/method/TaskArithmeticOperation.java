package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.kernels.Philox;
import dev.amalgam.merge.method.MagnitudeSelection.Threshold;
import dev.amalgam.merge.method.MagnitudeSelection.TopK;
import dev.amalgam.merge.method.TaskArithmeticMerge.Sparsification;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * One tensor of the task-arithmetic family, streamed in blocks with bounded memory: up to two selection passes
 * (magnitude thresholds, {@link MagnitudeSelection}), an L1 pass when rescaling, then the compute pass. Random
 * masks are regenerated from {@link Philox} in every pass: they are a pure function of the element index. Blocks
 * are whole rows ({@code rowLength} elements, the last dimension) so that DELLA can rank within rows; the L1
 * sums accumulate per {@link Kernels#DOT_SEGMENT} segment, in element order, so nothing depends on block sizes.
 * The hot loops (histogram counting, Philox/Bernoulli masks, the sign-consensus merge) run in the stream's
 * {@link Kernels}: native where the library is loaded, with the same bits as the Java reference.
 */
final class TaskArithmeticOperation implements TensorOperation {
  /** Elements per work block (rounded to whole rows): small enough to keep one float block per input. */
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

  TaskArithmeticOperation(Sparsification sparsification, boolean consensus, boolean normalize, boolean rescale,
      double lambda, int base, List<Model> models, long elementCount, long rowLength, String tensorName, long seed,
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
    long n = io.elementCount();
    int block = blockSize(io.chunkElements());
    FloatChunks chunks = new FloatChunks(io);
    DType baseType = io.inputType(base);
    int m = models.size();
    Kernels kernels = io.kernels();
    ModelMask[] masks = new ModelMask[m];
    for (int k = 0; k < m; k++) masks[k] = new ModelMask(models.get(k), n, kernels);
    float[] b = new float[block];
    float[][] deltas = new float[m][block];

    // selection passes (magnitude thresholds)
    while (Arrays.stream(masks).anyMatch(ModelMask::needsPass)) {
      for (long first = 0; first < n; first += block) {
        int count = (int) Math.min(block, n - first);
        chunks.read(base, first, count, b);
        for (int k = 0; k < m; k++) {
          if (!masks[k].needsPass()) continue;
          taskVector(io, chunks, models.get(k).input(), baseType, first, count, b, deltas[k]);
          masks[k].accept(deltas[k], count);
        }
      }
      for (ModelMask mask : masks) mask.finishPass();
    }

    // L1 pass: rescale factors
    float[] factors = new float[m];
    Arrays.fill(factors, 1f);
    if (rescale && Arrays.stream(masks).anyMatch(ModelMask::active)) {
      SegmentedSum[] whole = new SegmentedSum[m];
      SegmentedSum[] kept = new SegmentedSum[m];
      for (int k = 0; k < m; k++) {
        whole[k] = new SegmentedSum();
        kept[k] = new SegmentedSum();
        masks[k].startPass();
      }
      for (long first = 0; first < n; first += block) {
        int count = (int) Math.min(block, n - first);
        chunks.read(base, first, count, b);
        for (int k = 0; k < m; k++) {
          if (!masks[k].active()) continue;
          float[] d = deltas[k];
          taskVector(io, chunks, models.get(k).input(), baseType, first, count, b, d);
          whole[k].addAbs(first, d, count);
          masks[k].apply(first, count, d);
          kept[k].addAbs(first, d, count);
        }
      }
      for (int k = 0; k < m; k++) {
        if (!masks[k].active()) continue;
        double l1 = whole[k].total();
        double l1Kept = kept[k].total();
        if (l1 >= 1e-7 && l1Kept >= 1e-7) factors[k] = (float) (l1 / l1Kept);
      }
    }

    // compute pass: the weighted task vectors side by side in one array, model k at k * block
    int rows = Math.max(m, 1); // no model: one zero row gives the same +0 mix as an empty sum
    float[] weighted;
    try {
      weighted = new float[Math.multiplyExact(rows, block)];
    } catch (ArithmeticException e) {
      throw new IOException("tensor '" + tensorName + "': " + rows + " task vectors of " + block
          + " elements exceed one array; raise the memory budget's chunk or merge fewer models", e);
    }
    float[] weights = new float[rows];
    float scalarDivisor = 0f;
    for (int k = 0; k < m; k++) {
      weights[k] = (float) models.get(k).weight();
      scalarDivisor += weights[k];
    }
    if (Math.abs(scalarDivisor) < 1e-8f) scalarDivisor = 1f;
    for (ModelMask mask : masks) mask.startPass();
    float[] out = new float[block];
    for (long first = 0; first < n; first += block) {
      int count = (int) Math.min(block, n - first);
      chunks.read(base, first, count, b);
      for (int k = 0; k < m; k++) {
        float[] d = deltas[k];
        taskVector(io, chunks, models.get(k).input(), baseType, first, count, b, d);
        masks[k].apply(first, count, d);
        weigh(d, count, factors[k], weights[k], weighted, k * block);
      }
      if (consensus) {
        SignConsensus.disjointMerge(kernels, weighted, block, weights, count, normalize, b, (float) lambda, out);
      } else {
        SignConsensus.plainMerge(kernels, weighted, block, rows, count, normalize ? scalarDivisor : 1f, b,
            (float) lambda, out);
      }
      chunks.emit(out, count);
    }
  }

  private int blockSize(long chunk) throws IOException {
    long rows = Math.max(1, WORK_BLOCK / rowLength);
    long block = Math.min(rows * rowLength, Math.max(elementCount, 1));
    if (sparsification != Sparsification.DELLA_MAGPRUNE) block = Math.min(WORK_BLOCK, chunk);
    if (block > chunk) {
      throw new IOException("tensor '" + tensorName + "': rows of " + rowLength + " elements exceed the merge's"
          + " chunk of " + chunk + " elements; raise the memory budget");
    }
    return (int) block;
  }

  /**
   * {@code d = round_to_base_type(X) - B} in f32, for elements {@code [first, first + count)}: mergekit casts each
   * input to the base's dtype before subtracting.
   */
  static void taskVector(TensorStreams io, FloatChunks chunks, int input, DType baseType, long first, int count,
      float[] b, float[] d) throws IOException {
    chunks.read(input, first, count, d);
    if (io.inputType(input) != baseType) roundTo(baseType, d, count);
    for (int i = 0; i < count; i++) d[i] -= b[i];
  }

  /** Rounds floats to a narrower type's values (in place). */
  static void roundTo(DType type, float[] v, int count) {
    if (type == DType.BF16) {
      for (int i = 0; i < count; i++) v[i] = Bf16.toFloat(Bf16.fromFloat(v[i]));
    } else if (type == DType.F16) {
      for (int i = 0; i < count; i++) v[i] = F16.toFloat(F16.fromFloat(v[i]));
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

  /** Sums of |x| per fixed {@link Kernels#DOT_SEGMENT} segment in double, the segments added in order. */
  static final class SegmentedSum {
    private long segment = 0;
    private double current;
    private double total;

    void addAbs(long first, float[] values, int count) {
      int i = 0;
      while (i < count) {
        long s = (first + i) / Kernels.DOT_SEGMENT;
        if (s != segment) {
          total += current;
          current = 0;
          segment = s;
        }
        // up to the segment's end: one division per run of elements, not per element
        int end = (int) Math.min(count, (s + 1) * Kernels.DOT_SEGMENT - first);
        double sum = current;
        for (; i < end; i++) sum += Math.abs(values[i]);
        current = sum;
      }
    }

    double total() {
      return total + current;
    }
  }

  /** One model's mask: thresholds found by selection passes, or random draws regenerated in every pass. */
  final class ModelMask {
    private final Model model;
    private final Sparsification kind;
    private final TopK keepTop; // magnitude: the kept set; outliers: everything but the n_bot smallest
    private final TopK dropTop; // outliers: the n_top largest
    private final Kernels kernels;
    private final long streamHash; // of the Philox stream, for the random kinds
    private final long[] seen = new long[2]; // equal-to-threshold elements kept so far: keep, drop
    private float[] uniforms;
    private long[] rowKeys;

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
      this.streamHash = kind == Sparsification.RANDOM || kind == Sparsification.DELLA_MAGPRUNE
          ? Philox.streamHash(tensorName, model.input()) : 0;
    }

    boolean active() {
      return kind != Sparsification.NONE;
    }

    boolean needsPass() {
      return (keepTop != null && keepTop.needsPass()) || (dropTop != null && dropTop.needsPass());
    }

    void accept(float[] delta, int count) {
      if (keepTop != null) keepTop.accept(delta, count);
      if (dropTop != null) dropTop.accept(delta, count);
    }

    void finishPass() {
      if (keepTop != null) keepTop.finishPass();
      if (dropTop != null) dropTop.finishPass();
    }

    void startPass() {
      Arrays.fill(seen, 0);
    }

    /** Zeroes the dropped elements of {@code d[0..count)}, elements {@code first..} of the tensor, in order. */
    void apply(long first, int count, float[] d) {
      switch (kind) {
        case NONE:
          return;
        case MAGNITUDE:
        case MAGNITUDE_OUTLIERS:
          Threshold keep = keepTop.threshold();
          Threshold drop = dropTop == null ? Threshold.none() : dropTop.threshold();
          kernels.magnitudeMask(d, count, keep.bits(), keep.equalKept(), drop.bits(), drop.equalKept(), seen);
          return;
        case RANDOM:
          kernels.bernoulliKeep(seed, streamHash, first, model.density(), d, count);
          return;
        case DELLA_MAGPRUNE:
          if (model.density() <= 0) {
            Arrays.fill(d, 0, count, 0f);
            return;
          }
          kernels.philoxUniforms(seed, streamHash, first, uniforms(count), count);
          int row = (int) rowLength;
          if (rowKeys == null) rowKeys = new long[row];
          for (int start = 0; start < count; start += row) {
            SparsifyKernels.dellaRow(d, start, row, uniforms, model.density(), model.epsilon(), rowKeys);
          }
          return;
        default:
          throw new IllegalStateException(kind.toString());
      }
    }

    private float[] uniforms(int count) {
      if (uniforms == null || uniforms.length < count) uniforms = new float[count];
      return uniforms;
    }
  }
}
