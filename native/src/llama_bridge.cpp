// The bridge to llama.cpp's C API: exact log-likelihood scoring and the primitives of batched generation.
//
// The library is dlopen()ed at run time and its llama_* functions are resolved with dlsym, so nothing here needs
// llama.cpp headers or links against it. Which llama.cpp release it is, and everything that differs between the
// supported releases, is the version layer's business (llama_abi.h); this file sees one function table.
//
// Nothing throws across the C ABI: every exported function catches std::exception and everything else, records a
// message for amalgam_llama_last_error() and returns a status. Arguments that would abort the process inside
// llama.cpp (more tokens than n_batch, token ids outside the vocabulary, unknown sequences) are rejected before any
// llama.cpp call.
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "amalgam_llama.h"
#include "llama_abi.h"

namespace {

using namespace amalgam_llama;

struct Model {
  llama_model *model;
  const llama_vocab *vocab;
  int32_t n_vocab;
};

struct Context {
  llama_context *context;
  Model *model;
  int32_t n_ctx;
  int32_t n_batch;
  int32_t n_ubatch;  // llama_decode splits a call into pieces of this many tokens, from the call's first token
  int32_t n_seq_max;
};

// A sampler per generated sequence: the chain that picks a token and, apart from it, the grammar, applied the way
// llama-server applies it (docs/formats.md §8.4).
struct Sampler {
  llama_sampler *chain;
  llama_sampler *grammar;  // null without a grammar
  Model *model;
  std::vector<LlamaTokenData> candidates;
};

std::mutex g_open_mutex;
void *g_library = nullptr;
std::string g_library_path;
OpenedLibrary g_opened;
LlamaApi g_api{};
volatile int g_verbose = 0;
thread_local std::string g_last_error;

void set_error(const std::string &message) { g_last_error = message; }

int32_t fail(int32_t status, const std::string &message) {
  set_error(message);
  return status;
}

// Silences llama.cpp and ggml unless verbose; installed before every model load because a binding loaded from the same
// file shares this library instance and re-installs its own logger.
// While a thread captures (grammar parsing), llama.cpp's error messages on that thread are kept.
thread_local bool g_capturing = false;
thread_local std::string g_captured;

void log_callback(int level, const char *text, void * /*user_data*/) {
  if (text == nullptr) return;
  if (g_capturing && (level == 4 || (level == 5 && !g_captured.empty()))) g_captured += text;  // errors
  if (g_verbose) std::fputs(text, stderr);
}

bool library_open() { return g_library != nullptr; }

// Creates a grammar sampler, or returns null with llama.cpp's reason. llama.cpp's GBNF parser writes its reason
// ("Undefined rule identifier 'x'") to stderr rather than to the log callback, and b4916 even returns a sampler without
// a grammar when parsing fails, so stderr is redirected to a temporary file for the call (serialised; whatever else
// was written meanwhile is passed on to stderr afterwards) and the text decides.
std::mutex g_stderr_mutex;

llama_sampler *init_grammar(const llama_vocab *vocab, const char *grammar, const char *root, std::string &reason) {
  std::lock_guard<std::mutex> lock(g_stderr_mutex);
  std::string captured;
  FILE *capture = std::tmpfile();
  int saved = capture != nullptr ? dup(STDERR_FILENO) : -1;
  if (saved >= 0) {
    std::fflush(stderr);
    dup2(fileno(capture), STDERR_FILENO);
  }
  g_captured.clear();
  g_capturing = true;
  llama_sampler *sampler = nullptr;
  try {
    sampler = g_api.sampler_init_grammar(vocab, grammar, root);
  } catch (...) {
    sampler = nullptr;
    g_captured += "llama.cpp threw while parsing the grammar";
  }
  g_capturing = false;
  if (saved >= 0) {
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    std::rewind(capture);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), capture)) > 0) captured.append(buffer, n);
  }
  if (capture != nullptr) std::fclose(capture);
  // llama.cpp's error-level log (a missing root symbol, left recursion) or its parser's stderr message.
  // A valid grammar makes llama.cpp print nothing; its error-level log or any stderr text means it was refused
  // (b4916 prints the missing-root error to stderr and still returns a sampler without a grammar).
  const bool refused = sampler == nullptr || !g_captured.empty() || !captured.empty();
  if (!refused) return sampler;
  if (sampler != nullptr) g_api.sampler_free(sampler);
  // The first line names the cause; the grammar echo after it adds nothing.
  std::string text = captured.empty() ? g_captured : captured;
  size_t at = text.find("error parsing grammar: ");
  if (at != std::string::npos) {
    text = text.substr(at + std::strlen("error parsing grammar: "));
  } else if ((at = text.find(": ")) != std::string::npos && at < 40) {
    text = text.substr(at + 2);  // "function: message"
  }
  size_t end = text.find('\n');
  reason = end == std::string::npos ? text : text.substr(0, end);
  if (g_verbose) std::fputs(captured.c_str(), stderr);
  return nullptr;
}

// Wraps a body so no exception crosses the C ABI.
template <typename Body>
int32_t guarded(const char *what, Body body) {
  try {
    return body();
  } catch (const std::exception &e) {
    return fail(AMALGAM_LLAMA_ERR_EXCEPTION, std::string(what) + ": llama.cpp threw: " + e.what());
  } catch (...) {
    return fail(AMALGAM_LLAMA_ERR_EXCEPTION, std::string(what) + ": llama.cpp threw an unknown exception");
  }
}

Model *as_model(int64_t handle) { return reinterpret_cast<Model *>(static_cast<intptr_t>(handle)); }

// Softmax statistics of one logits row: its largest logit, the first token holding it and log(sum(exp(logit - max)))
// summed in double. Kept separate from the per-token lookup so a row shared by several sequences is reduced once.
struct RowStats {
  float max;
  int32_t argmax;
  double log_sum;
};

