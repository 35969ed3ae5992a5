package dev.amalgam.convert;

/**
 * The row permutation between HF and GGUF layouts of the Llama query and key projections
 * (docs/formats.md §4.2).
 *
 * <p>HF stores each head's rows in rotate-half (NEOX) order: the first half of a head's rows are
 * the first elements of the rotary pairs, the second half the second elements. llama.cpp's LLAMA
 * rope pairs adjacent rows, so its converter interleaves the halves. For a matrix of {@code rows}
 * rows in {@code heads} heads of {@code headDim = rows / heads} rows each, with {@code half =
 * headDim / 2}:
 *
 * <pre>
 * GGUF row (h * headDim + 2j + i) = HF row (h * headDim + i * half + j),  i in {0, 1}, j in [0, half)
 * </pre>
 *
 * Columns are untouched. Queries use {@code heads = head_count}; keys use {@code heads =
 * head_count_kv} (with grouped-query attention K has fewer rows). Biases are permuted the same way,
 * as a matrix with one column.
 *
 * <p>Streaming: a converter does not need the whole tensor in memory. To write GGUF row {@code g}
 * it copies HF row {@link #ggufRowToHfRow(long) ggufRowToHfRow(g)} (and, reading GGUF, HF row
 * {@code f} comes from GGUF row {@link #hfRowToGgufRow(long) hfRowToGgufRow(f)}); rows of one head
 * lie within {@code headDim} consecutive rows, so reading a head at a time bounds the working set.
 * {@link #hfToGguf(byte[], long)} and friends permute whole in-memory arrays for tests and small
 * tensors.
 */
public final class QkPermutation {
  private final long rows;
  private final long heads;
  private final long headDim;
  private final long half;

  /**
   * A permutation of {@code rows} rows in {@code heads} heads.
   *
   * @throws IllegalArgumentException unless rows and heads are positive, heads divides rows and the
   *     head dimension is even
   */
  public QkPermutation(long rows, long heads) {
    if (rows <= 0 || heads <= 0) {
      throw new IllegalArgumentException(
          "rows (" + rows + ") and heads (" + heads + ") must be positive");
    }
    if (rows % heads != 0) {
      throw new IllegalArgumentException(rows + " rows do not split into " + heads + " heads");
    }
    this.rows = rows;
    this.heads = heads;
    this.headDim = rows / heads;
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException(
          "head dimension "
              + headDim
              + " ("
              + rows
              + " rows / "
              + heads
              + " heads) is odd; rotary pairs need an even head dimension");
    }
    this.half = headDim / 2;
  }

  /** Number of rows permuted. */
  public long rows() {
    return rows;
  }

  /** Number of heads the rows split into. */
  public long heads() {
    return heads;
  }

  /** Rows per head. */
  public long headDim() {
    return headDim;
  }

  /** The HF row stored at GGUF row {@code ggufRow}. */
  public long ggufRowToHfRow(long ggufRow) {
    checkRow(ggufRow);
    long h = ggufRow / headDim;
    long r = ggufRow % headDim;
    return h * headDim + (r % 2) * half + r / 2;
  }

  /** The GGUF row at which HF row {@code hfRow} is stored (inverse of {@link #ggufRowToHfRow}). */
  public long hfRowToGgufRow(long hfRow) {
    checkRow(hfRow);
    long h = hfRow / headDim;
    long r = hfRow % headDim;
    return h * headDim + 2 * (r % half) + r / half;
  }

  /**
   * Permutes a whole row-major matrix from HF to GGUF row order.
   *
   * @param hf the matrix, {@code rows * rowBytes} bytes
   * @param rowBytes bytes per row (columns times element size; for block-quantized data the bytes
   *     of a row)
   * @return a new array in GGUF row order
   */
  public byte[] hfToGguf(byte[] hf, long rowBytes) {
    return permute(hf, rowBytes, true);
  }

  /**
   * Permutes a whole row-major matrix from GGUF to HF row order (inverse of {@link
   * #hfToGguf(byte[], long)}).
   */
  public byte[] ggufToHf(byte[] gguf, long rowBytes) {
    return permute(gguf, rowBytes, false);
  }

  /** {@link #hfToGguf(byte[], long)} for floats, with {@code columns} floats per row. */
  public float[] hfToGguf(float[] hf, long columns) {
    return permute(hf, columns, true);
  }

  /** {@link #ggufToHf(byte[], long)} for floats, with {@code columns} floats per row. */
  public float[] ggufToHf(float[] gguf, long columns) {
    return permute(gguf, columns, false);
  }

  private byte[] permute(byte[] in, long rowBytes, boolean toGguf) {
    int row = checkArray(in.length, rowBytes);
    byte[] out = new byte[in.length];
    for (long target = 0; target < rows; target++) {
      long source = toGguf ? ggufRowToHfRow(target) : hfRowToGgufRow(target);
      System.arraycopy(in, (int) (source * row), out, (int) (target * row), row);
    }
    return out;
  }

  private float[] permute(float[] in, long columns, boolean toGguf) {
    int row = checkArray(in.length, columns);
    float[] out = new float[in.length];
    for (long target = 0; target < rows; target++) {
      long source = toGguf ? ggufRowToHfRow(target) : hfRowToGgufRow(target);
      System.arraycopy(in, (int) (source * row), out, (int) (target * row), row);
    }
    return out;
  }

  private int checkArray(long length, long rowLength) {
    if (rowLength <= 0)
      throw new IllegalArgumentException("row length " + rowLength + " must be positive");
    long expected;
    try {
      expected = Math.multiplyExact(rows, rowLength);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(rows + " rows of " + rowLength + " overflow", e);
    }
    if (expected != length) {
      throw new IllegalArgumentException(
          "array of " + length + " elements is not " + rows + " rows of " + rowLength);
    }
    return (int) rowLength;
  }

  private void checkRow(long row) {
    if (row < 0 || row >= rows) throw new IndexOutOfBoundsException("row " + row + " of " + rows);
  }

  @Override
  public String toString() {
    return "QkPermutation[rows=" + rows + ", heads=" + heads + ", headDim=" + headDim + "]";
  }
}
