package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The executor's side of one tensor merge: input data in chunks, reused output buffers, and the
 * kernels. An operation may read the inputs as often as it needs (SLERP reads them twice) and must
 * emit the output chunks in order, covering every element exactly once.
 */
public interface TensorStreams {
  /** Number of inputs. */
  int inputCount();

  /** Elements in the tensor (all inputs and the output have the same count). */
  long elementCount();

  /**
   * Elements per chunk: a multiple of {@link Kernels#DOT_SEGMENT}, so chunked reductions stay
   * deterministic.
   */
  long chunkElements();

  /**
   * The element type {@link #inputChunk} returns for an input (its stored type, or the configured
   * dtype).
   */
  DType inputType(int input);

  /**
   * Elements {@code [first, first + count)} of an input: a read-only little-endian buffer. Valid
   * until the next call for the same input; {@code count <= chunkElements()}.
   */
  ByteBuffer inputChunk(int input, long first, long count) throws IOException;

  /** The output element type. */
  DType outputType();

  /** A free output buffer for up to {@link #chunkElements()} elements (may wait for the writer). */
  ByteBuffer outputChunk() throws IOException, InterruptedException;

  /**
   * Queues a filled output buffer: its bytes from position 0 to the limit are the next output
   * bytes.
   */
  void emit(ByteBuffer filled) throws IOException, InterruptedException;

  /** The kernels to compute with. */
  Kernels kernels();

  /**
   * Reports something the operation did differently from what was asked (SLERP taking the linear
   * path because of non-finite values, say); the executor names the tensor and passes it to the
   * merge's warnings. Does nothing by default.
   */
  default void warn(String message) {}
}
