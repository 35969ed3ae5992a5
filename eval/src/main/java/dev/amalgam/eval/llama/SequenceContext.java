package dev.amalgam.eval.llama;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.eval.llama.jni.LlamaNative;

/**
 * A llama.cpp context whose KV cache several sequences share (bridge contract point 7). Validates
 * batches, positions and sequence ids before the native call; {@link #close()} frees it and is
 * idempotent. Not thread-safe: one engine owns it.
 */
final class SequenceContext implements AutoCloseable {
  private final NativeModel model;
  private long handle;
  private final int contextSize;
  private final int batchSize;
  private final int sequences;

  private SequenceContext(NativeModel model, long handle, int[] info) {
    this.model = model;
    this.handle = handle;
    this.contextSize = info[0];
    this.batchSize = info[1];
    this.sequences = info[3];
  }

  /**
   * Creates a context of {@code cells} KV cells for {@code sequences} sequences, decoding at most
   * {@code batchSize} tokens per call.
   */
  static SequenceContext create(
      NativeModel model, int cells, int batchSize, int sequences, int threads) {
    if (cells < 1
        || batchSize < 1
        || sequences < 1
        || sequences > BatchedGenerator.MAX_PARALLEL
        || threads < 1) {
      throw new LlamaBridgeException(
          Reason.BAD_ARGUMENT,
          "context needs cells, batch size and threads >= 1 and 1 to "
              + BatchedGenerator.MAX_PARALLEL
              + " sequences (got "
              + cells
              + ", "
              + batchSize
              + ", "
              + threads
              + ", "
              + sequences
              + ")");
    }
    long[] out = new long[1];
    NativeCalls.check(
        LlamaNative.amalgam_llama_new_context(
            model.handle(), cells, batchSize, sequences, threads, 0, out),
        Reason.NATIVE_ERROR,
        model.file());
    int[] info = new int[4];
    int status = LlamaNative.amalgam_llama_context_info(out[0], info);
    if (status != NativeCalls.OK) {
      LlamaNative.amalgam_llama_free_context(out[0]);
      NativeCalls.check(status, Reason.NATIVE_ERROR, model.file());
    }
    SequenceContext created = new SequenceContext(model, out[0], info);
    model.adopt(created);
    return created;
  }

  int contextSize() {
    return contextSize;
  }

  int batchSize() {
    return batchSize;
  }

  int sequences() {
    return sequences;
  }

  long handle() {
    ensureOpen();
    return handle;
  }

  /**
   * Decodes the first {@code n} entries of the arrays as one batch; {@code outputs[i] != 0} keeps
   * batch index i's logits for {@link TokenSampler#sample}.
   */
  void decode(int[] tokens, int[] positions, int[] seqIds, byte[] outputs, int n) {
    if (!tryDecode(tokens, positions, seqIds, outputs, n)) {
      throw new LlamaBridgeException(
          Reason.TEXT_TOO_LONG, model.file() + ": " + NativeCalls.detail(NativeCalls.ERR_KV_FULL));
    }
  }

  /**
   * As {@link #decode}, but returns false, with the cache unchanged, when llama.cpp finds no room
   * for the batch in the KV cache (its free cells may be scattered), so the caller can free cells
   * or decode fewer tokens.
   */
  boolean tryDecode(int[] tokens, int[] positions, int[] seqIds, byte[] outputs, int n) {
    ensureOpen();
    if (n < 1 || n > batchSize) {
      throw new LlamaBridgeException(
          Reason.BAD_ARGUMENT, "a batch holds 1 to " + batchSize + " tokens, got " + n);
    }
    if (tokens.length < n || positions.length < n || seqIds.length < n || outputs.length < n) {
      throw new LlamaBridgeException(Reason.BAD_ARGUMENT, "batch arrays shorter than " + n);
    }
    int vocab = model.vocabSize();
    for (int i = 0; i < n; i++) {
      if (tokens[i] < 0 || tokens[i] >= vocab) {
        throw new LlamaBridgeException(
            Reason.BAD_ARGUMENT,
            "token " + tokens[i] + " at batch index " + i + " outside [0, " + vocab + ")");
      }
      if (positions[i] < 0 || positions[i] >= contextSize) {
        throw new LlamaBridgeException(
            Reason.TEXT_TOO_LONG,
            "position " + positions[i] + " outside the context of " + contextSize + " tokens");
      }
      checkSequence(seqIds[i]);
    }
    int status = LlamaNative.amalgam_llama_decode(handle, tokens, positions, seqIds, outputs, n);
    if (status == NativeCalls.ERR_KV_FULL) return false;
    NativeCalls.check(status, Reason.NATIVE_ERROR, model.file());
    return true;
  }

  /** Removes positions [from, to) of a sequence from the cache; {@code to < 0}: to the end. */
  void remove(int seq, int from, int to) {
    ensureOpen();
    checkSequence(seq);
    checkRange(from, to);
    NativeCalls.check(
        LlamaNative.amalgam_llama_kv_seq_rm(handle, seq, from, to),
        Reason.NATIVE_ERROR,
        model.file());
  }

  /** Lets sequence {@code dst} share positions [from, to) of sequence {@code src}. */
  void copy(int src, int dst, int from, int to) {
    ensureOpen();
    checkSequence(src);
    checkSequence(dst);
    if (src == dst) throw new LlamaBridgeException(Reason.BAD_ARGUMENT, "copy onto itself");
    checkRange(from, to);
    NativeCalls.check(
        LlamaNative.amalgam_llama_kv_seq_cp(handle, src, dst, from, to),
        Reason.NATIVE_ERROR,
        model.file());
  }

  /** Empties the cache of every sequence. */
  void clear() {
    ensureOpen();
    NativeCalls.check(
        LlamaNative.amalgam_llama_kv_clear(handle), Reason.NATIVE_ERROR, model.file());
  }

  private void checkSequence(int seq) {
    if (seq < 0 || seq >= sequences) {
      throw new LlamaBridgeException(
          Reason.BAD_ARGUMENT, "sequence " + seq + " outside [0, " + sequences + ")");
    }
  }

  private static void checkRange(int from, int to) {
    if (from < 0 || (to >= 0 && to < from)) {
      throw new LlamaBridgeException(
          Reason.BAD_ARGUMENT, "bad position range [" + from + ", " + to + ")");
    }
  }

  private void ensureOpen() {
    if (handle == 0) {
      throw new LlamaBridgeException(Reason.CLOSED, model.file() + ": context was closed");
    }
  }

  @Override
  public void close() {
    if (handle != 0) {
      LlamaNative.amalgam_llama_free_context(handle);
      handle = 0;
      model.release(this);
    }
  }
}
