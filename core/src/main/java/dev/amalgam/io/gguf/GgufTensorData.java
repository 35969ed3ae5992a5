package dev.amalgam.io.gguf;

import dev.amalgam.io.InputFile;
import dev.amalgam.io.StoredTensorData;
import dev.amalgam.kernels.BlockFormat;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Objects;

/**
 * One tensor of a {@link GgufFile}: its stored bytes ({@link #raw}) and its values decoded to f32
 * ({@link #readF32}), read by element range. See {@link StoredTensorData} for the read buffers,
 * releasing and thread-safety. Ranges are counted in elements ({@code ne[0]} fastest) and, for
 * block-quantized types, must start and end on block boundaries: a unit is one block.
 */
public final class GgufTensorData extends StoredTensorData<GgufTensorInfo> {
  /** The most bytes one {@link #raw} buffer can hold. */
  public static final long MAX_RAW_BYTES = StoredTensorData.MAX_BYTES;

  /** Elements decoded per step of {@link #readF32} (a multiple of every block size). */
  private static final int DECODE_CHUNK = 1 << 16;

  /**
   * Per-thread direct output of the kernels for {@link #readF32(long, long, FloatBuffer)}, one
   * chunk of f32.
   */
  private static final ThreadLocal<ByteBuffer> KERNEL_SCRATCH =
      ThreadLocal.withInitial(
          () -> ByteBuffer.allocateDirect(4 * DECODE_CHUNK).order(ByteOrder.LITTLE_ENDIAN));

  GgufTensorData(InputFile file, GgufTensorInfo info, long fileOffset) {
    super(
        file,
        info,
        fileOffset,
        new Layout(info.elementCount(), info.type().blockElements(), info.type().blockBytes()));
  }

  /**
   * The largest element count one {@link #raw} call may return: whole blocks fitting {@link
   * #MAX_RAW_BYTES}.
   */
  public long maxRawElements() {
    return maxElements();
  }

  /**
   * A read-only, little-endian, direct buffer holding the stored bytes of elements {@code
   * [firstElement, firstElement + count)} (flattened, {@code ne[0]} fastest), position 0, limit
   * their byte count; valid until this thread reads another range of this tensor or it is released.
   *
   * @throws IndexOutOfBoundsException if the range is not inside the tensor
   * @throws IllegalArgumentException if the range does not start and end on block boundaries, or
   *     exceeds {@link #maxRawElements()}
   * @throws IllegalStateException if the file has been closed
   * @throws dev.amalgam.io.InputChangedException if the file was truncated after it was opened
   * @throws IOException if the file cannot be read
   */
  public ByteBuffer raw(long firstElement, long count) throws IOException {
    return readElements(firstElement, count);
  }

  @Override
  protected String describe() {
    return "tensor '" + info().name() + "'";
  }

  @Override
  protected IllegalArgumentException misaligned(long firstElement, long count) {
    GgufTensorInfo info = info();
    GgmlType t = info.type();
    return new IllegalArgumentException(
        "tensor '"
            + info.name()
            + "': elements ["
            + firstElement
            + ", "
            + (firstElement + count)
            + ") do not start and end on "
            + t
            + " block boundaries of "
            + t.blockElements());
  }

  @Override
  protected IllegalArgumentException tooLarge(long count, long bytes) {
    return new IllegalArgumentException(
        "tensor '"
            + info().name()
            + "': "
            + count
            + " elements are more than the "
            + maxRawElements()
            + " one buffer can hold; read them in several ranges");
  }

