/*
 * amalgam_llama.h - the C ABI of the llama.cpp bridge (libamalgam_llama.so), which amalgam-eval binds
 * (dev.amalgam.eval.llama.jni.LlamaNative). The kernels' ABI is amalgam.h.
 *
 * Contract:
 *  1. The bridge dlopen()s a llama.cpp library given by path and calls its exported llama_* C API; it links only
 *     libdl. Supported releases: b4916 (java-llama.cpp 4.2.0's libjllama.so, the default) and 0.5.0 (a libllama.so
 *     with its libggml*.so beside it). The version layer (native/src/llama_abi.h) recognises the release at open and
 *     refuses any other library with a message naming the supported releases. One library per process: opening a
 *     second, different path fails.
 *  2. Every function returns an amalgam_llama_status and never throws; on failure amalgam_llama_last_error() holds
 *     a message for the calling thread (valid until that thread's next call).
 *  3. Models and contexts are opaque int64_t handles; free contexts before their model. A handle is used by one
 *     thread at a time (the Java peer synchronizes).
 *  4. amalgam_llama_score validates before decoding (2 <= n_tokens <= n_batch and n_ctx, token ids in
 *     [0, n_vocab)), clears the KV cache, decodes the tokens as one batch at positions 0..n-1 and writes
 *     log_probs[i - from] = log p(tokens[i+1] | tokens[0..i]) for i in [from, n_tokens - 1), computed in double
 *     as logit - max - log(sum(exp(logit - max))).
 *  5. llama.cpp's own log output is discarded unless verbose was set when the library was opened.
 *  6. amalgam_llama_score_shared_prefix scores several sequences that start with the same prefix while decoding that
 *     prefix once: it validates everything first (as point 4, for every sequence), clears the KV cache, decodes the
 *     prefix as one batch at positions 0..n_prefix-1, then for each sequence decodes the rest of its tokens at the
 *     positions after the prefix and removes them from the KV cache again (llama_kv_self_seq_rm), so every sequence
 *     sees exactly the prefix plus its own tokens. Log-probabilities are computed as in point 4 and equal
 *     amalgam_llama_score's for each sequence bit for bit: per llama.cpp ubatch (n_ubatch tokens from a call's first
 *     token) every decode keeps the one-or-many token and output-row counts of the one-batch score (llama.cpp's CPU
 *     kernels round a single row differently); a sequence that cannot be served so is decoded alone as in point 4.
 *  7. Generation primitives: a context holds n_seq_max sequences that share one KV cache of n_ctx cells (the caller
 *     asks for n_seq_max x the per-sequence context). amalgam_llama_decode decodes one batch of at most n_batch tokens
 *     from any sequences and keeps the logits of the tokens flagged as outputs until the next decode; batch index i's
 *     row is read by amalgam_llama_sample(context, sampler, i). KV operations remove or copy position ranges of a
 *     sequence (p1 < 0: to the end). Samplers are independent of contexts: one per generated sequence, greedy when
 *     temperature <= 0, else llama-server's default chain top-k, top-p, min-p, temperature, then a draw seeded with
 *     seed; a GBNF grammar is checked against the drawn token and, when it refuses it, applied before a second draw
 *     (as llama-server does). A grammar llama.cpp cannot parse gives AMALGAM_LLAMA_ERR_GRAMMAR with llama.cpp's
 *     reason. Validation precedes every llama.cpp call (token ids, positions in [0, n_ctx), sequence ids in
 *     [0, n_seq_max), batch sizes); positions must continue each sequence's cache, which the caller tracks.
 */
#ifndef AMALGAM_LLAMA_H
#define AMALGAM_LLAMA_H

#include <stdint.h>

#if defined(_WIN32)
#define AMALGAM_LLAMA_API __declspec(dllexport)
#else
#define AMALGAM_LLAMA_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the llama bridge ABI; the Java peer refuses a library whose version differs from its own. */
#define AMALGAM_LLAMA_ABI_VERSION 3

/** Most sequences one context may hold. */
#define AMALGAM_LLAMA_MAX_SEQUENCES 64

