package dev.amalgam.kernels;

import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The plain-Java kernels: the reference every native path is tested against, and the fallback where
 * the native library cannot load. They follow amalgam.h's canonical arithmetic literally, one
 * element at a time; the Q8_0 quantizer is {@link #quantizeQ8_0Block}, which {@code
 * io.gguf.GgufQuant} uses too.
 */
public final class JavaKernels implements KernelBackend {
  static final JavaKernels INSTANCE = new JavaKernels();

  private JavaKernels() {}

  @Override
  public String name() {
    return "java";
  }

  @Override
  public boolean isNative() {
    return false;
  }

  @Override
  public boolean accepts(ByteBuffer buffer) {
    return true;
  }

  /**
   * Element {@code i} (counted from the buffer's position) of a little-endian buffer, widened to
   * float.
   */
  public static float load(ByteBuffer buffer, DType type, long i) {
    int index = Math.toIntExact(buffer.position() + i * type.byteSize());
    switch (type) {
      case F32:
        {
          int bits = buffer.getInt(index);
          return Float.intBitsToFloat(
              buffer.order() == ByteOrder.LITTLE_ENDIAN ? bits : Integer.reverseBytes(bits));
        }
      case F16:
        return F16.toFloat(le16(buffer, index));
      case BF16:
        return Bf16.toFloat(le16(buffer, index));
      default:
        throw new IllegalArgumentException(type + " is not a kernel type");
    }
  }

  /**
   * Rounds {@code value} to {@code type} and stores it as element {@code i} (from the position).
   */
  public static void store(ByteBuffer buffer, DType type, long i, float value) {
    int index = Math.toIntExact(buffer.position() + i * type.byteSize());
    switch (type) {
      case F32:
        {
          int bits = Float.floatToRawIntBits(value);
          buffer.putInt(
              index, buffer.order() == ByteOrder.LITTLE_ENDIAN ? bits : Integer.reverseBytes(bits));
          break;
        }
      case F16:
        putLe16(buffer, index, F16.fromFloat(value));
        break;
      case BF16:
        putLe16(buffer, index, Bf16.fromFloat(value));
        break;
      default:
        throw new IllegalArgumentException(type + " is not a kernel type");
    }
  }

  private static short le16(ByteBuffer buffer, int index) {
    short s = buffer.getShort(index);
    return buffer.order() == ByteOrder.LITTLE_ENDIAN ? s : Short.reverseBytes(s);
  }

  private static void putLe16(ByteBuffer buffer, int index, short value) {
    buffer.putShort(
        index, buffer.order() == ByteOrder.LITTLE_ENDIAN ? value : Short.reverseBytes(value));
  }

  @Override
  public void convert(
      ByteBuffer src,
      long srcOffset,
      DType srcType,
      ByteBuffer dst,
      long dstOffset,
      DType dstType,
      long n,
      int flags) {
    long s0 = srcOffset / srcType.byteSize();
    long d0 = dstOffset / dstType.byteSize();
    for (long i = 0; i < n; i++) store(dst, dstType, d0 + i, load(src, srcType, s0 + i));
  }

  /**
   * The reference of amalgam_count_nonfinite: a value whose exponent bits are all ones is infinite
   * if its mantissa is zero, else NaN.
   */
  @Override
  public void countNonFinite(ByteBuffer src, long srcOffset, DType type, long n, long[] counts) {
    long nan = 0;
    long inf = 0;
    int at = Math.toIntExact(src.position() + srcOffset);
    for (long i = 0; i < n; i++) {
      int index = Math.toIntExact(at + i * type.byteSize());
      boolean special;
      boolean zeroMantissa;
      switch (type) {
        case F32:
          {
            int bits = src.getInt(index);
            if (src.order() != ByteOrder.LITTLE_ENDIAN) bits = Integer.reverseBytes(bits);
            special = (bits & 0x7f800000) == 0x7f800000;
            zeroMantissa = (bits & 0x007fffff) == 0;
            break;
          }
        case F16:
          {
            int bits = le16(src, index);
            special = (bits & 0x7c00) == 0x7c00;
            zeroMantissa = (bits & 0x03ff) == 0;
            break;
          }
        case BF16:
          {
            int bits = le16(src, index);
            special = (bits & 0x7f80) == 0x7f80;
            zeroMantissa = (bits & 0x007f) == 0;
            break;
          }
        default:
          throw new IllegalArgumentException(type + " is not a kernel type");
      }
      if (special) {
        if (zeroMantissa) inf++;
        else nan++;
      }
    }
    counts[0] += nan;
    counts[1] += inf;
  }

