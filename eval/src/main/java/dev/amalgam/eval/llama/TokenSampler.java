package dev.amalgam.eval.llama;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.eval.llama.jni.LlamaNative;

/**
 * The sampler of one generated sequence (bridge contract point 7): greedy at temperature 0, else
 * llama-server's default chain with a seed, optionally constrained by a GBNF grammar. {@link
 * #close()} frees it and is idempotent.
 */
final class TokenSampler implements AutoCloseable {
  /** llama-server's defaults, which java-llama.cpp 4.2.0 leaves in place. */
  static final int TOP_K = 40;

  static final float TOP_P = 0.95f;
  static final float MIN_P = 0.05f;

  private final NativeModel model;
  private long handle;

  private TokenSampler(NativeModel model, long handle) {
    this.model = model;
    this.handle = handle;
  }

  /**
   * Creates a sampler.
   *
   * @param grammar GBNF text with start symbol {@code root}, or null
   * @throws LlamaBridgeException BAD_ARGUMENT for a grammar llama.cpp refuses, with its reason
   */
  static TokenSampler create(NativeModel model, float temperature, int seed, String grammar) {
    if (!Float.isFinite(temperature)) {
      throw new LlamaBridgeException(Reason.BAD_ARGUMENT, "temperature must be finite");
    }
    if (grammar != null && (grammar.isBlank() || grammar.indexOf('\0') >= 0)) {
      throw new LlamaBridgeException(
          Reason.BAD_ARGUMENT, "a grammar must be non-blank GBNF text without NUL characters");
    }
    long[] out = new long[1];
    int status =
        LlamaNative.amalgam_llama_new_sampler(
            model.handle(),
            temperature,
            TOP_K,
            TOP_P,
            MIN_P,
            seed,
            grammar == null ? null : LlamaLibrary.cString(grammar),
            grammar == null ? null : LlamaLibrary.cString("root"),
            out);
    NativeCalls.check(
        status,
        status == NativeCalls.ERR_GRAMMAR ? Reason.BAD_ARGUMENT : Reason.NATIVE_ERROR,
        model.file());
    TokenSampler created = new TokenSampler(model, out[0]);
    model.adopt(created);
    return created;
  }

  /** Samples from batch index {@code row} of the context's last decode and accepts the token. */
  int sample(SequenceContext context, int row) {
    if (handle == 0) {
      throw new LlamaBridgeException(Reason.CLOSED, model.file() + ": sampler was closed");
    }
    if (row < 0 || row >= context.batchSize()) {
      throw new LlamaBridgeException(Reason.BAD_ARGUMENT, "row " + row + " outside the batch");
    }
    int[] token = new int[1];
    int status = LlamaNative.amalgam_llama_sample(context.handle(), handle, row, token);
    NativeCalls.check(
        status,
        status == NativeCalls.ERR_GRAMMAR ? Reason.BAD_ARGUMENT : Reason.NATIVE_ERROR,
        model.file());
    return token[0];
  }

  @Override
  public void close() {
    if (handle != 0) {
      LlamaNative.amalgam_llama_free_sampler(handle);
      handle = 0;
      model.release(this);
    }
  }
}
