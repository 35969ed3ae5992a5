package dev.amalgam.kernels;

/**
 * The ggml block formats the kernels decode (docs/formats.md §2.4): 32 elements per block, an f16
 * scale d first. Kept here rather than reusing {@code io.gguf.GgmlType} so that the kernels do not
 * depend on the GGUF reader.
 */
public enum BlockFormat {
  /**
   * f16 d; 16 bytes of nibbles: x[j] = (low nibble of qs[j] - 8)·d, x[j+16] = (high nibble - 8)·d.
   */
  Q4_0(2, 18),
  /** f16 d; 32 int8 qs: x[j] = qs[j]·d. */
  Q8_0(8, 34);

  /** Elements per block of every format here (amalgam.h AMALGAM_QUANT_BLOCK). */
  public static final int BLOCK_ELEMENTS = 32;

  private final int ggmlId;
  private final int blockBytes;

  BlockFormat(int ggmlId, int blockBytes) {
    this.ggmlId = ggmlId;
    this.blockBytes = blockBytes;
  }

  /** The ggml type id, which is also the format's code in the native ABI. */
  public int ggmlId() {
    return ggmlId;
  }

  /** Bytes per block of {@link #BLOCK_ELEMENTS} elements. */
  public int blockBytes() {
    return blockBytes;
  }

  /**
   * Bytes of {@code n} elements, a whole number of blocks.
   *
   * @throws IllegalArgumentException if {@code n} is negative or not a multiple of {@link
   *     #BLOCK_ELEMENTS}
   * @throws ArithmeticException if the size overflows a long
   */
  public long byteCount(long n) {
    if (n < 0 || n % BLOCK_ELEMENTS != 0) {
      throw new IllegalArgumentException(
          n + " elements are not a whole number of " + this + " blocks of " + BLOCK_ELEMENTS);
    }
    return Math.multiplyExact(n / BLOCK_ELEMENTS, (long) blockBytes);
  }
}