  @Override
  public void weightedSum(
      ByteBuffer[] inputs,
      long[] inputOffsets,
      DType[] inputTypes,
      float[] c,
      ByteBuffer out,
      long outOffset,
      DType outType,
      long n,
      int flags) {
    int count = inputs.length;
    long[] first = new long[count];
    for (int k = 0; k < count; k++) first[k] = inputOffsets[k] / inputTypes[k].byteSize();
    long o0 = outOffset / outType.byteSize();
    for (long i = 0; i < n; i++) {
      float acc = c[0] * load(inputs[0], inputTypes[0], first[0] + i);
      for (int k = 1; k < count; k++)
        acc = Math.fma(c[k], load(inputs[k], inputTypes[k], first[k] + i), acc);
      store(out, outType, o0 + i, acc);
    }
  }

  /**
   * ggml's reference Q8_0 quantizer (quantize_row_q8_0_ref) for one block: reads {@code x[from ..
   * from + 31]} and writes 34 bytes at absolute index {@code at} of {@code dst} (little-endian
   * whatever its order). The definition every native path reproduces bit for bit (amalgam.h
   * contract point 7):
   *
   * <ul>
   *   <li>amax = max |x[j]|; d = amax / 127 (f32); id = d != 0 ? 1 / d : 0, from the f32 d, not the
   *       stored f16; d is stored as f16 rounded to nearest even ({@link F16#fromFloat}; above
   *       65504 it is infinity).
   *   <li>qs[j] = {@code (byte) roundHalfAway(x[j] * id)}: the f32 product rounded half away from
   *       zero, then Java's (int) and (byte) conversions (NaN gives 0, values past the int range
   *       saturate, then the low 8 bits are kept). Only a subnormal d can push |x·id| past 127.
   *   <li>A block holding a NaN stores the first NaN's magnitude as d (quieted: {@code 0x7e00 |
   *       (bits >> 13 & 0x3ff)}) and qs = 0, what {@code Math.max}/{@code Math.abs} gave the
   *       original Java code under HotSpot's compiler. A block holding an infinity (and no NaN)
   *       stores d = infinity and qs = 0.
   * </ul>
   */
  public static void quantizeQ8_0Block(float[] x, int from, ByteBuffer dst, int at) {
    int amaxBits = 0;
    int nanBits = 0;
    for (int j = 0; j < BlockFormat.BLOCK_ELEMENTS; j++) {
      int a = Float.floatToRawIntBits(x[from + j]) & 0x7fffffff;
      if (a > 0x7f800000) {
        nanBits = a;
        break;
      }
      amaxBits = Math.max(amaxBits, a); // non-negative floats order like their bits
    }
    if (nanBits != 0) {
      putLe16(dst, at, (short) (0x7e00 | ((nanBits >>> 13) & 0x3ff)));
      for (int j = 0; j < BlockFormat.BLOCK_ELEMENTS; j++) dst.put(at + 2 + j, (byte) 0);
      return;
    }
    float d = Float.intBitsToFloat(amaxBits) / 127f;
    float id = d != 0f ? 1f / d : 0f;
    putLe16(dst, at, F16.fromFloat(d));
    for (int j = 0; j < BlockFormat.BLOCK_ELEMENTS; j++)
      dst.put(at + 2 + j, (byte) roundHalfAway(x[from + j] * id));
  }

  /** C's {@code roundf} (halfway cases away from zero) followed by Java's (int) conversion. */
  public static int roundHalfAway(float v) {
    double r = Math.floor(Math.abs((double) v) + 0.5);
    return (int) (v < 0 ? -r : r);
  }

