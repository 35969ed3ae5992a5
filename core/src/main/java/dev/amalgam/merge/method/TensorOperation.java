package dev.amalgam.merge.method;

import java.io.IOException;

/** The planned computation of one output tensor, with every parameter already resolved. */
public interface TensorOperation {
  /** One line for logs and plans, e.g. "slerp t=0.321 (s0=0.61, s1=0.42)". */
  String describe();

  /** Computes the tensor, streaming it through {@code io}. */
  void run(TensorStreams io) throws IOException, InterruptedException;
}
