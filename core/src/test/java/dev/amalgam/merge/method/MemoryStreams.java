package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * In-memory f32 tensors behind {@link TensorStreams}, with a chosen chunk size, collecting the
 * output.
 */
final class MemoryStreams implements TensorStreams {
  private static final Kernels KERNELS = Kernels.java(1);
  private final float[][] inputs;
  private final long chunk;
  private Kernels kernels = KERNELS;
  private final float[] output;
  private int written;

  MemoryStreams(long chunk, float[]... inputs) {
    this.inputs = inputs;
    this.chunk = chunk;
    this.output = new float[inputs[0].length];
  }

  /** Runs an operation and returns its output, checking that every element was emitted once. */
  static float[] run(TensorOperation op, long chunk, float[]... inputs) throws Exception {
    MemoryStreams io = new MemoryStreams(chunk, inputs);
    op.run(io);
    if (io.written != io.output.length) {
      throw new AssertionError("emitted " + io.written + " of " + io.output.length + " elements");
    }
    return io.output;
  }

  static float[] random(long seed, int n, double scale) {
    Random r = new Random(seed);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) f[i] = (float) (r.nextGaussian() * scale);
    return f;
  }

  @Override
  public int inputCount() {
    return inputs.length;
  }

  @Override
  public long elementCount() {
    return output.length;
  }

  @Override
  public long chunkElements() {
    return chunk;
  }

  @Override
  public DType inputType(int input) {
    return DType.F32;
  }

  @Override
  public ByteBuffer inputChunk(int input, long first, long count) {
    if (count > chunk || first < 0 || first + count > output.length) {
      throw new AssertionError("bad range " + first + "+" + count);
    }
    // direct, so that native kernels run on it (they take heap buffers through the Java kernels)
    ByteBuffer b =
        ByteBuffer.allocateDirect(Math.toIntExact(count * 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) b.putFloat(inputs[input][(int) first + i]);
    return b.flip().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public DType outputType() {
    return DType.F32;
  }

  @Override
  public ByteBuffer outputChunk() {
    return ByteBuffer.allocateDirect(Math.toIntExact(chunk * 4)).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public void emit(ByteBuffer filled) {
    ByteBuffer b = filled.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    b.position(0);
    while (b.remaining() >= 4) output[written++] = b.getFloat();
  }

  @Override
  public Kernels kernels() {
    return kernels;
  }

  /** Runs an operation with the given kernels (threads, native or Java) and returns its output. */
  static float[] run(TensorOperation op, Kernels kernels, long chunk, float[]... inputs)
      throws Exception {
    MemoryStreams io = new MemoryStreams(chunk, inputs);
    io.kernels = kernels;
    op.run(io);
    if (io.written != io.output.length) {
      throw new AssertionError("emitted " + io.written + " of " + io.output.length + " elements");
    }
    return io.output;
  }
}