  /**
   * Decodes elements {@code [firstElement, firstElement + count)} to f32 and puts them at {@code
   * dst}'s position, advancing it. F32, F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K are decoded exactly as
   * ggml's reference code does ({@link GgufQuant}); F16, BF16, Q8_0 and Q4_0 through the
   * single-threaded {@link Kernels#shared()} (native where it loads, same bits). The range is read
   * in steps, so ranges and tensors above 2 GiB work.
   *
   * @throws UnsupportedOperationException if the tensor's type cannot be dequantized
   * @throws IndexOutOfBoundsException if the range is not inside the tensor
   * @throws IllegalArgumentException if the range is not on block boundaries or {@code dst} has too
   *     little room
   * @throws IOException if the file cannot be read
   */
  public void readF32(long firstElement, long count, FloatBuffer dst) throws IOException {
    GgmlType t = info().type();
    if (!GgufQuant.canDequantize(t)) {
      throw new UnsupportedOperationException(
          "tensor '" + info().name() + "': type " + t + " cannot be dequantized");
    }
    Objects.checkFromIndexSize(firstElement, count, info().elementCount());
    if (dst.remaining() < count) {
      throw new IllegalArgumentException(
          "tensor '"
              + info().name()
              + "': "
              + count
              + " floats do not fit the "
              + dst.remaining()
              + " left in the destination");
    }
    if (t == GgmlType.F32) {
      long step = maxRawElements();
      for (long done = 0; done < count; ) {
        long n = Math.min(step, count - done);
        dst.put(raw(firstElement + done, n).asFloatBuffer());
        done += n;
      }
      return;
    }
    if (decodesWithKernels(t)) {
      ByteBuffer scratch = KERNEL_SCRATCH.get();
      for (long done = 0; done < count; ) {
        int n = (int) Math.min(DECODE_CHUNK, count - done);
        decodeWithKernels(firstElement + done, n, scratch.clear());
        dst.put(scratch.flip().asFloatBuffer());
        done += n;
      }
      return;
    }
    float[] scratch = new float[(int) Math.min(count, DECODE_CHUNK)];
    for (long done = 0; done < count; ) {
      int n = (int) Math.min(DECODE_CHUNK, count - done);
      GgufQuant.dequantize(t, raw(firstElement + done, n), scratch, 0, n);
      dst.put(scratch, 0, n);
      done += n;
    }
  }

  /**
   * As {@link #readF32(long, long, FloatBuffer)}, but writes the values as little-endian f32 bytes
   * at {@code dst}'s position (whatever its order), advancing it by {@code 4 * count}: Q8_0, Q4_0,
   * F16 and BF16 decode straight into {@code dst} through the native kernels when it is a direct
   * buffer, without a copy.
   *
   * @throws IllegalArgumentException as the FloatBuffer version, or if {@code dst} is read-only
   */
  public void readF32(long firstElement, long count, ByteBuffer dst) throws IOException {
    GgmlType t = info().type();
    if (!GgufQuant.canDequantize(t)) {
      throw new UnsupportedOperationException(
          "tensor '" + info().name() + "': type " + t + " cannot be dequantized");
    }
    Objects.checkFromIndexSize(firstElement, count, info().elementCount());
    if (dst.remaining() / 4 < count) {
      throw new IllegalArgumentException(
          "tensor '"
              + info().name()
              + "': "
              + count
              + " floats do not fit the "
              + dst.remaining()
              + " bytes left in the destination");
    }
    if (dst.isReadOnly()) {
      throw new IllegalArgumentException(
          "tensor '" + info().name() + "': destination is read-only");
    }
    if (!decodesWithKernels(t)) {
      readF32(firstElement, count, dst.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
      dst.position(dst.position() + Math.toIntExact(4 * count));
      return;
    }
    long step =
        Math.min(maxRawElements(), (Integer.MAX_VALUE / 4) / t.blockElements() * t.blockElements());
    for (long done = 0; done < count; ) {
      int n = (int) Math.min(step, count - done);
      decodeWithKernels(firstElement + done, n, dst);
      done += n;
    }
  }

  /** The types {@link #decodeWithKernels} handles. */
  private static boolean decodesWithKernels(GgmlType t) {
    return t == GgmlType.Q8_0 || t == GgmlType.Q4_0 || t == GgmlType.F16 || t == GgmlType.BF16;
  }

  /**
   * Decodes a checked range into f32 at {@code out}'s position, advancing it, through {@link
   * Kernels#shared()}: the same bits as {@link GgufQuant#dequantize} (the kernels' tests compare
   * them).
   */
  private void decodeWithKernels(long first, int n, ByteBuffer out) throws IOException {
    ByteBuffer src = raw(first, n);
    ByteBuffer view = out.slice().order(ByteOrder.LITTLE_ENDIAN);
    GgmlType t = info().type();
    if (t == GgmlType.Q8_0 || t == GgmlType.Q4_0) {
      Kernels.shared()
          .dequantize(
              src, t == GgmlType.Q8_0 ? BlockFormat.Q8_0 : BlockFormat.Q4_0, view, DType.F32, n);
    } else {
      Kernels.shared().convert(src, t.plainDType().orElseThrow(), view, DType.F32, n);
    }
    out.position(out.position() + 4 * n);
  }
}