/** Status codes of the llama bridge; amalgam_llama_status_message() names each. */
enum amalgam_llama_status {
  AMALGAM_LLAMA_OK = 0,
  AMALGAM_LLAMA_ERR_ARGUMENT = -1,
  AMALGAM_LLAMA_ERR_LIBRARY = -2,
  AMALGAM_LLAMA_ERR_NOT_OPEN = -3,
  AMALGAM_LLAMA_ERR_MODEL_LOAD = -4,
  AMALGAM_LLAMA_ERR_CONTEXT = -5,
  AMALGAM_LLAMA_ERR_TOO_MANY_TOKENS = -6,
  AMALGAM_LLAMA_ERR_BAD_TOKEN = -7,
  AMALGAM_LLAMA_ERR_DECODE = -8,
  AMALGAM_LLAMA_ERR_EXCEPTION = -9,
  AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL = -10,
  AMALGAM_LLAMA_ERR_NO_LOGITS = -11,
  AMALGAM_LLAMA_ERR_KV_FULL = -12,
  AMALGAM_LLAMA_ERR_GRAMMAR = -13,
  AMALGAM_LLAMA_ERR_TEMPLATE = -14
};

/** Returns AMALGAM_LLAMA_ABI_VERSION of the compiled bridge. */
AMALGAM_LLAMA_API int32_t amalgam_llama_abi_version(void);

/** Static English message for a bridge status code. */
AMALGAM_LLAMA_API const char *amalgam_llama_status_message(int32_t status);

/** Detail of the calling thread's last failure (empty if none). */
AMALGAM_LLAMA_API const char *amalgam_llama_last_error(void);

/**
 * dlopen()s a llama.cpp library at path, recognises its release, resolves the llama_* functions, loads its compute
 * backends and initialises it; idempotent per path.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_open_library(const char *path, int32_t verbose);

/** Loads a GGUF model (vocab_only != 0: tokenizer only) and stores its handle in *model_out. */
AMALGAM_LLAMA_API int32_t amalgam_llama_load_model(const char *path, int32_t n_gpu_layers, int32_t vocab_only,
                                                   int64_t *model_out);

/** Frees a model handle (0 is a no-op). */
AMALGAM_LLAMA_API int32_t amalgam_llama_free_model(int64_t model);

/** info[0] = n_vocab, info[1] = BOS token id, info[2] = 1 if tokenizing with add_special prepends BOS. */
AMALGAM_LLAMA_API int32_t amalgam_llama_model_info(int64_t model, int32_t *info);

/** Copies the vocabulary text of token (no NUL) into out; *length = its byte length, also when out is too small. */
AMALGAM_LLAMA_API int32_t amalgam_llama_token_text(int64_t model, int32_t token, char *out, int32_t capacity,
                                                   int32_t *length);

/**
 * Creates a context of n_ctx KV cells shared by n_seq_max sequences (1..AMALGAM_LLAMA_MAX_SEQUENCES; KV cache F32 if
 * f32_kv_cache != 0, else F16; n_ubatch = min(n_batch, 512)) in *context_out.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_new_context(int64_t model, int32_t n_ctx, int32_t n_batch, int32_t n_seq_max,
                                                    int32_t n_threads, int32_t f32_kv_cache, int64_t *context_out);

/** Frees a context handle (0 is a no-op). */
AMALGAM_LLAMA_API int32_t amalgam_llama_free_context(int64_t context);

/**
 * info[0] = effective n_ctx (rounded up by llama.cpp), info[1] = effective n_batch (clamped to n_ctx),
 * info[2] = n_ubatch, info[3] = n_seq_max.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_context_info(int64_t context, int32_t *info);

/**
 * Tokenizes text_length UTF-8 bytes. On success *count = number of tokens written. If capacity is too small,
 * returns AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL with *count = the capacity needed.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_tokenize(int64_t model, const char *text, int32_t text_length,
                                                 int32_t add_special, int32_t parse_special, int32_t *tokens,
                                                 int32_t capacity, int32_t *count);

/**
 * Scores a token sequence as one batch (contract point 4). log_probs holds n_tokens - 1 - from doubles; is_argmax
 * (may be NULL) the same number of flags, 1 where tokens[i+1] is a most likely token at position i.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_score(int64_t context, const int32_t *tokens, int32_t n_tokens, int32_t from,
                                              double *log_probs, int32_t *is_argmax);

/**
 * Scores n_sequences token sequences sharing a prefix (contract point 6). tokens holds the prefix (n_prefix >= 1
 * tokens) followed by the sequences' own tokens, concatenated: sequence s is tokens[0, n_prefix) followed by
 * tokens[n_prefix + suffix_offsets[s], n_prefix + suffix_offsets[s + 1]) (suffix_offsets has n_sequences + 1
 * non-decreasing entries starting at 0; a sequence may add no token). With n_s its length, sequence s gets
 * n_s - 1 - from[s] log-probabilities log p(seq[i+1] | seq[0..i]) for i in [from[s], n_s - 1), written one sequence
 * after another into log_probs (capacity doubles in all, which must equal the sum) and likewise into is_argmax (may
 * be NULL). Each sequence needs 2 <= n_s <= n_batch and n_ctx and 0 <= from[s] < n_s - 1.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_score_shared_prefix(int64_t context, const int32_t *tokens, int32_t n_prefix,
                                                            const int32_t *suffix_offsets, int32_t n_sequences,
                                                            const int32_t *from, double *log_probs, int32_t *is_argmax,
                                                            int32_t capacity);

/**
 * "RELEASE\nDESCRIPTION" of the opened library: the supported release it matched (b4916 or 0.5.0) and one line with
 * its version strings and compute devices. *length as amalgam_llama_token_text.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_library_description(char *out, int32_t capacity, int32_t *length);

/** shape[0..4] = n_layer, n_embd, n_head, n_head_kv, n_ctx_train of a model. */
AMALGAM_LLAMA_API int32_t amalgam_llama_model_shape(int64_t model, int32_t *shape);

