package dev.amalgam.eval.llama.jni;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Hand-written JavaCPP peer of the {@code amalgam_llama_*} functions in
 * native/include/amalgam_llama.h; each method mirrors the C function of the same name.
 *
 * <p>No static initialiser: {@code dev.amalgam.eval.llama.LlamaLibrary} loads it once and turns a
 * failure into a clear exception. The native code never throws (status codes carry errors), hence
 * {@code @NoException}. Nothing here validates arguments; {@code
 * dev.amalgam.eval.llama.LlamaScorer} checks every array length first. Strings are passed as
 * NUL-terminated UTF-8 {@code byte[]} so no platform charset is involved.
 */
@Platform(include = "amalgam_llama.h", link = "amalgam_llama")
@NoException
public final class LlamaNative {
  private LlamaNative() {}

  /** See {@code amalgam_llama_abi_version}. */
  public static native int amalgam_llama_abi_version();

  /** See {@code amalgam_llama_status_message}. */
  public static native @Cast("const char*") String amalgam_llama_status_message(int status);

  /** See {@code amalgam_llama_last_error}. */
  public static native @Cast("const char*") String amalgam_llama_last_error();

  /** See {@code amalgam_llama_open_library}; path is NUL-terminated UTF-8. */
  public static native int amalgam_llama_open_library(
      @Cast("const char*") byte[] path, int verbose);

  /**
   * See {@code amalgam_llama_load_model}; path is NUL-terminated UTF-8, modelOut has one element.
   */
  public static native int amalgam_llama_load_model(
      @Cast("const char*") byte[] path,
      int nGpuLayers,
      int vocabOnly,
      @Cast("int64_t*") long[] modelOut);

  /** See {@code amalgam_llama_free_model}. */
  public static native int amalgam_llama_free_model(@Cast("int64_t") long model);

  /** See {@code amalgam_llama_model_info}; info has three elements. */
  public static native int amalgam_llama_model_info(
      @Cast("int64_t") long model, @Cast("int32_t*") int[] info);

  /** See {@code amalgam_llama_token_text}; length has one element. */
  public static native int amalgam_llama_token_text(
      @Cast("int64_t") long model,
      int token,
      @Cast("char*") byte[] out,
      int capacity,
      @Cast("int32_t*") int[] length);

  /** See {@code amalgam_llama_new_context}; contextOut has one element. */
  public static native int amalgam_llama_new_context(
      @Cast("int64_t") long model,
      int nCtx,
      int nBatch,
      int nSeqMax,
      int nThreads,
      int f32KvCache,
      @Cast("int64_t*") long[] contextOut);

  /** See {@code amalgam_llama_free_context}. */
  public static native int amalgam_llama_free_context(@Cast("int64_t") long context);

  /** See {@code amalgam_llama_context_info}; info has four elements. */
  public static native int amalgam_llama_context_info(
      @Cast("int64_t") long context, @Cast("int32_t*") int[] info);

  /** See {@code amalgam_llama_tokenize}; count has one element. */
  public static native int amalgam_llama_tokenize(
      @Cast("int64_t") long model,
      @Cast("const char*") byte[] text,
      int textLength,
      int addSpecial,
      int parseSpecial,
      @Cast("int32_t*") int[] tokens,
      int capacity,
      @Cast("int32_t*") int[] count);

  /** See {@code amalgam_llama_score}; isArgmax may be null. */
  public static native int amalgam_llama_score(
      @Cast("int64_t") long context,
      @Cast("const int32_t*") int[] tokens,
      int nTokens,
      int from,
      @Cast("double*") double[] logProbs,
      @Cast("int32_t*") int[] isArgmax);

  /** See {@code amalgam_llama_score_shared_prefix}; isArgmax may be null. */
  public static native int amalgam_llama_score_shared_prefix(
      @Cast("int64_t") long context,
      @Cast("const int32_t*") int[] tokens,
      int nPrefix,
      @Cast("const int32_t*") int[] suffixOffsets,
      int nSequences,
      @Cast("const int32_t*") int[] from,
      @Cast("double*") double[] logProbs,
      @Cast("int32_t*") int[] isArgmax,
      int capacity);

