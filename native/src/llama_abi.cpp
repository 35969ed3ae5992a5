// The llama.cpp version layer (see llama_abi.h and docs/formats.md §8.2).
//
// Layouts are our own declarations of the facts in each release's include/llama.h, checked with static_asserts and,
// at run time, against a fingerprint of the library's default parameters, so that a library whose structs differ
// is refused before any struct is passed to it by value.
#include "llama_abi.h"

#include <dlfcn.h>

#include <cstring>
#include <exception>
#include <string>

namespace amalgam_llama {
namespace {

static_assert(sizeof(LlamaBatch) == 56 && offsetof(LlamaBatch, logits) == 48, "llama_batch layout");
static_assert(sizeof(LlamaTokenData) == 12, "llama_token_data layout");
static_assert(sizeof(LlamaTokenDataArray) == 32 && offsetof(LlamaTokenDataArray, sorted) == 24,
              "llama_token_data_array layout");
static_assert(sizeof(LlamaChatMessage) == 16, "llama_chat_message layout");

// Calls a *_default_params function into a buffer larger than any supported layout, pre-filled with a canary, so the
// bytes after the callee's struct show how large that struct is. The structs exceed 16 bytes, so the x86-64 SysV ABI
// returns them through a hidden pointer passed as the first integer argument: calling the function with our buffer
// as that argument lets it write there directly (a by-value call would go through a temporary of the caller's type).
struct ParamsProbe {
  unsigned char bytes[512];
};
constexpr unsigned char kCanary = 0xA5;

bool probe_params(void *function, ParamsProbe &probe) {
#if defined(__x86_64__)
  if (function == nullptr) return false;
  std::memset(probe.bytes, kCanary, sizeof(probe.bytes));
  reinterpret_cast<void *(*)(void *)>(function)(probe.bytes);
  return true;
#else
#error "the llama.cpp version layer's parameter probe supports x86-64 only"
#endif
}

template <typename T>
T read_at(const ParamsProbe &probe, size_t offset) {
  T value;
  std::memcpy(&value, probe.bytes + offset, sizeof(T));
  return value;
}

// True when the 16 bytes after a struct of `size` bytes are still the canary (the struct is not larger).
bool ends_at(const ParamsProbe &probe, size_t size) {
  for (size_t i = size; i < size + 16; i++) {
    if (probe.bytes[i] != kCanary) return false;
  }
  return true;
}

template <typename F>
void resolve(void *library, const char *name, F &slot, std::string &missing) {
  void *symbol = dlsym(library, name);
  if (symbol == nullptr) {
    if (!missing.empty()) missing += ", ";
    missing += name;
    return;
  }
  slot = reinterpret_cast<F>(symbol);
}

bool has(void *library, const char *name) { return dlsym(library, name) != nullptr; }

// The functions whose signatures every supported release shares.
void resolve_common(void *library, LlamaApi &api, std::string &missing) {
  resolve(library, "llama_backend_init", api.backend_init, missing);
  resolve(library, "llama_model_free", api.model_free, missing);
  resolve(library, "llama_free", api.free_context, missing);
  resolve(library, "llama_model_get_vocab", api.model_get_vocab, missing);
  resolve(library, "llama_model_n_layer", api.model_n_layer, missing);
  resolve(library, "llama_model_n_embd", api.model_n_embd, missing);
  resolve(library, "llama_model_n_head", api.model_n_head, missing);
  resolve(library, "llama_model_n_head_kv", api.model_n_head_kv, missing);
  resolve(library, "llama_model_n_ctx_train", api.model_n_ctx_train, missing);
  resolve(library, "llama_model_n_params", api.model_n_params, missing);
  resolve(library, "llama_model_size", api.model_size, missing);
  resolve(library, "llama_model_chat_template", api.model_chat_template, missing);
  resolve(library, "llama_vocab_n_tokens", api.vocab_n_tokens, missing);
  resolve(library, "llama_vocab_bos", api.vocab_bos, missing);
  resolve(library, "llama_vocab_get_add_bos", api.vocab_get_add_bos, missing);
  resolve(library, "llama_vocab_get_text", api.vocab_get_text, missing);
  resolve(library, "llama_vocab_is_eog", api.vocab_is_eog, missing);
  resolve(library, "llama_tokenize", api.tokenize, missing);
  resolve(library, "llama_token_to_piece", api.token_to_piece, missing);
  resolve(library, "llama_chat_apply_template", api.chat_apply_template, missing);
  resolve(library, "llama_decode", api.decode, missing);
  resolve(library, "llama_get_logits_ith", api.get_logits_ith, missing);
  resolve(library, "llama_n_ctx", api.n_ctx, missing);
  resolve(library, "llama_n_batch", api.n_batch, missing);
  resolve(library, "llama_n_ubatch", api.n_ubatch, missing);
  resolve(library, "llama_n_seq_max", api.n_seq_max, missing);
  resolve(library, "llama_log_set", api.log_set, missing);
  resolve(library, "llama_sampler_chain_init", api.sampler_chain_init, missing);
  resolve(library, "llama_sampler_chain_add", api.sampler_chain_add, missing);
  resolve(library, "llama_sampler_init_greedy", api.sampler_init_greedy, missing);
  resolve(library, "llama_sampler_init_dist", api.sampler_init_dist, missing);
  resolve(library, "llama_sampler_init_top_k", api.sampler_init_top_k, missing);
  resolve(library, "llama_sampler_init_top_p", api.sampler_init_top_p, missing);
  resolve(library, "llama_sampler_init_min_p", api.sampler_init_min_p, missing);
  resolve(library, "llama_sampler_init_temp_ext", api.sampler_init_temp_ext, missing);
  resolve(library, "llama_sampler_init_grammar", api.sampler_init_grammar, missing);
  resolve(library, "llama_sampler_apply", api.sampler_apply, missing);
  resolve(library, "llama_sampler_accept", api.sampler_accept, missing);
  resolve(library, "llama_sampler_reset", api.sampler_reset, missing);
  resolve(library, "llama_sampler_free", api.sampler_free, missing);
}

// The fields every release's parameter structs have under the same names; each release sets its own others.
template <typename ModelParams>
ModelParams model_settings(ModelParams params, int32_t n_gpu_layers, bool vocab_only) {
  params.n_gpu_layers = n_gpu_layers;
  params.vocab_only = vocab_only;
  return params;
}

template <typename ContextParams>
ContextParams context_settings(ContextParams params, const ContextSettings &s) {
  params.n_ctx = s.n_ctx;
  params.n_batch = s.n_batch;
  params.n_ubatch = s.n_ubatch;
  params.n_seq_max = s.n_seq_max;
  params.n_threads = s.n_threads;
  params.n_threads_batch = s.n_threads;
  params.type_k = s.f32_kv_cache ? 0 : 1;  // enum ggml_type: 0 F32, 1 F16
  params.type_v = s.f32_kv_cache ? 0 : 1;
  params.embeddings = false;
  params.no_perf = true;
  return params;
}

// ---------------------------------------------------------------------------------------------------------------
// Release b4916 (March 2025; java-llama.cpp 4.2.0's libjllama.so): llama_kv_self_* cache calls, no llama_version.
// ---------------------------------------------------------------------------------------------------------------
namespace b4916 {

struct ModelParams {
  void *devices;                      // @0
  int32_t n_gpu_layers;               // @8
  int32_t split_mode;                 // @12
  int32_t main_gpu;                   // @16
  const float *tensor_split;          // @24
  void *progress_callback;            // @32
  void *progress_callback_user_data;  // @40
  const void *kv_overrides;           // @48
  bool vocab_only;                    // @56
  bool use_mmap;                      // @57
  bool use_mlock;                     // @58
  bool check_tensors;                 // @59
};
static_assert(sizeof(ModelParams) == 64, "llama_model_params is 64 bytes in b4916");
static_assert(offsetof(ModelParams, n_gpu_layers) == 8 && offsetof(ModelParams, vocab_only) == 56, "b4916 model");

struct ContextParams {
  uint32_t n_ctx;             // @0
  uint32_t n_batch;           // @4
  uint32_t n_ubatch;          // @8
  uint32_t n_seq_max;         // @12
  int32_t n_threads;          // @16
  int32_t n_threads_batch;    // @20
  int32_t rope_scaling_type;  // @24
  int32_t pooling_type;       // @28
  int32_t attention_type;     // @32
  float rope_freq_base;       // @36
  float rope_freq_scale;      // @40
  float yarn_ext_factor;      // @44
  float yarn_attn_factor;     // @48
  float yarn_beta_fast;       // @52
  float yarn_beta_slow;       // @56
  uint32_t yarn_orig_ctx;     // @60
  float defrag_thold;         // @64
  void *cb_eval;              // @72
  void *cb_eval_user_data;    // @80
  int32_t type_k;             // @88 (enum ggml_type: 0 F32, 1 F16)
  int32_t type_v;             // @92
  bool logits_all;            // @96
  bool embeddings;            // @97
  bool offload_kqv;           // @98
  bool flash_attn;            // @99
  bool no_perf;               // @100
  void *abort_callback;       // @104
  void *abort_callback_data;  // @112
};
static_assert(sizeof(ContextParams) == 120, "llama_context_params is 120 bytes in b4916");
static_assert(offsetof(ContextParams, type_k) == 88 && offsetof(ContextParams, logits_all) == 96 &&
                  offsetof(ContextParams, abort_callback) == 104,
              "b4916 context");

struct Functions {
  ModelParams (*model_default_params)();
  ContextParams (*context_default_params)();
  llama_model *(*model_load_from_file)(const char *, ModelParams);
  llama_context *(*init_from_model)(llama_model *, ContextParams);
  void (*kv_self_clear)(llama_context *);
  bool (*kv_self_seq_rm)(llama_context *, int32_t, int32_t, int32_t);
  void (*kv_self_seq_cp)(llama_context *, int32_t, int32_t, int32_t, int32_t);
} fn;

llama_model *load_model(const char *path, int32_t n_gpu_layers, bool vocab_only) {
  return fn.model_load_from_file(path, model_settings(fn.model_default_params(), n_gpu_layers, vocab_only));
}

llama_context *new_context(llama_model *model, const ContextSettings &s) {
  ContextParams params = context_settings(fn.context_default_params(), s);
  params.logits_all = false;
  return fn.init_from_model(model, params);
}

void kv_clear(llama_context *c) { fn.kv_self_clear(c); }
bool kv_seq_rm(llama_context *c, int32_t seq, int32_t p0, int32_t p1) { return fn.kv_self_seq_rm(c, seq, p0, p1); }
void kv_seq_cp(llama_context *c, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
  fn.kv_self_seq_cp(c, src, dst, p0, p1);
}

bool recognise(void *library) {
  return has(library, "llama_kv_self_clear") && !has(library, "llama_get_memory") && !has(library, "llama_version");
}

// Defaults of b4916: n_batch 2048, n_ubatch 512, one sequence, F16 cache, YaRN attention factor 1; 120 and 64 bytes.
std::string check_fingerprint(void *library) {
  ParamsProbe context{}, model{};
  if (!probe_params(dlsym(library, "llama_context_default_params"), context) ||
      !probe_params(dlsym(library, "llama_model_default_params"), model)) {
    return "default parameter functions missing";
  }
  const bool ok = read_at<uint32_t>(context, 4) == 2048 && read_at<uint32_t>(context, 8) == 512 &&
                  read_at<uint32_t>(context, 12) == 1 && read_at<int32_t>(context, 88) == 1 &&
                  read_at<int32_t>(context, 92) == 1 && read_at<float>(context, 48) == 1.0f && ends_at(context, 120) &&
                  read_at<uint8_t>(model, 56) == 0 && read_at<uint8_t>(model, 57) == 1 && ends_at(model, 64);
  return ok ? "" : "its default llama_context_params/llama_model_params do not have b4916's layout";
}

std::string bind(void *library, LlamaApi &api) {
  std::string missing;
  resolve(library, "llama_model_default_params", fn.model_default_params, missing);
  resolve(library, "llama_context_default_params", fn.context_default_params, missing);
  resolve(library, "llama_model_load_from_file", fn.model_load_from_file, missing);
  resolve(library, "llama_init_from_model", fn.init_from_model, missing);
  resolve(library, "llama_kv_self_clear", fn.kv_self_clear, missing);
  resolve(library, "llama_kv_self_seq_rm", fn.kv_self_seq_rm, missing);
  resolve(library, "llama_kv_self_seq_cp", fn.kv_self_seq_cp, missing);
  api.load_model = load_model;
  api.new_context = new_context;
  api.kv_clear = kv_clear;
  api.kv_seq_rm = kv_seq_rm;
  api.kv_seq_cp = kv_seq_cp;
  return missing;
}

// The CPU backend is linked into the library: nothing to load.
void load_backends(void *, const std::string &) {}

std::string version_text(void *) { return "llama.cpp b4916"; }

}  // namespace b4916

// ---------------------------------------------------------------------------------------------------------------
// Release 0.5.0 (ggml-org/llama.cpp tag v0.5.0, ggml 0.25.1): llama_memory_* cache calls through llama_get_memory,
// llama_version(), backends in separate libggml-*.so files.
// ---------------------------------------------------------------------------------------------------------------
namespace v0_5_0 {

struct ModelParams {
  void *devices;                      // @0
  const void *tensor_buft_overrides;  // @8
  int32_t n_gpu_layers;               // @16 (negative: all layers)
  int32_t split_mode;                 // @20
  int32_t load_mode;                  // @24
  int32_t lazy_mode;                  // @28
  int32_t main_gpu;                   // @32
  const float *tensor_split;          // @40
  void *progress_callback;            // @48
  void *progress_callback_user_data;  // @56
  const void *kv_overrides;           // @64
  bool vocab_only;                    // @72
  bool check_tensors;                 // @73
  bool use_extra_bufts;               // @74
  bool no_host;                       // @75
  bool no_alloc;                      // @76
  bool load_mtp;                      // @77
};
static_assert(sizeof(ModelParams) == 80, "llama_model_params is 80 bytes in 0.5.0");
static_assert(offsetof(ModelParams, n_gpu_layers) == 16 && offsetof(ModelParams, vocab_only) == 72, "0.5.0 model");

struct ContextParams {
  uint32_t n_ctx;                  // @0
  uint32_t n_batch;                // @4
  uint32_t n_ubatch;               // @8
  uint32_t n_seq_max;              // @12
  uint32_t n_rs_seq;               // @16
  uint32_t n_outputs_max;          // @20
  uint32_t n_outputs_max_per_seq;  // @24
  int32_t n_threads;               // @28
  int32_t n_threads_batch;         // @32
  int32_t ctx_type;                // @36
  int32_t rope_scaling_type;       // @40
  int32_t pooling_type;            // @44
  int32_t attention_type;          // @48
  int32_t flash_attn_type;         // @52
  float rope_freq_base;            // @56
  float rope_freq_scale;           // @60
  float yarn_ext_factor;           // @64
  float yarn_attn_factor;          // @68
  float yarn_beta_fast;            // @72
  float yarn_beta_slow;            // @76
  uint32_t yarn_orig_ctx;          // @80
  float defrag_thold;              // @84
  void *cb_eval;                   // @88
  void *cb_eval_user_data;         // @96
  int32_t type_k;                  // @104
  int32_t type_v;                  // @108
  void *abort_callback;            // @112
  void *abort_callback_data;       // @120
  bool embeddings;                 // @128
  bool offload_kqv;                // @129
  bool no_perf;                    // @130
  bool op_offload;                 // @131
  bool swa_full;                   // @132
  bool kv_unified;                 // @133
  void *samplers;                  // @136
  size_t n_samplers;               // @144
  void *ctx_other;                 // @152
};
static_assert(sizeof(ContextParams) == 160, "llama_context_params is 160 bytes in 0.5.0");
static_assert(offsetof(ContextParams, n_threads) == 28 && offsetof(ContextParams, type_k) == 104 &&
                  offsetof(ContextParams, embeddings) == 128 && offsetof(ContextParams, kv_unified) == 133 &&
                  offsetof(ContextParams, samplers) == 136,
              "0.5.0 context");

struct llama_memory;

struct Functions {
  ModelParams (*model_default_params)();
  ContextParams (*context_default_params)();
  llama_model *(*model_load_from_file)(const char *, ModelParams);
  llama_context *(*init_from_model)(llama_model *, ContextParams);
  llama_memory *(*get_memory)(const llama_context *);
  void (*memory_clear)(llama_memory *, bool);
  bool (*memory_seq_rm)(llama_memory *, int32_t, int32_t, int32_t);
  void (*memory_seq_cp)(llama_memory *, int32_t, int32_t, int32_t, int32_t);
  const char *(*version)();
} fn;

llama_model *load_model(const char *path, int32_t n_gpu_layers, bool vocab_only) {
  return fn.model_load_from_file(path, model_settings(fn.model_default_params(), n_gpu_layers, vocab_only));
}

llama_context *new_context(llama_model *model, const ContextSettings &s) {
  ContextParams params = context_settings(fn.context_default_params(), s);
  // One cache shared by all sequences, as in b4916: sequences then share the cells of a copied prefix and a
  // sequence may use any free cell, instead of a fixed n_ctx / n_seq_max each.
  params.kv_unified = true;
  return fn.init_from_model(model, params);
}

void kv_clear(llama_context *c) { fn.memory_clear(fn.get_memory(c), true); }
bool kv_seq_rm(llama_context *c, int32_t seq, int32_t p0, int32_t p1) {
  return fn.memory_seq_rm(fn.get_memory(c), seq, p0, p1);
}
void kv_seq_cp(llama_context *c, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
  fn.memory_seq_cp(fn.get_memory(c), src, dst, p0, p1);
}

std::string version_of(void *library) {
  auto version = reinterpret_cast<const char *(*)()>(dlsym(library, "llama_version"));
  const char *text = version != nullptr ? version() : nullptr;
  return text != nullptr ? text : "";
}

// "0.5.0" from a release build, "0.5.0-dev" from a build of the same tree without the release flag.
bool recognise(void *library) {
  if (!has(library, "llama_get_memory")) return false;
  const std::string version = version_of(library);
  return version == "0.5.0" || version.rfind("0.5.0-", 0) == 0;
}

// Defaults of 0.5.0: n_batch 2048, n_ubatch 512, one sequence, F16 cache, all layers offloaded; 160 and 80 bytes.
std::string check_fingerprint(void *library) {
  ParamsProbe context{}, model{};
  if (!probe_params(dlsym(library, "llama_context_default_params"), context) ||
      !probe_params(dlsym(library, "llama_model_default_params"), model)) {
    return "default parameter functions missing";
  }
  const bool ok = read_at<uint32_t>(context, 4) == 2048 && read_at<uint32_t>(context, 8) == 512 &&
                  read_at<uint32_t>(context, 12) == 1 && read_at<int32_t>(context, 104) == 1 &&
                  read_at<int32_t>(context, 108) == 1 && ends_at(context, 160) && read_at<int32_t>(model, 16) == -1 &&
                  read_at<uint8_t>(model, 72) == 0 && ends_at(model, 80);
  return ok ? "" : "its default llama_context_params/llama_model_params do not have 0.5.0's layout";
}

std::string bind(void *library, LlamaApi &api) {
  std::string missing;
  resolve(library, "llama_model_default_params", fn.model_default_params, missing);
  resolve(library, "llama_context_default_params", fn.context_default_params, missing);
  resolve(library, "llama_model_load_from_file", fn.model_load_from_file, missing);
  resolve(library, "llama_init_from_model", fn.init_from_model, missing);
  resolve(library, "llama_get_memory", fn.get_memory, missing);
  resolve(library, "llama_memory_clear", fn.memory_clear, missing);
  resolve(library, "llama_memory_seq_rm", fn.memory_seq_rm, missing);
  resolve(library, "llama_memory_seq_cp", fn.memory_seq_cp, missing);
  api.load_model = load_model;
  api.new_context = new_context;
  api.kv_clear = kv_clear;
  api.kv_seq_rm = kv_seq_rm;
  api.kv_seq_cp = kv_seq_cp;
  return missing;
}

// Builds with GGML_BACKEND_DL keep every backend (the CPU ones too) in libggml-*.so files beside the library, which
// ggml loads on request; builds that link them in find nothing to add.
void load_backends(void *library, const std::string &directory) {
  auto load_all = reinterpret_cast<void (*)(const char *)>(dlsym(library, "ggml_backend_load_all_from_path"));
  if (load_all != nullptr) load_all(directory.c_str());
}

std::string version_text(void *library) {
  std::string text = "llama.cpp " + version_of(library);
  auto ggml_version = reinterpret_cast<const char *(*)()>(dlsym(library, "ggml_version"));
  auto ggml_commit = reinterpret_cast<const char *(*)()>(dlsym(library, "ggml_commit"));
  if (ggml_version != nullptr) {
    text += std::string(" (ggml ") + ggml_version();
    if (ggml_commit != nullptr) text += std::string(" ") + ggml_commit();
    text += ")";
  }
  return text;
}

}  // namespace v0_5_0

// ---------------------------------------------------------------------------------------------------------------
// The table of supported releases, tried in order.
// ---------------------------------------------------------------------------------------------------------------
struct Release {
  const char *name;
  bool (*recognise)(void *library);
  std::string (*check_fingerprint)(void *library);
  std::string (*bind)(void *library, LlamaApi &api);
  void (*load_backends)(void *library, const std::string &directory);
  std::string (*version_text)(void *library);
};

const Release kReleases[] = {
    {"b4916", b4916::recognise, b4916::check_fingerprint, b4916::bind, b4916::load_backends, b4916::version_text},
    {"0.5.0", v0_5_0::recognise, v0_5_0::check_fingerprint, v0_5_0::bind, v0_5_0::load_backends, v0_5_0::version_text},
};

// What a library that matches no release looks like, for the error message.
std::string describe_unknown(void *library) {
  if (!has(library, "llama_backend_init")) return "not a llama.cpp library (it has no llama_backend_init)";
  const std::string version = v0_5_0::version_of(library);
  if (!version.empty()) return "llama.cpp " + version;
  if (has(library, "llama_kv_self_clear")) return "llama.cpp with the llama_kv_self_* API, not b4916";
  if (has(library, "llama_kv_cache_clear")) return "an older llama.cpp (llama_kv_cache_* API)";
  return "llama.cpp of an unknown version (no llama_version)";
}

std::string devices_text(void *library) {
  auto count = reinterpret_cast<size_t (*)()>(dlsym(library, "ggml_backend_dev_count"));
  auto get = reinterpret_cast<void *(*)(size_t)>(dlsym(library, "ggml_backend_dev_get"));
  auto name = reinterpret_cast<const char *(*)(void *)>(dlsym(library, "ggml_backend_dev_name"));
  if (count == nullptr || get == nullptr || name == nullptr) return "";
  std::string text;
  for (size_t i = 0, n = count(); i < n; i++) {
    const char *device = name(get(i));
    if (!text.empty()) text += ", ";
    text += device != nullptr ? device : "?";
  }
  return text;
}

std::string directory_of(const char *path) {
  std::string p(path);
  size_t slash = p.find_last_of('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

}  // namespace

std::string supported_releases() {
  std::string names;
  for (const Release &r : kReleases) {
    if (!names.empty()) names += ", ";
    names += r.name;
  }
  return names;
}

std::string open_llama_library(const char *path, LogCallback logger, OpenedLibrary &out) {
  try {
    dlerror();
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      const char *why = dlerror();
      return std::string("dlopen ") + path + ": " + (why ? why : "unknown error");
    }
    const Release *release = nullptr;
    for (const Release &r : kReleases) {
      if (r.recognise(library)) {
        release = &r;
        break;
      }
    }
    const std::string supported = "; supported llama.cpp releases: " + supported_releases() +
                                  " (b4916 is java-llama.cpp 4.2.0's libjllama.so, 0.5.0 the tag v0.5.0)";
    if (release == nullptr) {
      std::string found = describe_unknown(library);
      dlclose(library);
      return std::string(path) + " is " + found + supported;
    }
    LlamaApi api{};
    std::string missing;
    resolve_common(library, api, missing);
    std::string bound = release->bind(library, api);
    if (!bound.empty()) missing += (missing.empty() ? "" : ", ") + bound;
    if (!missing.empty()) {
      dlclose(library);
      return std::string(path) + " looks like llama.cpp " + release->name + " but lacks " + missing + supported;
    }
    std::string layout = release->check_fingerprint(library);
    if (!layout.empty()) {
      dlclose(library);
      return std::string(path) + " looks like llama.cpp " + release->name + " but " + layout + supported;
    }
    api.log_set(logger, nullptr);
    release->load_backends(library, directory_of(path));
    api.backend_init();
    out.handle = library;
    out.api = api;
    out.release = release->name;
    out.description = release->version_text(library);
    std::string devices = devices_text(library);
    if (!devices.empty()) out.description += "; devices: " + devices;
    return "";
  } catch (const std::exception &e) {
    return std::string("opening ") + path + " threw: " + e.what();
  } catch (...) {
    return std::string("opening ") + path + " threw an unknown exception";
  }
}

}  // namespace amalgam_llama
