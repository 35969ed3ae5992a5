// The llama.cpp version layer of the bridge (docs/formats.md §8.2).
//
// The bridge talks to llama.cpp through the function table LlamaApi below, whose signatures are the same for every
// supported release. Everything that differs between releases (the by-value parameter structs, functions that were
// renamed or replaced, how backends are loaded, how a release is recognised) lives in llama_abi.cpp, one section
// per release; supporting another release means adding one section and one row to its table.
#ifndef AMALGAM_LLAMA_ABI_H
#define AMALGAM_LLAMA_ABI_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace amalgam_llama {

struct llama_model;
struct llama_context;
struct llama_vocab;
struct llama_sampler;

// Layouts that every supported release shares (checked by static_asserts in llama_abi.cpp).
struct LlamaBatch {
  int32_t n_tokens;
  int32_t *token;
  float *embd;
  int32_t *pos;
  int32_t *n_seq_id;
  int32_t **seq_id;
  int8_t *logits;
};

struct LlamaTokenData {
  int32_t id;
  float logit;
  float p;
};

struct LlamaTokenDataArray {
  LlamaTokenData *data;
  size_t size;
  int64_t selected;
  bool sorted;
};

struct LlamaChatMessage {
  const char *role;
  const char *content;
};

struct LlamaSamplerChainParams {
  bool no_perf;
};

using LogCallback = void (*)(int level, const char *text, void *user_data);

// What the bridge asks of a context; the layer writes it into the release's own parameter struct.
struct ContextSettings {
  uint32_t n_ctx;
  uint32_t n_batch;
  uint32_t n_ubatch;
  uint32_t n_seq_max;
  int32_t n_threads;
  bool f32_kv_cache;
};

// The llama.cpp functions the bridge calls. The first group is version-specific (the layer supplies adapters); the
// rest have the same C signature in every supported release and are resolved by name.
struct LlamaApi {
  llama_model *(*load_model)(const char *path, int32_t n_gpu_layers, bool vocab_only);
  llama_context *(*new_context)(llama_model *model, const ContextSettings &settings);
  void (*kv_clear)(llama_context *context);
  bool (*kv_seq_rm)(llama_context *context, int32_t seq, int32_t p0, int32_t p1);
  void (*kv_seq_cp)(llama_context *context, int32_t src, int32_t dst, int32_t p0, int32_t p1);

  void (*backend_init)();
  void (*model_free)(llama_model *);
  void (*free_context)(llama_context *);
  const llama_vocab *(*model_get_vocab)(const llama_model *);
  int32_t (*model_n_layer)(const llama_model *);
  int32_t (*model_n_embd)(const llama_model *);
  int32_t (*model_n_head)(const llama_model *);
  int32_t (*model_n_head_kv)(const llama_model *);
  int32_t (*model_n_ctx_train)(const llama_model *);
  uint64_t (*model_n_params)(const llama_model *);
  uint64_t (*model_size)(const llama_model *);
  const char *(*model_chat_template)(const llama_model *, const char *name);
  int32_t (*vocab_n_tokens)(const llama_vocab *);
  int32_t (*vocab_bos)(const llama_vocab *);
  bool (*vocab_get_add_bos)(const llama_vocab *);
  const char *(*vocab_get_text)(const llama_vocab *, int32_t);
  bool (*vocab_is_eog)(const llama_vocab *, int32_t);
  int32_t (*tokenize)(const llama_vocab *, const char *, int32_t, int32_t *, int32_t, bool, bool);
  int32_t (*token_to_piece)(const llama_vocab *, int32_t, char *, int32_t, int32_t, bool);
  int32_t (*chat_apply_template)(const char *, const LlamaChatMessage *, size_t, bool, char *, int32_t);
  int32_t (*decode)(llama_context *, LlamaBatch);
  float *(*get_logits_ith)(llama_context *, int32_t);
  uint32_t (*n_ctx)(const llama_context *);
  uint32_t (*n_batch)(const llama_context *);
  uint32_t (*n_ubatch)(const llama_context *);
  uint32_t (*n_seq_max)(const llama_context *);
  void (*log_set)(LogCallback, void *);
  llama_sampler *(*sampler_chain_init)(LlamaSamplerChainParams);
  void (*sampler_chain_add)(llama_sampler *, llama_sampler *);
  llama_sampler *(*sampler_init_greedy)();
  llama_sampler *(*sampler_init_dist)(uint32_t);
  llama_sampler *(*sampler_init_top_k)(int32_t);
  llama_sampler *(*sampler_init_top_p)(float, size_t);
  llama_sampler *(*sampler_init_min_p)(float, size_t);
  llama_sampler *(*sampler_init_temp_ext)(float, float, float);
  llama_sampler *(*sampler_init_grammar)(const llama_vocab *, const char *, const char *);
  void (*sampler_apply)(llama_sampler *, LlamaTokenDataArray *);
  void (*sampler_accept)(llama_sampler *, int32_t);
  void (*sampler_reset)(llama_sampler *);
  void (*sampler_free)(llama_sampler *);
};

// A llama.cpp library the layer recognised, bound and initialised.
struct OpenedLibrary {
  void *handle = nullptr;
  LlamaApi api{};
  std::string release;      // the supported release it matched, e.g. "b4916" or "0.5.0"
  std::string description;  // one line for users: release, version strings, compute devices
};

// Names of the supported releases, for messages ("b4916, 0.5.0").
std::string supported_releases();

// dlopen()s path, recognises its release (symbols, llama_version(), a fingerprint of the default parameters),
// binds LlamaApi, loads the release's compute backends and calls llama_backend_init. Returns an empty string and
// fills out on success; otherwise closes the library again and returns one message that names the file, what was
// found and the supported releases. Never throws.
std::string open_llama_library(const char *path, LogCallback logger, OpenedLibrary &out);

}  // namespace amalgam_llama

#endif  // AMALGAM_LLAMA_ABI_H