  @Override
  public void quantizeQ8_0(
      ByteBuffer src, long srcOffset, DType srcType, ByteBuffer dst, long dstOffset, long n) {
    long s0 = srcOffset / srcType.byteSize();
    float[] block = new float[BlockFormat.BLOCK_ELEMENTS];
    for (long b = 0; b < n / BlockFormat.BLOCK_ELEMENTS; b++) {
      for (int j = 0; j < block.length; j++)
        block[j] = load(src, srcType, s0 + b * block.length + j);
      quantizeQ8_0Block(block, 0, dst, Math.toIntExact(dst.position() + dstOffset + b * 34));
    }
  }

  @Override
  public void dequantize(
      ByteBuffer src,
      long srcOffset,
      BlockFormat format,
      ByteBuffer dst,
      long dstOffset,
      DType dstType,
      long n) {
    long d0 = dstOffset / dstType.byteSize();
    for (long b = 0; b < n / BlockFormat.BLOCK_ELEMENTS; b++) {
      int at = Math.toIntExact(src.position() + srcOffset + b * format.blockBytes());
      float d = F16.toFloat(le16(src, at));
      long out = d0 + b * BlockFormat.BLOCK_ELEMENTS;
      if (format == BlockFormat.Q8_0) {
        for (int j = 0; j < 32; j++) store(dst, dstType, out + j, src.get(at + 2 + j) * d);
      } else {
        for (int j = 0; j < 16; j++) {
          int q = src.get(at + 2 + j) & 0xff;
          store(dst, dstType, out + j, ((q & 0x0f) - 8) * d);
          store(dst, dstType, out + j + 16, ((q >>> 4) - 8) * d);
        }
      }
    }
  }

  @Override
  public void dot3(
      ByteBuffer x,
      long xOffset,
      DType xType,
      ByteBuffer y,
      long yOffset,
      DType yType,
      long n,
      double[] result) {
    long x0 = xOffset / xType.byteSize();
    long y0 = yOffset / yType.byteSize();
    double txy = 0.0, txx = 0.0, tyy = 0.0;
    float[] lxy = new float[16], lxx = new float[16], lyy = new float[16];
    for (long block = 0; block < n; block += Kernels.DOT_BLOCK) {
      long end = Math.min(n, block + Kernels.DOT_BLOCK);
      java.util.Arrays.fill(lxy, 0f);
      java.util.Arrays.fill(lxx, 0f);
      java.util.Arrays.fill(lyy, 0f);
      for (long j = block; j < end; j += 32) {
        for (int lane = 0; lane < 16; lane++) {
          for (int odd = 1; odd >= 0; odd--) {
            long e = j + 2L * lane + odd;
            float a = e < n ? load(x, xType, x0 + e) : 0f;
            float b = e < n ? load(y, yType, y0 + e) : 0f;
            lxy[lane] = Math.fma(a, b, lxy[lane]);
            lxx[lane] = Math.fma(a, a, lxx[lane]);
            lyy[lane] = Math.fma(b, b, lyy[lane]);
          }
        }
      }
      double sxy = 0.0, sxx = 0.0, syy = 0.0;
      for (int lane = 0; lane < 16; lane++) {
        sxy += lxy[lane];
        sxx += lxx[lane];
        syy += lyy[lane];
      }
      txy += sxy;
      txx += sxx;
      tyy += syy;
    }
    result[0] = txy;
    result[1] = txx;
    result[2] = tyy;
  }

  /** {@code |x|}'s bit pattern: orders like the magnitude (NaN magnitudes above infinity). */
  static int absBits(float x) {
    return Float.floatToRawIntBits(x) & 0x7FFFFFFF;
  }

  @Override
  public void magnitudeHistogramHigh(float[] values, int n, long[] histogram) {
    for (int i = 0; i < n; i++) histogram[absBits(values[i]) >>> 16]++;
  }

