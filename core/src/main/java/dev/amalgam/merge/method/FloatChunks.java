package dev.amalgam.merge.method;

import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Chunks as {@code float[]} for methods whose per-element work is plain Java: inputs are widened to
 * f32 by the kernels and results rounded to the output type by the kernels, so the Java code sees
 * only floats. One instance per operation run; its buffers are reused across chunks.
 */
final class FloatChunks {
  private final TensorStreams io;
  private ByteBuffer widened;

  FloatChunks(TensorStreams io) {
    this.io = io;
  }

  /** Elements {@code [first, first + count)} of an input as floats, into {@code dst[0..count)}. */
  void read(int input, long first, int count, float[] dst) throws IOException {
    ByteBuffer src = io.inputChunk(input, first, count);
    DType type = io.inputType(input);
    ByteBuffer f32 = scratch(count);
    if (type == DType.F32) {
      src.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(dst, 0, count);
      return;
    }
    io.kernels().convert(src, type, f32, DType.F32, count);
    f32.asFloatBuffer().get(dst, 0, count);
  }

  /** Rounds {@code values[0..count)} to the output type and emits them as the next output chunk. */
  void emit(float[] values, int count) throws IOException, InterruptedException {
    ByteBuffer f32 = scratch(count);
    f32.asFloatBuffer().put(values, 0, count);
    ByteBuffer out = io.outputChunk();
    io.kernels().convert(f32, DType.F32, out, io.outputType(), count);
    out.position(0).limit(Math.toIntExact(io.outputType().byteCount(count)));
    io.emit(out);
  }

  /**
   * Elements {@code [offset, offset + count)} of a chunk fetched earlier (by a thread that may call
   * {@link TensorStreams#inputChunk}) as floats, into {@code dst[0..count)}: for workers sharing
   * one fetched chunk, each with its own instance.
   */
  void read(ByteBuffer chunk, DType type, int offset, int count, float[] dst) {
    ByteBuffer src = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    src.position(Math.multiplyExact(offset, type.byteSize()));
    if (type == DType.F32) {
      src.asFloatBuffer().get(dst, 0, count);
      return;
    }
    ByteBuffer f32 = scratch(count);
    io.kernels().convert(src, type, f32, DType.F32, count);
    f32.asFloatBuffer().get(dst, 0, count);
  }

  /**
   * As {@link #read(ByteBuffer, DType, int, int, float[])}, into {@code dst[at..at + count)}: for
   * several inputs side by side in one array.
   */
  void read(ByteBuffer chunk, DType type, int offset, int count, float[] dst, int at) {
    ByteBuffer src = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    src.position(Math.multiplyExact(offset, type.byteSize()));
    if (type == DType.F32) {
      src.asFloatBuffer().get(dst, at, count);
      return;
    }
    ByteBuffer f32 = scratch(count);
    io.kernels().convert(src, type, f32, DType.F32, count);
    f32.asFloatBuffer().get(dst, at, count);
  }

  /**
   * Rounds {@code values[0..count)} to the output type into {@code out} at element {@code offset}
   * (from index 0, whatever its position): workers fill disjoint parts of one output chunk, which
   * their caller then emits.
   */
  void write(float[] values, int count, ByteBuffer out, int offset) {
    ByteBuffer f32 = scratch(count);
    f32.asFloatBuffer().put(values, 0, count);
    DType type = io.outputType();
    ByteBuffer dst = out.duplicate().clear();
    dst.position(Math.multiplyExact(offset, type.byteSize()));
    io.kernels().convert(f32, DType.F32, dst, type, count);
  }

  private ByteBuffer scratch(int count) {
    int bytes = Math.multiplyExact(count, 4);
    if (widened == null || widened.capacity() < bytes) {
      widened = ByteBuffer.allocateDirect(Math.max(bytes, 4096)).order(ByteOrder.LITTLE_ENDIAN);
    }
    return widened.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear().limit(bytes);
  }
}
