package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link RowPermutedSource} against a plain Java gather over random permutations, slices and chunk
 * limits.
 */
class RowPermutedSourceTest {
  /**
   * An in-memory source that hands out at most {@code maxSlice} elements per call and counts its
   * use.
   */
  static final class ArraySource implements TensorSource {
    final TensorInfo info;
    final byte[] data;
    final long maxSlice;
    int slices;
    int releases;

    ArraySource(TensorInfo info, byte[] data, long maxSlice) {
      this.info = info;
      this.data = data;
      this.maxSlice = maxSlice;
    }

    @Override
    public TensorInfo info() {
      return info;
    }

    @Override
    public long maxSliceElements() {
      return maxSlice;
    }

    @Override
    public ByteBuffer slice(long firstElement, long elementCount) {
      assertTrue(elementCount <= maxSlice, "source asked for " + elementCount + " > " + maxSlice);
      assertTrue(
          firstElement >= 0 && firstElement + elementCount <= info.elementCount(), "out of range");
      slices++;
      int e = info.dtype().byteSize();
      // A view inside a larger buffer, as mapped windows are: only position..limit may be read.
      ByteBuffer whole = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
      return whole
          .position((int) firstElement * e)
          .limit((int) (firstElement + elementCount) * e)
          .slice()
          .order(ByteOrder.LITTLE_ENDIAN)
          .asReadOnlyBuffer();
    }

    @Override
    public void release() {
      releases++;
    }

    @Override
    public void adviseWillNeed() {}
  }

  private static long[] randomPermutation(int n, Random random) {
    List<Long> rows = new ArrayList<>();
    for (long i = 0; i < n; i++) rows.add(i);
    Collections.shuffle(rows, random);
    return rows.stream().mapToLong(Long::longValue).toArray();
  }

  /** The reference: the bytes of elements [first, first + count) of the row-gathered tensor. */
  private static byte[] reference(
      byte[] data, long[] sourceRow, long rowLength, int elementBytes, long first, long count) {
    byte[] out = new byte[(int) (count * elementBytes)];
    for (long e = first; e < first + count; e++) {
      long row = e / rowLength;
      long col = e % rowLength;
      long src = (sourceRow[(int) row] * rowLength + col) * elementBytes;
      System.arraycopy(data, (int) src, out, (int) ((e - first) * elementBytes), elementBytes);
    }
    return out;
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  @Test
  void randomSlicesMatchThePlainGather() throws IOException {
    Random random = new Random(20240611);
    for (int round = 0; round < 40; round++) {
      DType dtype = List.of(DType.F32, DType.BF16, DType.F16).get(random.nextInt(3));
      int rows = 1 + random.nextInt(40);
      int rowLength = 1 + random.nextInt(70);
      long n = (long) rows * rowLength;
      byte[] data = new byte[(int) n * dtype.byteSize()];
      random.nextBytes(data);
      long maxSlice = 1 + random.nextInt((int) n + 5);
      TensorInfo info = new TensorInfo("t", dtype, new long[] {rows, rowLength});
      ArraySource source = new ArraySource(info, data, maxSlice);
      long[] perm = randomPermutation(rows, random);
      RowPermutedSource view = new RowPermutedSource(source, info, rowLength, r -> perm[(int) r]);
      assertEquals(Math.min(maxSlice, n), Math.min(view.maxSliceElements(), n));
      long limit = Math.min(view.maxSliceElements(), n);
      for (int s = 0; s < 30; s++) {
        long first = random.nextInt((int) n);
        long count = 1 + random.nextInt((int) Math.min(limit, n - first));
        ByteBuffer got = view.slice(first, count);
        assertEquals(ByteOrder.LITTLE_ENDIAN, got.order());
        assertTrue(got.isReadOnly());
        assertEquals(0, got.position());
        assertArrayEquals(
            reference(data, perm, rowLength, dtype.byteSize(), first, count),
            bytes(got),
            "round "
                + round
                + ": rows "
                + rows
                + " x "
                + rowLength
                + ", slice ["
                + first
                + ", +"
                + count
                + ")");
      }
      // Whole tensor in consecutive chunks (how merges and conversions read it), chunk size not a
      // row multiple.
      long chunk = 1 + random.nextInt((int) limit);
      byte[] all = new byte[data.length];
      for (long first = 0; first < n; first += chunk) {
        long c = Math.min(chunk, n - first);
        ByteBuffer b = view.slice(first, c);
        b.get(all, (int) first * dtype.byteSize(), b.remaining());
      }
      assertArrayEquals(
          reference(data, perm, rowLength, dtype.byteSize(), 0, n), all, "round " + round);
    }
  }

  @Test
  void vectorsPermuteSingleElements() throws IOException {
    byte[] data = new byte[16 * 4];
    ByteBuffer.wrap(data)
        .order(ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer()
        .put(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
    TensorInfo info = new TensorInfo("bias", DType.F32, new long[] {16});
    ArraySource source = new ArraySource(info, data, 1 << 20);
    RowPermutedSource view = new RowPermutedSource(source, info, 1, r -> 15 - r);
    ByteBuffer b = view.slice(3, 10);
    float[] got = new float[10];
    b.asFloatBuffer().get(got);
    assertArrayEquals(new float[] {12, 11, 10, 9, 8, 7, 6, 5, 4, 3}, got);
    view.release();
    assertEquals(1, source.releases, "release reaches the source");
    assertEquals(info, view.info());
  }

  @Test
  void badArgumentsAreRejected() throws IOException {
    TensorInfo info = new TensorInfo("q", DType.BF16, new long[] {4, 6});
    ArraySource source = new ArraySource(info, new byte[48], 1 << 20);
    assertThrows(
        IllegalArgumentException.class,
        () -> new RowPermutedSource(source, info, 5, r -> r),
        "row length must divide the elements");
    assertThrows(
        IllegalArgumentException.class, () -> new RowPermutedSource(source, info, 0, r -> r));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new RowPermutedSource(
                source, new TensorInfo("q", DType.F16, new long[] {4, 6}), 6, r -> r),
        "dtype must match the source");
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new RowPermutedSource(
                source, new TensorInfo("q", DType.BF16, new long[] {4, 5}), 5, r -> r),
        "element count must match the source");
    RowPermutedSource view = new RowPermutedSource(source, info, 6, r -> r);
    assertThrows(IndexOutOfBoundsException.class, () -> view.slice(20, 5));
    assertThrows(IndexOutOfBoundsException.class, () -> view.slice(-1, 2));
    RowPermutedSource broken = new RowPermutedSource(source, info, 6, r -> r + 1);
    assertThrows(
        IllegalStateException.class, () -> broken.slice(0, 24), "a row mapped outside the tensor");
    ArraySource small = new ArraySource(info, new byte[48], 4);
    RowPermutedSource limited = new RowPermutedSource(small, info, 6, r -> r);
    assertEquals(4, limited.maxSliceElements());
    assertThrows(IllegalArgumentException.class, () -> limited.slice(0, 5));
  }
}
