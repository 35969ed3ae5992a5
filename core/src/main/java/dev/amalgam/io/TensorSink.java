package dev.amalgam.io;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Receives a model's tensors one after the other, in the order the sink was planned with, each as a
 * sequence of byte chunks in the tensor's planned element type. Implemented by the safetensors and
 * GGUF writers.
 */
public interface TensorSink {
  /** Starts the next tensor; the previous one must be complete. */
  void beginTensor(String name) throws IOException;

  /** Appends the bytes between {@code src}'s position and limit to the current tensor. */
  void write(ByteBuffer src) throws IOException;
}