  @Override
  public void magnitudeHistogramLow(float[] values, int n, int high, long[] histogram) {
    for (int i = 0; i < n; i++) {
      int bits = absBits(values[i]);
      if (bits >>> 16 == high) histogram[bits & 0xFFFF]++;
    }
  }

  @Override
  public void taskVector(
      ByteBuffer x, long xOffset, DType xType, DType roundType, float[] b, float[] d, int n) {
    long x0 = xOffset / xType.byteSize();
    for (int i = 0; i < n; i++) {
      float v = load(x, xType, x0 + i);
      if (xType != roundType) {
        if (roundType == DType.BF16) {
          v = Bf16.toFloat(Bf16.fromFloat(v));
        } else if (roundType == DType.F16) {
          v = F16.toFloat(F16.fromFloat(v));
        }
      }
      d[i] = v - b[i];
    }
  }

  @Override
  public void magnitudeMask(
      float[] values,
      int n,
      int keepBits,
      long keepEqual,
      int dropBits,
      long dropEqual,
      long[] seen) {
    for (int i = 0; i < n; i++) {
      int bits = absBits(values[i]);
      boolean kept = inTop(bits, keepBits, keepEqual, seen, 0);
      boolean dropped = inTop(bits, dropBits, dropEqual, seen, 1);
      if (!kept || dropped) values[i] = 0f;
    }
  }

  /**
   * One threshold's decision for the next element in index order, counting equal elements in
   * seen[slot].
   */
  private static boolean inTop(int bits, int threshold, long equalKept, long[] seen, int slot) {
    if (bits > threshold) return true;
    if (bits == threshold && seen[slot] < equalKept) {
      seen[slot]++;
      return true;
    }
    return false;
  }

  @Override
  public void philoxUniforms(long seed, long streamHash, long first, float[] out, int n) {
    Philox.of(seed, streamHash).uniforms(first, n, out);
  }

  @Override
  public void bernoulliKeep(
      long seed, long streamHash, long first, double p, float[] values, int n) {
    float[] u = new float[n];
    Philox.of(seed, streamHash).uniforms(first, n, u);
    for (int i = 0; i < n; i++) {
      if (!(u[i] < p)) values[i] = 0f;
    }
  }

  @Override
  public void gram(
      ByteBuffer[] inputs, DType[] types, ByteBuffer base, DType baseType, long n, double[] acc) {
    int count = inputs.length;
    float[] x = new float[count];
    for (long e = 0; e < n; e++) {
      float b = base != null ? load(base, baseType, e) : 0f;
      for (int i = 0; i < count; i++) {
        float v = load(inputs[i], types[i], e);
        x[i] = base != null ? v - b : v;
      }
      int k = 0;
      for (int i = 0; i < count; i++) {
        double xi = x[i];
        for (int j = i; j < count; j++) acc[k++] += xi * x[j];
      }
    }
  }

  @Override
  public void dellaMask(
      long seed,
      long streamHash,
      long first,
      double density,
      double epsilon,
      float[] values,
      int n,
      int rowLength,
      long[] keys,
      float[] uniforms) {
    int[] counts = new int[DELLA_RADIX];
    Philox philox = Philox.of(seed, streamHash);
    for (int start = 0; start < n; start += rowLength) {
      philox.uniforms(first + start, rowLength, uniforms);
      dellaRow(values, start, rowLength, uniforms, density, epsilon, keys, counts);
    }
  }

  /** Buckets of one radix digit of {@link #dellaRow}'s magnitude sort (8 bits). */
  static final int DELLA_RADIX = 256;