RowStats row_stats(const float *row, int32_t n_vocab) {
  float max = row[0];
  int32_t argmax = 0;
  for (int32_t v = 1; v < n_vocab; v++) {
    if (row[v] > max) {
      max = row[v];
      argmax = v;
    }
  }
  double sum = 0.0;
  for (int32_t v = 0; v < n_vocab; v++) sum += std::exp(static_cast<double>(row[v]) - max);
  return RowStats{max, argmax, std::log(sum)};
}

// log p(next) from a row and its statistics; is_max is 1 where next is a most likely token.
double row_log_prob(const float *row, const RowStats &stats, int32_t next, int32_t *is_max) {
  if (is_max != nullptr) *is_max = (next == stats.argmax || row[next] == stats.max) ? 1 : 0;
  return static_cast<double>(row[next]) - stats.max - stats.log_sum;
}

// Decodes n tokens of sequence 0 at positions first_pos.. as one batch; output[i] != 0 requests logits for token i.
int32_t decode_at(llama_context *context, const int32_t *tokens, int32_t n, int32_t first_pos, const int8_t *output) {
  std::vector<int32_t> token(tokens, tokens + n);
  std::vector<int32_t> pos(n);
  std::vector<int32_t> n_seq_id(n, 1);
  int32_t seq_zero = 0;
  std::vector<int32_t *> seq_id(static_cast<size_t>(n) + 1, &seq_zero);
  seq_id[n] = nullptr;
  std::vector<int8_t> logits(output, output + n);
  for (int32_t i = 0; i < n; i++) pos[i] = first_pos + i;
  LlamaBatch batch{n, token.data(), nullptr, pos.data(), n_seq_id.data(), seq_id.data(), logits.data()};
  return g_api.decode(context, batch);
}
Context *as_context(int64_t handle) { return reinterpret_cast<Context *>(static_cast<intptr_t>(handle)); }
Sampler *as_sampler(int64_t handle) { return reinterpret_cast<Sampler *>(static_cast<intptr_t>(handle)); }

// Copies text (no NUL) into out; *length = its byte length, also when out is too small.
int32_t copy_text(const std::string &text, char *out, int32_t capacity, int32_t *length) {
  if (length == nullptr || capacity < 0 || (out == nullptr && capacity > 0)) {
    return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null output or negative capacity");
  }
  *length = static_cast<int32_t>(text.size());
  if (text.size() > static_cast<size_t>(capacity)) {
    return fail(AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL, "text needs " + std::to_string(text.size()) + " bytes");
  }
  if (!text.empty()) std::memcpy(out, text.data(), text.size());
  return AMALGAM_LLAMA_OK;
}

}  // namespace