  /** See {@code amalgam_llama_library_description}; length has one element. */
  public static native int amalgam_llama_library_description(
      @Cast("char*") byte[] out, int capacity, @Cast("int32_t*") int[] length);

  /** See {@code amalgam_llama_model_shape}; shape has five elements. */
  public static native int amalgam_llama_model_shape(
      @Cast("int64_t") long model, @Cast("int32_t*") int[] shape);

  /** See {@code amalgam_llama_model_size}; nParams and bytes have one element each. */
  public static native int amalgam_llama_model_size(
      @Cast("int64_t") long model,
      @Cast("int64_t*") long[] nParams,
      @Cast("int64_t*") long[] bytes);

  /** See {@code amalgam_llama_decode}; every array holds at least nTokens elements. */
  public static native int amalgam_llama_decode(
      @Cast("int64_t") long context,
      @Cast("const int32_t*") int[] tokens,
      @Cast("const int32_t*") int[] positions,
      @Cast("const int32_t*") int[] seqIds,
      @Cast("const int8_t*") byte[] outputs,
      int nTokens);

  /** See {@code amalgam_llama_kv_clear}. */
  public static native int amalgam_llama_kv_clear(@Cast("int64_t") long context);

  /** See {@code amalgam_llama_kv_seq_rm}. */
  public static native int amalgam_llama_kv_seq_rm(
      @Cast("int64_t") long context, int seq, int p0, int p1);

  /** See {@code amalgam_llama_kv_seq_cp}. */
  public static native int amalgam_llama_kv_seq_cp(
      @Cast("int64_t") long context, int src, int dst, int p0, int p1);

  /**
   * See {@code amalgam_llama_new_sampler}; grammar and grammarRoot are NUL-terminated UTF-8 or
   * null; samplerOut has one element.
   */
  public static native int amalgam_llama_new_sampler(
      @Cast("int64_t") long model,
      float temperature,
      int topK,
      float topP,
      float minP,
      int seed,
      @Cast("const char*") byte[] grammar,
      @Cast("const char*") byte[] grammarRoot,
      @Cast("int64_t*") long[] samplerOut);

  /** See {@code amalgam_llama_free_sampler}. */
  public static native int amalgam_llama_free_sampler(@Cast("int64_t") long sampler);

  /** See {@code amalgam_llama_sample}; tokenOut has one element. */
  public static native int amalgam_llama_sample(
      @Cast("int64_t") long context,
      @Cast("int64_t") long sampler,
      int row,
      @Cast("int32_t*") int[] tokenOut);

  /** See {@code amalgam_llama_token_piece}; length has one element. */
  public static native int amalgam_llama_token_piece(
      @Cast("int64_t") long model,
      int token,
      int special,
      @Cast("char*") byte[] out,
      int capacity,
      @Cast("int32_t*") int[] length);

  /** See {@code amalgam_llama_token_is_eog}; isEog has one element. */
  public static native int amalgam_llama_token_is_eog(
      @Cast("int64_t") long model, int token, @Cast("int32_t*") int[] isEog);

  /** See {@code amalgam_llama_chat_template}; length has one element. */
  public static native int amalgam_llama_chat_template(
      @Cast("int64_t") long model,
      @Cast("char*") byte[] out,
      int capacity,
      @Cast("int32_t*") int[] length);

  /**
   * See {@code amalgam_llama_chat_apply}; tmpl is NUL-terminated UTF-8, messages holds 2 x
   * nMessages NUL-terminated strings; length has one element.
   */
  public static native int amalgam_llama_chat_apply(
      @Cast("const char*") byte[] tmpl,
      @Cast("const char*") byte[] messages,
      int nMessages,
      int addAssistant,
      @Cast("char*") byte[] out,
      int capacity,
      @Cast("int32_t*") int[] length);
}
