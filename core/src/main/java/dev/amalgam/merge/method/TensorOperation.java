package dev.amalgam.merge.method;

import java.io.IOException;

/** The planned computation of one output tensor, with every parameter already resolved. */
public interface TensorOperation {
  /** One line for logs and plans, e.g. "slerp t=0.321 (s0=0.61, s1=0.42)". */
  String describe();

  /** Computes the tensor, streaming it through {@code io}. */
  void run(TensorStreams io) throws IOException, InterruptedException;

  /**
   * How many times {@link #run} reads each input from start to end (SLERP: twice, the reductions
   * and then the combine). The executor keeps a tensor that needs more than one pass in memory when
   * it fits, so that it is read from the file once.
   */
  default int inputPasses() {
    return 1;
  }
}
