package dev.amalgam.kernels;

import java.nio.charset.StandardCharsets;

/**
 * Philox4x32-10, the counter-based generator of Salmon et al. ("Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011), and the way Amalgam turns it into per-element uniforms. Because every random
 * number is a pure function of (seed, tensor name, stream, element index), a random mask is the
 * same at any thread count, in any tensor order, in any number of passes over the tensor, and later
 * on a GPU or in native code.
 *
 * <p><b>The block function</b> (matches Random123's {@code philox4x32_R(10, ctr, key)}): counter
 * words {@code c0..c3}, key words {@code k0, k1}, all uint32. Ten rounds; each round computes the
 * 64-bit products {@code p0 = 0xD2511F53 * c0} and {@code p1 = 0xCD9E8D57 * c2} and sets {@code
 * (c0, c1, c2, c3) = (hi(p1) ^ c1 ^ k0, lo(p1), hi(p0) ^ c3 ^ k1, lo(p0))}; between rounds the key
 * is bumped by {@code k0 += 0x9E3779B9, k1 += 0xBB67AE85} (the first round uses the key as given).
 *
 * <p><b>Amalgam's keying</b> (a native or GPU port must reproduce this exactly):
 *
 * <ul>
 *   <li>key: {@code k0 = low 32 bits of the seed}, {@code k1 = high 32 bits} (the seed is {@code
 *       --random-seed}, 0 when not given);
 *   <li>stream hash {@code h}: 64-bit FNV-1a (offset basis 0xCBF29CE484222325, prime 0x100000001B3)
 *       over the tensor name's UTF-8 bytes, followed by the 4 bytes of the stream number in
 *       little-endian order (the stream tells apart the masks of different inputs of one tensor:
 *       Amalgam uses the input's index in merge order);
 *   <li>element {@code e} lies in block {@code b = e / 4} at lane {@code e % 4}; the counter of
 *       block {@code b} is {@code (c0, c1, c2, c3) = (low32(b), high32(b), low32(h), high32(h))};
 *   <li>the lane's output word {@code x} gives the uniform {@code u = (x >>> 8) * 2^-24}, exactly
 *       representable in a float, in [0, 1);
 *   <li>a Bernoulli(p) draw keeps the element iff {@code u < p}, comparing in double precision.
 * </ul>
 */
public final class Philox {
  private static final int M0 = 0xD2511F53;
  private static final int M1 = 0xCD9E8D57;
  private static final int W0 = 0x9E3779B9;
  private static final int W1 = 0xBB67AE85;
  private static final long FNV_OFFSET = 0xCBF29CE484222325L;
  private static final long FNV_PRIME = 0x100000001B3L;
  private static final float UNIT = 0x1p-24f;

  private final int key0;
  private final int key1;
  private final int hash0;
  private final int hash1;

  private Philox(long seed, long streamHash) {
    this.key0 = (int) seed;
    this.key1 = (int) (seed >>> 32);
    this.hash0 = (int) streamHash;
    this.hash1 = (int) (streamHash >>> 32);
  }

  /**
   * The uniforms of one tensor's stream: keyed by the seed, the tensor's name and a stream number.
   */
  public static Philox forTensor(long seed, String tensorName, int stream) {
    return new Philox(seed, streamHash(tensorName, stream));
  }

  /**
   * The uniforms of a stream given by its hash ({@link #streamHash}); the kernels' Java reference
   * uses it.
   */
  static Philox of(long seed, long streamHash) {
    return new Philox(seed, streamHash);
  }

  /**
   * The stream hash defined in the class comment: FNV-1a 64 of the name's UTF-8 bytes, then the
   * stream's.
   */
  public static long streamHash(String tensorName, int stream) {
    long h = FNV_OFFSET;
    for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xFF)) * FNV_PRIME;
    }
    for (int i = 0; i < 4; i++) {
      h = (h ^ ((stream >>> (8 * i)) & 0xFF)) * FNV_PRIME;
    }
    return h;
  }

  /**
   * The raw block function, Philox4x32 with 10 rounds: Random123's known-answer vectors check it.
   *
   * @param counter four uint32 counter words (not modified)
   * @param key two uint32 key words
   * @return the four output words
   */
  public static int[] block(int[] counter, int[] key) {
    int[] out = new int[4];
    block(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
    return out;
  }

  private static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
    for (int round = 0; round < 10; round++) {
      if (round > 0) {
        k0 += W0;
        k1 += W1;
      }
      long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
      long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
      int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
      int n1 = (int) p1;
      int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
      int n3 = (int) p0;
      c0 = n0;
      c1 = n1;
      c2 = n2;
      c3 = n3;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }

  /**
   * Uniforms in [0, 1) for elements {@code [first, first + count)} of the stream, into {@code
   * dst[0..count)}: the same values whatever {@code first} and {@code count} are, so chunked passes
   * agree element by element.
   */
  public void uniforms(long first, int count, float[] dst) {
    if (first < 0 || count < 0)
      throw new IllegalArgumentException("negative range " + first + ", " + count);
    int[] words = new int[4];
    long block = -1;
    for (int i = 0; i < count; i++) {
      long e = first + i;
      long b = e >>> 2;
      if (b != block) {
        block((int) b, (int) (b >>> 32), hash0, hash1, key0, key1, words);
        block = b;
      }
      dst[i] = (words[(int) (e & 3)] >>> 8) * UNIT;
    }
  }

  /** The uniform of one element (slow; for tests and references). */
  public float uniform(long element) {
    float[] one = new float[1];
    uniforms(element, 1, one);
    return one[0];
  }
}