extern "C" {

AMALGAM_LLAMA_API int32_t amalgam_llama_abi_version(void) { return AMALGAM_LLAMA_ABI_VERSION; }

AMALGAM_LLAMA_API const char *amalgam_llama_last_error(void) { return g_last_error.c_str(); }

AMALGAM_LLAMA_API const char *amalgam_llama_status_message(int32_t status) {
  switch (status) {
    case AMALGAM_LLAMA_OK:
      return "ok";
    case AMALGAM_LLAMA_ERR_ARGUMENT:
      return "invalid argument";
    case AMALGAM_LLAMA_ERR_LIBRARY:
      return "llama library could not be opened";
    case AMALGAM_LLAMA_ERR_NOT_OPEN:
      return "llama library not opened";
    case AMALGAM_LLAMA_ERR_MODEL_LOAD:
      return "model could not be loaded";
    case AMALGAM_LLAMA_ERR_CONTEXT:
      return "context could not be created";
    case AMALGAM_LLAMA_ERR_TOO_MANY_TOKENS:
      return "too many tokens for the batch or context";
    case AMALGAM_LLAMA_ERR_BAD_TOKEN:
      return "token id outside the vocabulary";
    case AMALGAM_LLAMA_ERR_DECODE:
      return "llama_decode failed";
    case AMALGAM_LLAMA_ERR_EXCEPTION:
      return "llama.cpp threw an exception";
    case AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL:
      return "output buffer too small";
    case AMALGAM_LLAMA_ERR_NO_LOGITS:
      return "no logits for a requested position";
    case AMALGAM_LLAMA_ERR_KV_FULL:
      return "no room in the KV cache";
    case AMALGAM_LLAMA_ERR_GRAMMAR:
      return "grammar refused";
    case AMALGAM_LLAMA_ERR_TEMPLATE:
      return "chat template not supported";
    default:
      return "unknown status";
  }
}

AMALGAM_LLAMA_API int32_t amalgam_llama_open_library(const char *path, int32_t verbose) {
  return guarded("amalgam_llama_open_library", [&]() -> int32_t {
    if (path == nullptr || *path == '\0') return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "library path is empty");
    std::lock_guard<std::mutex> lock(g_open_mutex);
    g_verbose = verbose != 0;
    if (library_open()) {
      if (g_library_path == path) return AMALGAM_LLAMA_OK;
      return fail(AMALGAM_LLAMA_ERR_LIBRARY,
                  "a llama library is already open from " + g_library_path + "; cannot also open " + std::string(path));
    }
    // ggml_abort would first try to attach gdb for a backtrace; keep a user's explicit choice.
    setenv("GGML_NO_BACKTRACE", "1", 0);
    OpenedLibrary opened;
    std::string error = open_llama_library(path, log_callback, opened);
    if (!error.empty()) return fail(AMALGAM_LLAMA_ERR_LIBRARY, error);
    g_opened = opened;
    g_api = opened.api;
    g_library = opened.handle;
    g_library_path = path;
    return AMALGAM_LLAMA_OK;
  });
}
AMALGAM_LLAMA_API int32_t amalgam_llama_load_model(const char *path, int32_t n_gpu_layers, int32_t vocab_only,
                                                   int64_t *model_out) {
  return guarded("amalgam_llama_load_model", [&]() -> int32_t {
    if (!library_open()) return fail(AMALGAM_LLAMA_ERR_NOT_OPEN, "call amalgam_llama_open_library first");
    if (path == nullptr || model_out == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null path or output");
    if (n_gpu_layers < 0) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "n_gpu_layers must be >= 0");
    *model_out = 0;
    g_api.log_set(log_callback, nullptr);
    llama_model *model = g_api.load_model(path, n_gpu_layers, vocab_only != 0);
    if (model == nullptr) {
      return fail(AMALGAM_LLAMA_ERR_MODEL_LOAD,
                  "llama.cpp could not load the model (not a GGUF file llama.cpp supports?)");
    }
    const llama_vocab *vocab = g_api.model_get_vocab(model);
    int32_t n_vocab = vocab ? g_api.vocab_n_tokens(vocab) : 0;
    if (n_vocab <= 0) {
      g_api.model_free(model);
      return fail(AMALGAM_LLAMA_ERR_MODEL_LOAD, "model has no vocabulary");
    }
    *model_out = static_cast<int64_t>(reinterpret_cast<intptr_t>(new Model{model, vocab, n_vocab}));
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_free_model(int64_t model) {
  return guarded("amalgam_llama_free_model", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr) return AMALGAM_LLAMA_OK;
    if (library_open()) g_api.model_free(m->model);
    delete m;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_model_info(int64_t model, int32_t *info) {
  return guarded("amalgam_llama_model_info", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || info == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model or output");
    info[0] = m->n_vocab;
    info[1] = g_api.vocab_bos(m->vocab);
    info[2] = g_api.vocab_get_add_bos(m->vocab) ? 1 : 0;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_token_text(int64_t model, int32_t token, char *out, int32_t capacity,
                                                   int32_t *length) {
  return guarded("amalgam_llama_token_text", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || length == nullptr || capacity < 0 || (out == nullptr && capacity > 0)) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model, output or negative capacity");
    }
    if (token < 0 || token >= m->n_vocab) {
      return fail(AMALGAM_LLAMA_ERR_BAD_TOKEN,
                  "token " + std::to_string(token) + " outside [0, " + std::to_string(m->n_vocab) + ")");
    }
    const char *text = g_api.vocab_get_text(m->vocab, token);
    size_t n = text ? std::strlen(text) : 0;
    *length = static_cast<int32_t>(n);
    if (n > static_cast<size_t>(capacity)) return fail(AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL, "token text too long");
    if (n > 0) std::memcpy(out, text, n);
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_new_context(int64_t model, int32_t n_ctx, int32_t n_batch, int32_t n_seq_max,
                                                    int32_t n_threads, int32_t f32_kv_cache, int64_t *context_out) {
  return guarded("amalgam_llama_new_context", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || context_out == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model or output");
    if (n_ctx <= 0 || n_batch <= 0 || n_threads <= 0) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "n_ctx, n_batch and n_threads must be positive");
    }
    if (n_seq_max < 1 || n_seq_max > AMALGAM_LLAMA_MAX_SEQUENCES) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "n_seq_max must be in [1, " +
                                                  std::to_string(AMALGAM_LLAMA_MAX_SEQUENCES) + "], got " +
                                                  std::to_string(n_seq_max));
    }
    *context_out = 0;
    ContextSettings settings{static_cast<uint32_t>(n_ctx),
                             static_cast<uint32_t>(n_batch),
                             static_cast<uint32_t>(n_batch < 512 ? n_batch : 512),
                             static_cast<uint32_t>(n_seq_max),
                             n_threads,
                             f32_kv_cache != 0};
    g_api.log_set(log_callback, nullptr);
    llama_context *context = g_api.new_context(m->model, settings);
    if (context == nullptr) {
      return fail(AMALGAM_LLAMA_ERR_CONTEXT, "llama_init_from_model failed (n_ctx " + std::to_string(n_ctx) +
                                                 ", n_batch " + std::to_string(n_batch) + ")");
    }
    auto *c = new Context{context,
                          m,
                          static_cast<int32_t>(g_api.n_ctx(context)),
                          static_cast<int32_t>(g_api.n_batch(context)),
                          static_cast<int32_t>(g_api.n_ubatch(context)),
                          static_cast<int32_t>(g_api.n_seq_max(context))};
    *context_out = static_cast<int64_t>(reinterpret_cast<intptr_t>(c));
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_free_context(int64_t context) {
  return guarded("amalgam_llama_free_context", [&]() -> int32_t {
    Context *c = as_context(context);
    if (c == nullptr) return AMALGAM_LLAMA_OK;
    if (library_open()) g_api.free_context(c->context);
    delete c;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_context_info(int64_t context, int32_t *info) {
  return guarded("amalgam_llama_context_info", [&]() -> int32_t {
    Context *c = as_context(context);
    if (c == nullptr || info == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null context or output");
    info[0] = c->n_ctx;
    info[1] = c->n_batch;
    info[2] = c->n_ubatch;
    info[3] = c->n_seq_max;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_tokenize(int64_t model, const char *text, int32_t text_length,
                                                 int32_t add_special, int32_t parse_special, int32_t *tokens,
                                                 int32_t capacity, int32_t *count) {
  return guarded("amalgam_llama_tokenize", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || count == nullptr || text_length < 0 || capacity < 0 || (text == nullptr && text_length > 0) ||
        (tokens == nullptr && capacity > 0)) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model/text/output or negative length");
    }
    static const char empty[1] = {0};
    int32_t n = g_api.tokenize(m->vocab, text ? text : empty, text_length, tokens, capacity, add_special != 0,
                               parse_special != 0);
    if (n < 0) {
      if (n == INT32_MIN) return fail(AMALGAM_LLAMA_ERR_TOO_MANY_TOKENS, "text has more than 2^31-1 tokens");
      *count = -n;
      return fail(AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL,
                  "token buffer holds " + std::to_string(capacity) + ", needs " + std::to_string(-n));
    }
    *count = n;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_score(int64_t context, const int32_t *tokens, int32_t n_tokens, int32_t from,
                                              double *log_probs, int32_t *is_argmax) {
  return guarded("amalgam_llama_score", [&]() -> int32_t {
    Context *c = as_context(context);
    if (c == nullptr || tokens == nullptr || log_probs == nullptr) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null context, tokens or output");
    }
    if (n_tokens < 2 || from < 0 || from >= n_tokens - 1) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "need n_tokens >= 2 and 0 <= from < n_tokens - 1 (n_tokens " +
                                                  std::to_string(n_tokens) + ", from " + std::to_string(from) + ")");
    }
    if (n_tokens > c->n_batch || n_tokens > c->n_ctx) {
      return fail(AMALGAM_LLAMA_ERR_TOO_MANY_TOKENS, std::to_string(n_tokens) + " tokens exceed n_batch " +
                                                         std::to_string(c->n_batch) + " / n_ctx " +
                                                         std::to_string(c->n_ctx));
    }
    const int32_t n_vocab = c->model->n_vocab;
    for (int32_t i = 0; i < n_tokens; i++) {
      if (tokens[i] < 0 || tokens[i] >= n_vocab) {
        return fail(AMALGAM_LLAMA_ERR_BAD_TOKEN, "token " + std::to_string(tokens[i]) + " at position " +
                                                     std::to_string(i) + " outside [0, " + std::to_string(n_vocab) +
                                                     ")");
      }
    }
    std::vector<int8_t> output(n_tokens, 0);
    for (int32_t i = from; i < n_tokens - 1; i++) output[i] = 1;
    g_api.kv_clear(c->context);
    int32_t rc = decode_at(c->context, tokens, n_tokens, 0, output.data());
    if (rc != 0) return fail(AMALGAM_LLAMA_ERR_DECODE, "llama_decode returned " + std::to_string(rc));
    for (int32_t i = from; i < n_tokens - 1; i++) {
      const float *row = g_api.get_logits_ith(c->context, i);
      if (row == nullptr) return fail(AMALGAM_LLAMA_ERR_NO_LOGITS, "no logits at position " + std::to_string(i));
      log_probs[i - from] = row_log_prob(row, row_stats(row, n_vocab), tokens[i + 1],
                                         is_argmax != nullptr ? &is_argmax[i - from] : nullptr);
    }
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_score_shared_prefix(int64_t context, const int32_t *tokens, int32_t n_prefix,
                                                            const int32_t *suffix_offsets, int32_t n_sequences,
                                                            const int32_t *from, double *log_probs, int32_t *is_argmax,
                                                            int32_t capacity) {
  return guarded("amalgam_llama_score_shared_prefix", [&]() -> int32_t {
    Context *c = as_context(context);
    if (c == nullptr || tokens == nullptr || suffix_offsets == nullptr || from == nullptr || log_probs == nullptr) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null context, tokens, offsets, from or output");
    }
    if (n_prefix < 1 || n_sequences < 1) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "need n_prefix >= 1 and n_sequences >= 1 (n_prefix " +
                                                  std::to_string(n_prefix) + ", n_sequences " +
                                                  std::to_string(n_sequences) + ")");
    }
    if (suffix_offsets[0] != 0) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "suffix_offsets[0] must be 0");
    // Validate every sequence before anything is decoded (lengths in int64 so no sum can overflow).
    int64_t outputs = 0;
    for (int32_t s = 0; s < n_sequences; s++) {
      if (suffix_offsets[s + 1] < suffix_offsets[s]) {
        return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "suffix_offsets decrease at sequence " + std::to_string(s));
      }
      const int64_t length = static_cast<int64_t>(n_prefix) + suffix_offsets[s + 1] - suffix_offsets[s];
      if (length < 2 || from[s] < 0 || from[s] >= length - 1) {
        return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "sequence " + std::to_string(s) +
                                                    ": need n_tokens >= 2 and 0 <= "
                                                    "from < n_tokens - 1 (n_tokens " +
                                                    std::to_string(length) + ", from " + std::to_string(from[s]) + ")");
      }
      if (length > c->n_batch || length > c->n_ctx) {
        return fail(AMALGAM_LLAMA_ERR_TOO_MANY_TOKENS, "sequence " + std::to_string(s) + ": " + std::to_string(length) +
                                                           " tokens exceed n_batch " + std::to_string(c->n_batch) +
                                                           " / n_ctx " + std::to_string(c->n_ctx));
      }
      outputs += length - 1 - from[s];
    }
    if (outputs != capacity) {
      return fail(AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL, "output holds " + std::to_string(capacity) +
                                                          " values, the sequences need " + std::to_string(outputs));
    }
    const int32_t n_vocab = c->model->n_vocab;
    const int64_t n_all = static_cast<int64_t>(n_prefix) + suffix_offsets[n_sequences];
    for (int64_t i = 0; i < n_all; i++) {
      if (tokens[i] < 0 || tokens[i] >= n_vocab) {
        return fail(AMALGAM_LLAMA_ERR_BAD_TOKEN, "token " + std::to_string(tokens[i]) + " at index " +
                                                     std::to_string(i) + " outside [0, " + std::to_string(n_vocab) +
                                                     ")");
      }
    }
    // Exactness. llama_decode cuts a call into ubatches of n_ubatch tokens from the call's first token, and its CPU
    // matrix products give the same bits for a row whether its ubatch holds 2 or 500 rows (whatever the KV cache holds
    // beyond the causal mask, and with any thread count), but a ubatch of one row takes a matrix-vector path that
    // rounds differently. That holds for every layer (tokens of the ubatch) and for the last one, which runs only on
    // the ubatch's output rows. A one-batch score of sequence s (amalgam_llama_score) therefore fixes, per reference
    // ubatch [kU, (k+1)U), whether it has one or more tokens and one or more outputs; every decode here reproduces
    // those classes for every row the sequence uses:
    //  - the shared prefix is cut at `cut` <= n_prefix so that its last ubatch has 0 or >= 2 tokens and each
    //    sequence's own first piece [cut, next multiple of U) has >= 2; the prefix ubatches then have the reference's
    //    boundaries, and the own tokens are decoded in pieces ending at multiples of U, so later pieces are exactly
    //    the reference's ubatches;
    //  - per prefix ubatch, the output rows are those of the sequences with >= 2 outputs there (plus an unneeded row
    //    when that makes one), or, if there are none, the one row all sequences with a single output there share;
    //    in each sequence's own first piece an unneeded row is added where the reference ubatch had >= 2 outputs and
    //    the piece has 1;
    //  - a sequence with one scored token at a prefix position q that the prefix decode could not serve ("late") is
    //    done last: cut the KV cache back to q, decode tokens q and q + 1 with one output (in decreasing q, so the
    //    cache only shrinks); any other sequence that cannot be served is scored alone, as amalgam_llama_score does.
    auto length_of = [&](int32_t s) { return n_prefix + suffix_offsets[s + 1] - suffix_offsets[s]; };
    auto scored_of = [&](int32_t s) { return length_of(s) - 1 - from[s]; };
    std::vector<int64_t> first_output(n_sequences);
    for (int32_t s = 0, offset = 0; s < n_sequences; s++) {
      first_output[s] = offset;
      offset += scored_of(s);
    }
    const int32_t U = c->n_ubatch > 0 ? std::min(c->n_ubatch, c->n_batch) : c->n_batch;
    auto chunk_end = [&](int32_t i) { return (i / U + 1) * U; };  // end of the reference ubatch holding position i
    // Outputs of sequence s among positions [p0, p1).
    auto outputs_in = [&](int32_t s, int32_t p0, int32_t p1) {
      return std::max(0, std::min(p1, length_of(s) - 1) - std::max(p0, from[s]));
    };
    int32_t cut = n_prefix;
    if (U >= 4) {
      if (cut % U == 1) cut -= 1;
      if (cut % U == U - 1) cut -= 1;
    }
    enum Mode : int8_t { SHARED = 0, LATE = 1, ALONE = 2 };
    std::vector<int8_t> mode(n_sequences, (U < 4 || cut < 2) ? ALONE : SHARED);
    std::vector<int8_t> prefix_output(cut > 0 ? cut : 1, 0);
    if (U >= 4 && cut >= 2) {
      for (int32_t j0 = 0; j0 < cut; j0 += U) {
        const int32_t j1 = std::min(j0 + U, cut);
        int32_t rows = 0;
        for (int32_t s = 0; s < n_sequences; s++) {
          if (outputs_in(s, j0, j1) == 0 || outputs_in(s, j0, j0 + U) < 2) continue;
          for (int32_t i = std::max(j0, from[s]); i < std::min(j1, length_of(s) - 1); i++) {
            rows += prefix_output[i] ? 0 : 1;
            prefix_output[i] = 1;
          }
        }
        int32_t single = -1;  // the row shared by the sequences with one output in this ubatch, if it can be
        for (int32_t s = 0; s < n_sequences; s++) {
          if (outputs_in(s, j0, j1) == 0 || outputs_in(s, j0, j0 + U) != 1) continue;
          const int32_t q = std::max(j0, from[s]);
          if (rows == 0 && (single < 0 || single == q)) {
            single = q;
          } else if (scored_of(s) == 1 && q % U != U - 1) {
            mode[s] = std::max<int8_t>(mode[s], LATE);
          } else {
            mode[s] = ALONE;
          }
        }
        if (single >= 0) {
          prefix_output[single] = 1;
        } else if (rows == 1) {
          for (int32_t i = j1 - 1; i >= j0; i--) {
            if (!prefix_output[i]) {
              prefix_output[i] = 1;  // unneeded, only to keep the last layer on two rows
              break;
            }
          }
        }
      }
      bool any_output = false;
      for (int32_t i = 0; i < cut; i++) any_output |= prefix_output[i] != 0;
      if (!any_output) prefix_output[cut - 1] = 1;  // unneeded: a decode without outputs is avoided, not relied on
    }
    // Token at position i of sequence s: the prefix, then that sequence's own tokens.
    auto token_at = [&](int32_t s, int32_t i) {
      return i < n_prefix ? tokens[i] : tokens[n_prefix + suffix_offsets[s] + (i - n_prefix)];
    };
    // Reads sequence s's values at positions [p0, p1) from the rows of the last decode (row = position - first_pos).
    auto read = [&](int32_t s, int32_t p0, int32_t p1, int32_t first_pos) -> int32_t {
      for (int32_t i = std::max(p0, from[s]); i < std::min(p1, length_of(s) - 1); i++) {
        const float *row = g_api.get_logits_ith(c->context, i - first_pos);
        if (row == nullptr) {
          return fail(AMALGAM_LLAMA_ERR_NO_LOGITS,
                      "no logits at position " + std::to_string(i) + " of sequence " + std::to_string(s));
        }
        const int64_t out = first_output[s] + (i - from[s]);
        log_probs[out] = row_log_prob(row, row_stats(row, n_vocab), token_at(s, i + 1),
                                      is_argmax != nullptr ? &is_argmax[out] : nullptr);
      }
      return AMALGAM_LLAMA_OK;
    };
    std::vector<int8_t> output;
    std::vector<int32_t> own;
    // Decodes sequence s's tokens [p0, p1) on top of the KV cache as one call (one ubatch when it stays within a
    // reference ubatch), with its output rows (plus the piece's last row when extra_row) and reads them.
    auto decode_piece = [&](int32_t s, int32_t p0, int32_t p1, bool extra_row) -> int32_t {
      own.resize(p1 - p0);
      output.assign(p1 - p0, 0);
      for (int32_t i = p0; i < p1; i++) {
        own[i - p0] = token_at(s, i);
        output[i - p0] = i >= from[s] && i < length_of(s) - 1 ? 1 : 0;
      }
      if (extra_row) {
        for (int32_t i = p1 - 1; i >= p0; i--) {
          if (!output[i - p0]) {
            output[i - p0] = 1;
            break;
          }
        }
      }
      const int32_t status = decode_at(c->context, own.data(), p1 - p0, p0, output.data());
      if (status != 0) {
        return fail(AMALGAM_LLAMA_ERR_DECODE, "llama_decode (sequence " + std::to_string(s) + ", positions " +
                                                  std::to_string(p0) + ".." + std::to_string(p1 - 1) + ") returned " +
                                                  std::to_string(status));
      }
      return read(s, p0, p1, p0);
    };
    auto cut_cache = [&](int32_t from_pos) -> int32_t {
      if (g_api.kv_seq_rm(c->context, 0, from_pos, -1)) return AMALGAM_LLAMA_OK;
      return fail(AMALGAM_LLAMA_ERR_DECODE,
                  "llama_kv_self_seq_rm could not cut the KV cache back to position " + std::to_string(from_pos));
    };

    int32_t rc = AMALGAM_LLAMA_OK;
    bool any_shared = false;
    for (int32_t s = 0; s < n_sequences; s++) any_shared |= mode[s] != ALONE;
    if (any_shared) {
      g_api.kv_clear(c->context);
      rc = decode_at(c->context, tokens, cut, 0, prefix_output.data());
      if (rc != 0) return fail(AMALGAM_LLAMA_ERR_DECODE, "llama_decode (prefix) returned " + std::to_string(rc));
      // The prefix's logits are overwritten by the next decode: read every sequence's prefix positions now.
      for (int32_t s = 0; s < n_sequences; s++) {
        if (mode[s] != SHARED) continue;
        rc = read(s, 0, cut, 0);
        if (rc != AMALGAM_LLAMA_OK) return rc;
      }
      // Each sequence's own tokens on top of the prefix, in pieces ending where the reference's ubatches end.
      for (int32_t s = 0; s < n_sequences; s++) {
        const int32_t length = length_of(s);
        if (mode[s] != SHARED || outputs_in(s, cut, length) == 0) continue;
        for (int32_t p0 = cut; p0 < length;) {
          const int32_t p1 = std::min(chunk_end(p0), length);
          const int32_t reference = outputs_in(s, (p0 / U) * U, chunk_end(p0));
          rc = decode_piece(s, p0, p1, reference >= 2 && outputs_in(s, p0, p1) == 1);
          if (rc != AMALGAM_LLAMA_OK) return rc;
          p0 = p1;
        }
        rc = cut_cache(cut);
        if (rc != AMALGAM_LLAMA_OK) return rc;
      }
      std::vector<int32_t> late;
      for (int32_t s = 0; s < n_sequences; s++) {
        if (mode[s] == LATE) late.push_back(s);
      }
      std::stable_sort(late.begin(), late.end(), [&](int32_t x, int32_t y) { return from[x] > from[y]; });
      for (int32_t s : late) {
        rc = cut_cache(from[s]);
        if (rc == AMALGAM_LLAMA_OK) rc = decode_piece(s, from[s], from[s] + 2, false);
        if (rc != AMALGAM_LLAMA_OK) return rc;
      }
    }
    // Sequences that cannot share: one call each, exactly as amalgam_llama_score.
    for (int32_t s = 0; s < n_sequences; s++) {
      if (mode[s] != ALONE) continue;
      g_api.kv_clear(c->context);
      rc = decode_piece(s, 0, length_of(s), false);
      if (rc != AMALGAM_LLAMA_OK) return rc;
    }
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_library_description(char *out, int32_t capacity, int32_t *length) {
  return guarded("amalgam_llama_library_description", [&]() -> int32_t {
    if (!library_open()) return fail(AMALGAM_LLAMA_ERR_NOT_OPEN, "call amalgam_llama_open_library first");
    return copy_text(g_opened.release + "\n" + g_opened.description, out, capacity, length);
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_model_shape(int64_t model, int32_t *shape) {
  return guarded("amalgam_llama_model_shape", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || shape == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model or output");
    shape[0] = g_api.model_n_layer(m->model);
    shape[1] = g_api.model_n_embd(m->model);
    shape[2] = g_api.model_n_head(m->model);
    shape[3] = g_api.model_n_head_kv(m->model);
    shape[4] = g_api.model_n_ctx_train(m->model);
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_model_size(int64_t model, int64_t *n_params, int64_t *bytes) {
  return guarded("amalgam_llama_model_size", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || n_params == nullptr || bytes == nullptr) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model or output");
    }
    *n_params = static_cast<int64_t>(g_api.model_n_params(m->model));
    *bytes = static_cast<int64_t>(g_api.model_size(m->model));
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_decode(int64_t context, const int32_t *tokens, const int32_t *positions,
                                               const int32_t *seq_ids, const int8_t *outputs, int32_t n_tokens) {
  return guarded("amalgam_llama_decode", [&]() -> int32_t {
    Context *c = as_context(context);
    if (c == nullptr || tokens == nullptr || positions == nullptr || seq_ids == nullptr || outputs == nullptr) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null context, tokens, positions, sequence ids or outputs");
    }
    if (n_tokens < 1 || n_tokens > c->n_batch) {
      return fail(AMALGAM_LLAMA_ERR_TOO_MANY_TOKENS, "a decode takes 1 to n_batch " + std::to_string(c->n_batch) +
                                                         " tokens, got " + std::to_string(n_tokens));
    }
    const int32_t n_vocab = c->model->n_vocab;
    for (int32_t i = 0; i < n_tokens; i++) {
      if (tokens[i] < 0 || tokens[i] >= n_vocab) {
        return fail(AMALGAM_LLAMA_ERR_BAD_TOKEN, "token " + std::to_string(tokens[i]) + " at batch index " +
                                                     std::to_string(i) + " outside [0, " + std::to_string(n_vocab) +
                                                     ")");
      }
      if (positions[i] < 0 || positions[i] >= c->n_ctx) {
        return fail(AMALGAM_LLAMA_ERR_TOO_MANY_TOKENS, "position " + std::to_string(positions[i]) + " at batch index " +
                                                           std::to_string(i) + " outside the context [0, " +
                                                           std::to_string(c->n_ctx) + ")");
      }
      if (seq_ids[i] < 0 || seq_ids[i] >= c->n_seq_max) {
        return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "sequence " + std::to_string(seq_ids[i]) + " at batch index " +
                                                    std::to_string(i) + " outside [0, " + std::to_string(c->n_seq_max) +
                                                    ")");
      }
    }
    std::vector<int32_t> token(tokens, tokens + n_tokens);
    std::vector<int32_t> pos(positions, positions + n_tokens);
    std::vector<int32_t> n_seq_id(n_tokens, 1);
    std::vector<int32_t> seq(seq_ids, seq_ids + n_tokens);
    std::vector<int32_t *> seq_id(static_cast<size_t>(n_tokens) + 1, nullptr);
    for (int32_t i = 0; i < n_tokens; i++) seq_id[i] = &seq[i];
    std::vector<int8_t> logits(outputs, outputs + n_tokens);
    LlamaBatch batch{n_tokens, token.data(), nullptr, pos.data(), n_seq_id.data(), seq_id.data(), logits.data()};
    const int32_t rc = g_api.decode(c->context, batch);
    if (rc == 1) {
      return fail(AMALGAM_LLAMA_ERR_KV_FULL, "llama_decode found no room in the KV cache for " +
                                                 std::to_string(n_tokens) + " tokens (n_ctx " +
                                                 std::to_string(c->n_ctx) + ")");
    }
    if (rc != 0) return fail(AMALGAM_LLAMA_ERR_DECODE, "llama_decode returned " + std::to_string(rc));
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_kv_clear(int64_t context) {
  return guarded("amalgam_llama_kv_clear", [&]() -> int32_t {
    Context *c = as_context(context);
    if (c == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null context");
    g_api.kv_clear(c->context);
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_kv_seq_rm(int64_t context, int32_t seq, int32_t p0, int32_t p1) {
  return guarded("amalgam_llama_kv_seq_rm", [&]() -> int32_t {
    Context *c = as_context(context);
    if (c == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null context");
    if (seq < 0 || seq >= c->n_seq_max) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT,
                  "sequence " + std::to_string(seq) + " outside [0, " + std::to_string(c->n_seq_max) + ")");
    }
    if (p0 < 0 || (p1 >= 0 && p1 < p0)) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT,
                  "bad position range [" + std::to_string(p0) + ", " + std::to_string(p1) + ")");
    }
    if (!g_api.kv_seq_rm(c->context, seq, p0, p1)) {
      return fail(AMALGAM_LLAMA_ERR_DECODE, "llama.cpp could not remove positions [" + std::to_string(p0) + ", " +
                                                std::to_string(p1) + ") of sequence " + std::to_string(seq));
    }
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_kv_seq_cp(int64_t context, int32_t src, int32_t dst, int32_t p0, int32_t p1) {
  return guarded("amalgam_llama_kv_seq_cp", [&]() -> int32_t {
    Context *c = as_context(context);
    if (c == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null context");
    if (src < 0 || src >= c->n_seq_max || dst < 0 || dst >= c->n_seq_max || src == dst) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "sequences " + std::to_string(src) + " -> " + std::to_string(dst) +
                                                  " must differ and lie in [0, " + std::to_string(c->n_seq_max) + ")");
    }
    if (p0 < 0 || (p1 >= 0 && p1 < p0)) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT,
                  "bad position range [" + std::to_string(p0) + ", " + std::to_string(p1) + ")");
    }
    g_api.kv_seq_cp(c->context, src, dst, p0, p1);
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_new_sampler(int64_t model, float temperature, int32_t top_k, float top_p,
                                                    float min_p, int32_t seed, const char *grammar,
                                                    const char *grammar_root, int64_t *sampler_out) {
  return guarded("amalgam_llama_new_sampler", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || sampler_out == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model or output");
    if (!std::isfinite(temperature) || top_k < 0 || !(top_p > 0.0f && top_p <= 1.0f) ||
        !(min_p >= 0.0f && min_p <= 1.0f)) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "need a finite temperature, top_k >= 0, 0 < top_p <= 1, 0 <= min_p <= 1");
    }
    *sampler_out = 0;
    llama_sampler *grammar_sampler = nullptr;
    if (grammar != nullptr) {
      if (grammar_root == nullptr || *grammar_root == '\0' || *grammar == '\0') {
        return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "a grammar needs non-empty text and root symbol");
      }
      std::string reason;
      grammar_sampler = init_grammar(m->vocab, grammar, grammar_root, reason);
      if (grammar_sampler == nullptr) {
        return fail(AMALGAM_LLAMA_ERR_GRAMMAR,
                    "llama.cpp refused the grammar: " + (reason.empty() ? std::string("parse error") : reason));
      }
    }
    llama_sampler *chain = g_api.sampler_chain_init(LlamaSamplerChainParams{true});
    if (temperature <= 0.0f) {
      g_api.sampler_chain_add(chain, g_api.sampler_init_greedy());
    } else {
      // llama-server's default order (docs/formats.md §8.4); the penalty, DRY, typical and XTC stages it also has
      // are no-ops at their defaults and are left out.
      if (top_k > 0) g_api.sampler_chain_add(chain, g_api.sampler_init_top_k(top_k));
      g_api.sampler_chain_add(chain, g_api.sampler_init_top_p(top_p, 0));
      g_api.sampler_chain_add(chain, g_api.sampler_init_min_p(min_p, 0));
      g_api.sampler_chain_add(chain, g_api.sampler_init_temp_ext(temperature, 0.0f, 1.0f));
      g_api.sampler_chain_add(chain, g_api.sampler_init_dist(static_cast<uint32_t>(seed)));
    }
    auto *s = new Sampler{chain, grammar_sampler, m, {}};
    *sampler_out = static_cast<int64_t>(reinterpret_cast<intptr_t>(s));
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_free_sampler(int64_t sampler) {
  return guarded("amalgam_llama_free_sampler", [&]() -> int32_t {
    Sampler *s = as_sampler(sampler);
    if (s == nullptr) return AMALGAM_LLAMA_OK;
    if (library_open()) {
      g_api.sampler_free(s->chain);
      if (s->grammar != nullptr) g_api.sampler_free(s->grammar);
    }
    delete s;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_sample(int64_t context, int64_t sampler, int32_t row, int32_t *token_out) {
  return guarded("amalgam_llama_sample", [&]() -> int32_t {
    Context *c = as_context(context);
    Sampler *s = as_sampler(sampler);
    if (c == nullptr || s == nullptr || token_out == nullptr) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null context, sampler or output");
    }
    if (s->model != c->model) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "sampler and context belong to other models");
    if (row < 0 || row >= c->n_batch) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "row " + std::to_string(row) + " outside the last batch");
    }
    const float *logits = g_api.get_logits_ith(c->context, row);
    if (logits == nullptr) {
      return fail(AMALGAM_LLAMA_ERR_NO_LOGITS,
                  "the last decode produced no logits for batch index " + std::to_string(row));
    }
    const int32_t n_vocab = c->model->n_vocab;
    auto fill = [&]() {
      s->candidates.resize(n_vocab);
      for (int32_t t = 0; t < n_vocab; t++) s->candidates[t] = LlamaTokenData{t, logits[t], 0.0f};
      return LlamaTokenDataArray{s->candidates.data(), s->candidates.size(), -1, false};
    };
    auto pick = [&](LlamaTokenDataArray &array, int32_t &token) -> int32_t {
      g_api.sampler_apply(s->chain, &array);
      if (array.selected < 0 || static_cast<size_t>(array.selected) >= array.size) {
        return fail(AMALGAM_LLAMA_ERR_DECODE, "the sampler selected no token");
      }
      token = array.data[array.selected].id;
      return AMALGAM_LLAMA_OK;
    };
    LlamaTokenDataArray array = fill();
    int32_t token = -1;
    int32_t rc = pick(array, token);
    if (rc != AMALGAM_LLAMA_OK) return rc;
    if (s->grammar != nullptr) {
      // As llama-server: keep the token if the grammar allows it, else sample again with the grammar applied first.
      LlamaTokenData single{token, 1.0f, 0.0f};
      LlamaTokenDataArray one{&single, 1, -1, false};
      g_api.sampler_apply(s->grammar, &one);
      if (std::isinf(single.logit) && single.logit < 0) {
        array = fill();
        g_api.sampler_apply(s->grammar, &array);
        bool any = false;
        for (size_t i = 0; i < array.size && !any; i++)
          any = !(std::isinf(array.data[i].logit) && array.data[i].logit < 0);
        if (!any) return fail(AMALGAM_LLAMA_ERR_GRAMMAR, "the grammar allows no token at this point");
        rc = pick(array, token);
        if (rc != AMALGAM_LLAMA_OK) return rc;
      }
      // An end-of-generation token ends the sequence; llama.cpp aborts when one reaches an unfinished grammar.
      if (!g_api.vocab_is_eog(c->model->vocab, token)) g_api.sampler_accept(s->grammar, token);
    }
    g_api.sampler_accept(s->chain, token);
    *token_out = token;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_token_piece(int64_t model, int32_t token, int32_t special, char *out,
                                                    int32_t capacity, int32_t *length) {
  return guarded("amalgam_llama_token_piece", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || length == nullptr || capacity < 0 || (out == nullptr && capacity > 0)) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model, output or negative capacity");
    }
    if (token < 0 || token >= m->n_vocab) {
      return fail(AMALGAM_LLAMA_ERR_BAD_TOKEN,
                  "token " + std::to_string(token) + " outside [0, " + std::to_string(m->n_vocab) + ")");
    }
    char scratch[8];
    char *buffer = capacity > 0 ? out : scratch;
    const int32_t n = g_api.token_to_piece(m->vocab, token, buffer, capacity > 0 ? capacity : 0, 0, special != 0);
    if (n < 0) {
      *length = -n;
      return fail(AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL,
                  "piece of token " + std::to_string(token) + " needs " + std::to_string(-n) + " bytes");
    }
    *length = n;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_token_is_eog(int64_t model, int32_t token, int32_t *is_eog) {
  return guarded("amalgam_llama_token_is_eog", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr || is_eog == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model or output");
    if (token < 0 || token >= m->n_vocab) {
      return fail(AMALGAM_LLAMA_ERR_BAD_TOKEN,
                  "token " + std::to_string(token) + " outside [0, " + std::to_string(m->n_vocab) + ")");
    }
    *is_eog = g_api.vocab_is_eog(m->vocab, token) ? 1 : 0;
    return AMALGAM_LLAMA_OK;
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_chat_template(int64_t model, char *out, int32_t capacity, int32_t *length) {
  return guarded("amalgam_llama_chat_template", [&]() -> int32_t {
    Model *m = as_model(model);
    if (m == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null model");
    const char *tmpl = g_api.model_chat_template(m->model, nullptr);
    if (tmpl == nullptr) {
      if (length == nullptr) return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null length");
      *length = -1;
      return AMALGAM_LLAMA_OK;
    }
    return copy_text(tmpl, out, capacity, length);
  });
}

AMALGAM_LLAMA_API int32_t amalgam_llama_chat_apply(const char *tmpl, const char *messages, int32_t n_messages,
                                                   int32_t add_assistant, char *out, int32_t capacity,
                                                   int32_t *length) {
  return guarded("amalgam_llama_chat_apply", [&]() -> int32_t {
    if (tmpl == nullptr || messages == nullptr || length == nullptr || n_messages < 1 || capacity < 0 ||
        (out == nullptr && capacity > 0)) {
      return fail(AMALGAM_LLAMA_ERR_ARGUMENT, "null template, messages or output, or no message");
    }
    std::vector<LlamaChatMessage> chat(n_messages);
    const char *p = messages;
    for (int32_t i = 0; i < n_messages; i++) {
      chat[i].role = p;
      p += std::strlen(p) + 1;
      chat[i].content = p;
      p += std::strlen(p) + 1;
    }
    char scratch[8];
    const int32_t n = g_api.chat_apply_template(tmpl, chat.data(), chat.size(), add_assistant != 0,
                                                capacity > 0 ? out : scratch, capacity);
    if (n < 0) {
      return fail(AMALGAM_LLAMA_ERR_TEMPLATE, "llama_chat_apply_template does not support this chat template");
    }
    *length = n;
    if (n > capacity) return fail(AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL, "templated prompt needs " + std::to_string(n));
    return AMALGAM_LLAMA_OK;
  });
}

}  // extern "C"