  /**
   * DELLA's magnitude-ranked drop over one row {@code d[start..start+row)} with that row's uniforms
   * {@code u[0..row)}: ascending rank r (0-based, ties by index) of |d|, keep probability {@code p
   * = (density - epsilon) + 2 epsilon r / (row - 1)} (r = 0 for a one-element row), kept iff {@code
   * u < p}.
   *
   * <p>The ranks come from a stable least-significant-digit radix sort of the 31 magnitude bits,
   * four passes of 8 bits (a pass whose digit is the same for the whole row is skipped): elements
   * start in index order, so equal magnitudes stay in index order, as the definition asks. It gives
   * the ranks of a comparison sort of {@code (magnitude, index)} in linear time.
   *
   * @param keys scratch of at least {@code 2 * row} longs
   * @param counts scratch of at least {@link #DELLA_RADIX} ints
   */
  static void dellaRow(
      float[] d,
      int start,
      int row,
      float[] u,
      double density,
      double epsilon,
      long[] keys,
      int[] counts) {
    int from = 0; // keys[from..from+row) holds the current order; the other half is the target
    for (int j = 0; j < row; j++) {
      keys[j] = ((long) (Float.floatToRawIntBits(d[start + j]) & 0x7FFFFFFF) << 32) | j;
    }
    for (int shift = 32; shift < 63; shift += 8) {
      Arrays.fill(counts, 0, DELLA_RADIX, 0);
      for (int i = from; i < from + row; i++) {
        counts[(int) (keys[i] >>> shift) & (DELLA_RADIX - 1)]++;
      }
      if (counts[(int) (keys[from] >>> shift) & (DELLA_RADIX - 1)] == row) {
        continue; // one digit: no move
      }
      int sum = 0;
      for (int b = 0; b < DELLA_RADIX; b++) {
        int c = counts[b];
        counts[b] = sum;
        sum += c;
      }
      int to = row - from; // 0 or row
      for (int i = from; i < from + row; i++) {
        long k = keys[i];
        keys[to + counts[(int) (k >>> shift) & (DELLA_RADIX - 1)]++] = k;
      }
      from = to;
    }
    double low = density - epsilon;
    for (int r = 0; r < row; r++) {
      int j = (int) keys[from + r];
      double p = row > 1 ? low + 2 * epsilon * r / (row - 1) : low;
      if (!(u[j] < p)) d[start + j] = 0f;
    }
  }

  @Override
  public void disjointMerge(
      float[] w,
      int stride,
      int models,
      float[] weights,
      int n,
      boolean normalize,
      float[] base,
      float lambda,
      float[] out) {
    for (int i = 0; i < n; i++) {
      float sum = 0f;
      for (int k = 0; k < models; k++) sum += w[k * stride + i];
      boolean positive = sum >= 0f;
      float mixed = 0f;
      float divisor = 0f;
      for (int k = 0; k < models; k++) {
        float v = w[k * stride + i];
        if (positive ? v > 0f : v < 0f) {
          mixed += v;
          divisor += weights[k];
        }
      }
      if (normalize) {
        if (divisor == 0f) divisor = 1f;
        mixed /= divisor;
      }
      if (lambda != 1f) mixed *= lambda;
      out[i] = base[i] + mixed;
    }
  }

  @Override
  public void plainMerge(
      float[] w,
      int stride,
      int models,
      int n,
      float divisor,
      float[] base,
      float lambda,
      float[] out) {
    for (int i = 0; i < n; i++) {
      float mixed = 0f;
      for (int k = 0; k < models; k++) mixed += w[k * stride + i];
      if (divisor != 1f) mixed /= divisor;
      if (lambda != 1f) mixed *= lambda;
      out[i] = base[i] + mixed;
    }
  }

  /**
   * arcee_fusion's importance of one element (amalgam.h contract point 9): {@code m = |b - a|} (the
   * sign bit cleared, so a NaN too) if that is a NaN, else {@code m * kl}. The explicit NaN case
   * keeps the bits independent of which operand of a multiply the JIT puts first.
   */
  public static float fusionImportance(float a, float b, float kl) {
    float m = Float.intBitsToFloat(Float.floatToRawIntBits(b - a) & 0x7fffffff);
    return m != m ? m : m * kl;
  }

