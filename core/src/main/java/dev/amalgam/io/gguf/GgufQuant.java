package dev.amalgam.io.gguf;

import dev.amalgam.kernels.JavaKernels;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.F16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * ggml block formats to and from f32, following ggml's C reference code (ggml-quants.c {@code
 * dequantize_row_*}, {@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}) so that results
 * match llama.cpp: each product is rounded to f32 in the same order, without fused multiply-add.
 *
 * <p>Block layouts (little-endian, f16 = IEEE binary16):
 *
 * <ul>
 *   <li>Q8_0, 32 elements in 34 bytes: f16 d; i8 qs[32]. x[j] = qs[j]·d.
 *   <li>Q4_0, 32 elements in 18 bytes: f16 d; u8 qs[16]. x[j] = (low nibble of qs[j] − 8)·d,
 *       x[j+16] = (high nibble − 8)·d.
 *   <li>Q4_K, 256 elements in 144 bytes: f16 d; f16 dmin; u8 scales[12] (eight 6-bit scale/min
 *       pairs); u8 qs[128]. Each 64 elements use two pairs: the low nibbles of 32 bytes of qs, then
 *       their high nibbles.
 *   <li>Q6_K, 256 elements in 210 bytes: u8 ql[128] (low 4 bits); u8 qh[64] (high 2 bits); i8
 *       scales[16]; f16 d.
 * </ul>
 *
 * <p>Buffers are read and written as little-endian whatever their {@link ByteBuffer#order()}; like
 * NIO's relative bulk operations, the methods read from or write at the buffer's position and
 * advance it.
 */
public final class GgufQuant {
  private GgufQuant() {}

  /** Whether {@link #dequantize} can decode this type. */
  public static boolean canDequantize(GgmlType type) {
    return switch (type) {
      case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K -> true;
      default -> false;
    };
  }

  /**
   * Decodes {@code count} elements of {@code type} from {@code src} into {@code dst[dstOffset ..]}.
   *
   * @param count a whole number of the type's blocks
   * @throws UnsupportedOperationException if the type cannot be dequantized ({@link
   *     #canDequantize})
   * @throws IllegalArgumentException if {@code count} is not a whole number of blocks
   * @throws java.nio.BufferUnderflowException if {@code src} holds fewer bytes
   */
  public static void dequantize(
      GgmlType type, ByteBuffer src, float[] dst, int dstOffset, int count) {
    switch (type) {
      case F32 -> {
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        ByteBuffer b = take(src, 4L * count);
        b.asFloatBuffer().get(dst, dstOffset, count);
      }
      case F16 -> {
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        ByteBuffer b = take(src, 2L * count);
        for (int i = 0; i < count; i++) dst[dstOffset + i] = F16.toFloat(b.getShort(2 * i));
      }
      case BF16 -> {
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        ByteBuffer b = take(src, 2L * count);
        for (int i = 0; i < count; i++) dst[dstOffset + i] = Bf16.toFloat(b.getShort(2 * i));
      }
      case Q8_0 -> dequantizeQ8_0(src, dst, dstOffset, count);
      case Q4_0 -> dequantizeQ4_0(src, dst, dstOffset, count);
      case Q4_K -> dequantizeQ4_K(src, dst, dstOffset, count);
      case Q6_K -> dequantizeQ6_K(src, dst, dstOffset, count);
      default -> throw new UnsupportedOperationException("type " + type + " cannot be dequantized");
    }
  }

  /** Decodes {@code count} (a multiple of 32) Q8_0 elements: x[j] = qs[j]·d. */
  public static void dequantizeQ8_0(ByteBuffer src, float[] dst, int dstOffset, int count) {
    ByteBuffer b = blocks(GgmlType.Q8_0, src, dst, dstOffset, count);
    int out = dstOffset;
    for (int base = 0; base < b.limit(); base += 34) {
      float d = F16.toFloat(b.getShort(base));
      for (int j = 0; j < 32; j++) dst[out++] = b.get(base + 2 + j) * d;
    }
  }

  /** Decodes {@code count} (a multiple of 32) Q4_0 elements: x = (nibble − 8)·d. */
  public static void dequantizeQ4_0(ByteBuffer src, float[] dst, int dstOffset, int count) {
    ByteBuffer b = blocks(GgmlType.Q4_0, src, dst, dstOffset, count);
    int out = dstOffset;
    for (int base = 0; base < b.limit(); base += 18) {
      float d = F16.toFloat(b.getShort(base));
      for (int j = 0; j < 16; j++) {
        int q = b.get(base + 2 + j) & 0xFF;
        dst[out + j] = ((q & 0x0F) - 8) * d;
        dst[out + j + 16] = ((q >>> 4) - 8) * d;
      }
      out += 32;
    }
  }

  /**
   * Decodes {@code count} (a multiple of 256) Q4_K elements. For the 64 elements {@code [64i, 64i +
   * 64)} the pairs {@code 2i} and {@code 2i + 1} give (sc, m); x = (d·sc)·nibble − dmin·m.
   */
  public static void dequantizeQ4_K(ByteBuffer src, float[] dst, int dstOffset, int count) {
    ByteBuffer b = blocks(GgmlType.Q4_K, src, dst, dstOffset, count);
    int out = dstOffset;
    byte[] scales = new byte[12];
    for (int base = 0; base < b.limit(); base += 144) {
      float d = F16.toFloat(b.getShort(base));
      float dmin = F16.toFloat(b.getShort(base + 2));
      b.get(base + 4, scales);
      int qs = base + 16;
      for (int group = 0; group < 4; group++) {
        int pair = 2 * group;
        float d1 = d * scaleK4(scales, pair);
        float m1 = dmin * minK4(scales, pair);
        float d2 = d * scaleK4(scales, pair + 1);
        float m2 = dmin * minK4(scales, pair + 1);
        for (int l = 0; l < 32; l++) dst[out + l] = d1 * (b.get(qs + l) & 0x0F) - m1;
        for (int l = 0; l < 32; l++) dst[out + 32 + l] = d2 * ((b.get(qs + l) & 0xFF) >>> 4) - m2;
        out += 64;
        qs += 32;
      }
    }
  }

  /**
   * Decodes {@code count} (a multiple of 256) Q6_K elements. Each half block of 128 elements takes
   * 64 bytes of ql, 32 of qh and 8 scales; x = (d·scale)·(q − 32) with q the 4 low bits from ql and
   * 2 high bits from qh.
   */
  public static void dequantizeQ6_K(ByteBuffer src, float[] dst, int dstOffset, int count) {
    ByteBuffer b = blocks(GgmlType.Q6_K, src, dst, dstOffset, count);
    int out = dstOffset;
    for (int base = 0; base < b.limit(); base += 210) {
      float d = F16.toFloat(b.getShort(base + 208));
      for (int half = 0; half < 2; half++) {
        int ql = base + 64 * half;
        int qh = base + 128 + 32 * half;
        int sc = base + 192 + 8 * half;
        for (int l = 0; l < 32; l++) {
          int is = l / 16;
          int low0 = b.get(ql + l) & 0xFF;
          int low32 = b.get(ql + l + 32) & 0xFF;
          int high = b.get(qh + l) & 0xFF;
          int q1 = ((low0 & 0x0F) | ((high & 3) << 4)) - 32;
          int q2 = ((low32 & 0x0F) | (((high >>> 2) & 3) << 4)) - 32;
          int q3 = ((low0 >>> 4) | (((high >>> 4) & 3) << 4)) - 32;
          int q4 = ((low32 >>> 4) | (((high >>> 6) & 3) << 4)) - 32;
          dst[out + l] = d * b.get(sc + is) * q1;
          dst[out + l + 32] = d * b.get(sc + is + 2) * q2;
          dst[out + l + 64] = d * b.get(sc + is + 4) * q3;
          dst[out + l + 96] = d * b.get(sc + is + 6) * q4;
        }
        out += 128;
      }
    }
  }

  /**
   * Encodes {@code count} (a multiple of 32) floats as Q8_0 blocks with ggml's reference quantizer:
   * amax = max |x|, d = amax / 127, id = 1/d (0 when d is 0, computed from the f32 d, not the
   * stored f16), d stored as f16, and qs[j] = x[j]·id rounded half away from zero. Writes {@code
   * count / 32 * 34} bytes. Each block is {@link JavaKernels#quantizeQ8_0Block}, which also defines
   * NaN and infinite blocks; {@code Kernels.quantizeQ8_0} gives the same bytes from f32, f16 or
   * bf16 buffers, natively.
   *
   * @throws java.nio.BufferOverflowException if {@code dst} has too little room (nothing is written
   *     then)
   */
  public static void quantizeQ8_0(float[] src, int srcOffset, int count, ByteBuffer dst) {
    ByteBuffer b = room(GgmlType.Q8_0, src, srcOffset, count, dst);
    int pos = 0;
    for (int in = srcOffset; in < srcOffset + count; in += 32) {
      JavaKernels.quantizeQ8_0Block(src, in, b, pos);
      pos += 34;
    }
  }

  /**
   * Encodes {@code count} (a multiple of 32) floats as Q4_0 blocks with ggml's reference quantizer:
   * m = the element of largest magnitude (with its sign), d = m / −8, id = 1/d (0 when d is 0), d
   * stored as f16, and q = min(15, (int8) (x·id + 8.5)). Writes {@code count / 32 * 18} bytes.
   *
   * @throws java.nio.BufferOverflowException if {@code dst} has too little room (nothing is written
   *     then)
   */
  public static void quantizeQ4_0(float[] src, int srcOffset, int count, ByteBuffer dst) {
    ByteBuffer b = room(GgmlType.Q4_0, src, srcOffset, count, dst);
    int pos = 0;
    for (int in = srcOffset; in < srcOffset + count; in += 32) {
      float amax = 0f;
      float max = 0f;
      for (int j = 0; j < 32; j++) {
        float v = src[in + j];
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          max = v;
        }
      }
      float d = max / -8f;
      float id = d != 0f ? 1f / d : 0f;
      b.putShort(pos, F16.fromFloat(d));
      for (int j = 0; j < 16; j++) {
        int lo = Math.min(15, truncToInt8(src[in + j] * id + 8.5f));
        int hi = Math.min(15, truncToInt8(src[in + 16 + j] * id + 8.5f));
        b.put(pos + 2 + j, (byte) (lo | (hi << 4)));
      }
      pos += 18;
    }
  }

  /** C's {@code roundf}: halfway cases away from zero. */
  static int roundHalfAway(float v) {
    return JavaKernels.roundHalfAway(v);
  }

  /** C's {@code (int8_t) f} for the values the Q4_0 quantizer produces: truncation toward zero. */
  private static int truncToInt8(float v) {
    return (byte) (int) v;
  }

  /** 6-bit scale number {@code j} (0-7) of a Q4_K block (ggml get_scale_min_k4). */
  private static int scaleK4(byte[] q, int j) {
    if (j < 4) return q[j] & 63;
    return (q[j + 4] & 0x0F) | (((q[j - 4] & 0xFF) >>> 6) << 4);
  }

  /** 6-bit min number {@code j} (0-7) of a Q4_K block. */
  private static int minK4(byte[] q, int j) {
    if (j < 4) return q[j + 4] & 63;
    return ((q[j + 4] & 0xFF) >>> 4) | (((q[j] & 0xFF) >>> 6) << 4);
  }

  /** Checks a dequantize call and takes its blocks' bytes from {@code src}. */
  private static ByteBuffer blocks(
      GgmlType type, ByteBuffer src, float[] dst, int dstOffset, int count) {
    Objects.checkFromIndexSize(dstOffset, count, dst.length);
    wholeBlocks(type, count);
    return take(src, type.byteCount(count));
  }

  /**
   * Checks a quantize call and returns a little-endian view of the bytes it will fill, advancing
   * {@code dst}.
   */
  private static ByteBuffer room(
      GgmlType type, float[] src, int srcOffset, int count, ByteBuffer dst) {
    Objects.checkFromIndexSize(srcOffset, count, src.length);
    wholeBlocks(type, count);
    int bytes = Math.toIntExact(type.byteCount(count));
    if (dst.remaining() < bytes) throw new java.nio.BufferOverflowException();
    ByteBuffer view = dst.slice(dst.position(), bytes).order(ByteOrder.LITTLE_ENDIAN);
    dst.position(dst.position() + bytes);
    return view;
  }

  private static void wholeBlocks(GgmlType type, int count) {
    if (count % type.blockElements() != 0) {
      throw new IllegalArgumentException(
          count
              + " elements are not a whole number of "
              + type
              + " blocks of "
              + type.blockElements());
    }
  }

  /**
   * A little-endian view of the next {@code bytes} bytes of {@code src}, advancing its position.
   */
  private static ByteBuffer take(ByteBuffer src, long bytes) {
    if (src.remaining() < bytes) throw new java.nio.BufferUnderflowException();
    ByteBuffer view = src.slice(src.position(), (int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    src.position(src.position() + (int) bytes);
    return view;
  }
}