/** *n_params = the model's parameter count, *bytes = the size of its weights. */
AMALGAM_LLAMA_API int32_t amalgam_llama_model_size(int64_t model, int64_t *n_params, int64_t *bytes);

/**
 * Decodes n_tokens (1..n_batch) tokens as one batch (contract point 7): token i goes to sequence seq_ids[i] at
 * positions[i]; outputs[i] != 0 keeps its logits row for amalgam_llama_sample. AMALGAM_LLAMA_ERR_KV_FULL when the
 * cache has no room.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_decode(int64_t context, const int32_t *tokens, const int32_t *positions,
                                               const int32_t *seq_ids, const int8_t *outputs, int32_t n_tokens);

/** Empties the KV cache of every sequence. */
AMALGAM_LLAMA_API int32_t amalgam_llama_kv_clear(int64_t context);

/** Removes positions [p0, p1) of sequence seq from the KV cache (p1 < 0: to the end). */
AMALGAM_LLAMA_API int32_t amalgam_llama_kv_seq_rm(int64_t context, int32_t seq, int32_t p0, int32_t p1);

/** Makes positions [p0, p1) of sequence src also belong to sequence dst (shared cells; p1 < 0: to the end). */
AMALGAM_LLAMA_API int32_t amalgam_llama_kv_seq_cp(int64_t context, int32_t src, int32_t dst, int32_t p0, int32_t p1);

/**
 * Creates a sampler (contract point 7): greedy when temperature <= 0, else top_k (0: off), top_p in (0, 1],
 * min_p in [0, 1], temperature and a draw seeded with seed. grammar (may be NULL) is GBNF text with start symbol
 * grammar_root.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_new_sampler(int64_t model, float temperature, int32_t top_k, float top_p,
                                                    float min_p, int32_t seed, const char *grammar,
                                                    const char *grammar_root, int64_t *sampler_out);

/** Frees a sampler handle (0 is a no-op). */
AMALGAM_LLAMA_API int32_t amalgam_llama_free_sampler(int64_t sampler);

/**
 * Samples a token from the logits row of batch index row of the context's last decode and accepts it into the
 * sampler (an end-of-generation token is not fed to the grammar).
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_sample(int64_t context, int64_t sampler, int32_t row, int32_t *token_out);

/**
 * The UTF-8 bytes token renders as (special != 0: control tokens render their text), which may be part of a
 * multi-byte character; *length as amalgam_llama_token_text.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_token_piece(int64_t model, int32_t token, int32_t special, char *out,
                                                    int32_t capacity, int32_t *length);

/** *is_eog = 1 if token ends generation (end of sequence, end of turn...). */
AMALGAM_LLAMA_API int32_t amalgam_llama_token_is_eog(int64_t model, int32_t token, int32_t *is_eog);

/** The model's default chat template text; *length = -1 when the model has none. */
AMALGAM_LLAMA_API int32_t amalgam_llama_chat_template(int64_t model, char *out, int32_t capacity, int32_t *length);

/**
 * Applies a chat template (its text or a built-in name such as "chatml") to n_messages messages given as
 * 2 x n_messages NUL-terminated UTF-8 strings back to back (role, content, role, content...); add_assistant != 0
 * appends the assistant turn's opening. *length = the result's byte length, also when out is too small.
 */
AMALGAM_LLAMA_API int32_t amalgam_llama_chat_apply(const char *tmpl, const char *messages, int32_t n_messages,
                                                   int32_t add_assistant, char *out, int32_t capacity, int32_t *length);

#ifdef __cplusplus
}
#endif

#endif /* AMALGAM_LLAMA_H */