  /**
   * An int whose signed order is the float's order (NaNs with the sign bit set first, clear last).
   */
  public static int sortableKey(float f) {
    int bits = Float.floatToRawIntBits(f);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  /**
   * nearswap of one element (amalgam.h contract point 9): {@code w = t / max(|b - x|, 1e-6f)},
   * clamped to [0, 1], then {@code fma(w, x, (1 - w) * b)}, or {@code w} where it is a NaN. The
   * comparisons are Math.max and Math.min written out (a NaN passes, -0 becomes +0), so no NaN
   * payload depends on the JIT's choice of instructions.
   */
  public static float nearSwap(float b, float x, float t) {
    float distance = Float.intBitsToFloat(Float.floatToRawIntBits(b - x) & 0x7fffffff);
    float m = distance < NEARSWAP_MIN_DISTANCE ? NEARSWAP_MIN_DISTANCE : distance;
    float w = t / m;
    w = (w < 1f || w != w) ? w : 1f;
    w = (w > 0f || w != w) ? w : 0f;
    return w != w ? w : Math.fma(w, x, (1f - w) * b);
  }

  /** mergekit's floor on nearswap's distance, so equal elements take {@code w = 1}. */
  public static final float NEARSWAP_MIN_DISTANCE = 1e-6f;

  @Override
  public void fusionHistogramHigh(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      long[] histogram) {
    long row = first / rowLength;
    long column = first % rowLength;
    for (int i = 0; i < n; i++, column++) {
      if (column == rowLength) {
        row++;
        column = 0;
      }
      float imp = fusionImportance(load(a, aType, i), load(b, bType, i), kl[(int) row]);
      histogram[sortableKey(imp) >>> 16]++;
    }
  }

  @Override
  public void fusionHistogramLow(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      int[] buckets,
      long[] histograms) {
    long row = first / rowLength;
    long column = first % rowLength;
    for (int i = 0; i < n; i++, column++) {
      if (column == rowLength) {
        row++;
        column = 0;
      }
      int key = sortableKey(fusionImportance(load(a, aType, i), load(b, bType, i), kl[(int) row]));
      for (int j = 0; j < buckets.length; j++) {
        if (buckets[j] == key >>> 16) histograms[j * Kernels.MAGNITUDE_BUCKETS + (key & 0xffff)]++;
      }
    }
  }

  @Override
  public void fusionSelect(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      float threshold,
      ByteBuffer out,
      DType outType) {
    long row = first / rowLength;
    long column = first % rowLength;
    for (int i = 0; i < n; i++, column++) {
      if (column == rowLength) {
        row++;
        column = 0;
      }
      float x = load(a, aType, i);
      float y = load(b, bType, i);
      float imp = fusionImportance(x, y, kl[(int) row]);
      store(out, outType, i, imp >= threshold ? x + (y - x) : x);
    }
  }

  @Override
  public void nearSwap(
      ByteBuffer base,
      long baseOffset,
      DType baseType,
      ByteBuffer other,
      long otherOffset,
      DType otherType,
      float t,
      ByteBuffer out,
      long outOffset,
      DType outType,
      long n,
      int flags) {
    long b0 = baseOffset / baseType.byteSize();
    long x0 = otherOffset / otherType.byteSize();
    long o0 = outOffset / outType.byteSize();
    for (long i = 0; i < n; i++) {
      store(
          out,
          outType,
          o0 + i,
          nearSwap(load(base, baseType, b0 + i), load(other, otherType, x0 + i), t));
    }
  }

  /** Java's {@code floatToIntBits} of every NaN: the largest SCE key, above +inf's. */
  static final int SCE_NAN_KEY = 0x7FC00000;

  /** mergekit's floor of the SCE divisor. */
  static final double SCE_WEIGHT_FLOOR = 1e-6;

  /**
   * The f32 population variance of element {@code i}'s deltas across the models, as the sortable
   * bits SCE ranks: {@code floatToIntBits} maps every NaN to {@link #SCE_NAN_KEY}, above +inf, and
   * non-negative floats order like their bits. Leaves the deltas in {@code delta}.
   */
  static int sceVarianceKey(
      float[] x, int stride, int models, float[] base, int i, double[] delta) {
    double mean = 0;
    for (int k = 0; k < models; k++) {
      delta[k] = (double) x[k * stride + i] - base[i];
      mean += delta[k];
    }
    mean /= models;
    double variance = 0;
    for (int k = 0; k < models; k++) variance += (delta[k] - mean) * (delta[k] - mean);
    return Float.floatToIntBits((float) (variance / models));
  }

  /**
   * Whether the SCE selection keeps element {@code i}, the next in element order: a negative
   * threshold keeps all and one above {@link #SCE_NAN_KEY} none, without computing the key; the key
   * is read from {@code keys} unless that is null.
   */
  private static boolean sceKeeps(
      float[] x,
      int stride,
      int models,
      float[] base,
      int[] keys,
      int i,
      int threshold,
      long equalKept,
      long[] seen,
      double[] delta) {
    if (threshold < 0) return true;
    if (threshold > SCE_NAN_KEY) return false;
    int key = keys != null ? keys[i] : sceVarianceKey(x, stride, models, base, i, delta);
    if (key > threshold) return true;
    if (key == threshold && seen[0] < equalKept) {
      seen[0]++;
      return true;
    }
    return false;
  }

  @Override
  public void sceVarianceKeys(float[] x, int stride, int models, float[] base, int n, int[] keys) {
    double[] delta = new double[models];
    for (int i = 0; i < n; i++) keys[i] = sceVarianceKey(x, stride, models, base, i, delta);
  }

  @Override
  public void sceHistogramHigh(
      float[] x,
      int stride,
      int models,
      float[] base,
      int n,
      long[] histogram,
      long[] nonzero,
      int[] keys) {
    double[] delta = new double[models];
    for (int i = 0; i < n; i++) {
      int key = sceVarianceKey(x, stride, models, base, i, delta);
      if (keys != null) keys[i] = key;
      histogram[key >>> 16]++;
      if (key != 0) nonzero[0]++;
    }
  }

  @Override
  public void sceHistogramLow(
      float[] x, int stride, int models, float[] base, int n, int high, long[] histogram) {
    double[] delta = new double[models];
    for (int i = 0; i < n; i++) {
      int key = sceVarianceKey(x, stride, models, base, i, delta);
      if (key >>> 16 == high) histogram[key & 0xFFFF]++;
    }
  }

  @Override
  public void sceSquareSums(
      float[] x,
      int stride,
      int models,
      float[] base,
      int[] keys,
      int n,
      int threshold,
      long equalKept,
      long[] seen,
      double[] sums) {
    double[] delta = new double[models];
    for (int i = 0; i < n; i++) {
      // -0.0 for a dropped element: the same sums as skipping it (x + -0.0 is x), as the kernels
      // add
      boolean kept = sceKeeps(x, stride, models, base, keys, i, threshold, equalKept, seen, delta);
      for (int k = 0; k < models; k++) {
        double d = (double) x[k * stride + i] - base[i];
        sums[k] += kept ? d * d : -0.0;
      }
    }
  }

  @Override
  public void sceMerge(
      float[] x,
      int stride,
      int models,
      float[] base,
      int[] keys,
      int n,
      int threshold,
      long equalKept,
      long[] seen,
      double[] weights,
      float[] out) {
    double[] delta = new double[models];
    for (int i = 0; i < n; i++) {
      double merged = 0;
      if (sceKeeps(x, stride, models, base, keys, i, threshold, equalKept, seen, delta)) {
        for (int k = 0; k < models; k++) delta[k] = (double) x[k * stride + i] - base[i];
        merged = sceCombine(delta, weights);
      }
      out[i] = (float) (base[i] + merged);
    }
  }

  /** The erased, weighted average of one element's deltas (TIES sign consensus, "sum"). */
  private static double sceCombine(double[] delta, double[] weights) {
    double total = 0;
    for (double d : delta) total += d;
    boolean positive = total >= 0;
    double numerator = 0;
    double divisor = 0;
    for (int i = 0; i < delta.length; i++) {
      if (positive ? delta[i] > 0 : delta[i] < 0) {
        numerator += weights[i] * delta[i];
        divisor += weights[i];
      }
    }
    return numerator / Math.max(divisor, SCE_WEIGHT_FLOOR);
  }
}
