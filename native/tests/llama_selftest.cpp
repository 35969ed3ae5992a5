// Self-test of the llama bridge's argument checks, meant to run under AddressSanitizer (native/sanitize.sh).
// Usage: amalgam_llama_selftest [LIBRARY MODEL]
//   without arguments  every entry with null pointers and null handles, and before any library is open
//   LIBRARY MODEL      also a llama.cpp library (libjllama.so or libllama.so) and a small GGUF model: bad
//                      tokens, sequence ids, positions, counts, sampler settings and outputs allocated exactly to
//                      size, so that ASan reports any write past them
// Exit status 0 = every bad call was refused with a status and every good one succeeded.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "amalgam_llama.h"

namespace {

int failures = 0;

void expect(bool ok, const char *what, int32_t status) {
  if (!ok) {
    std::fprintf(stderr, "FAIL %s: status %d (%s) %s\n", what, status, amalgam_llama_status_message(status),
                 amalgam_llama_last_error());
    ++failures;
  }
}

void refused(int32_t status, const char *what) { expect(status != AMALGAM_LLAMA_OK, what, status); }
void succeeded(int32_t status, const char *what) { expect(status == AMALGAM_LLAMA_OK, what, status); }

// Heap arrays of exactly n elements: ASan reports any access past the end.
template <typename T>
std::unique_ptr<T[]> exact(int32_t n) {
  return std::unique_ptr<T[]>(new T[static_cast<size_t>(n > 0 ? n : 0)]());
}

// Every entry with null handles and null outputs; before a library is open where `open` is false.
void test_null_arguments(bool open) {
  int32_t info[5], length = 0, count = 0, token = 0, flag = 0;
  int64_t handle = 0, n_params = 0, bytes = 0;
  double log_prob = 0;
  char text[8];
  const int32_t tokens[2] = {1, 2}, offsets[2] = {0, 0}, from[1] = {0};
  const int8_t outputs[1] = {1};
  refused(amalgam_llama_open_library(nullptr, 0), "open_library(null)");
  refused(amalgam_llama_open_library("", 0), "open_library(\"\")");
  if (!open) refused(amalgam_llama_load_model("model.gguf", 0, 0, &handle), "load_model before open_library");
  refused(amalgam_llama_load_model(nullptr, 0, 0, &handle), "load_model(null path)");
  refused(amalgam_llama_load_model("model.gguf", 0, 0, nullptr), "load_model(null output)");
  refused(amalgam_llama_load_model("model.gguf", -1, 0, &handle), "load_model(n_gpu_layers -1)");
  succeeded(amalgam_llama_free_model(0), "free_model(0)");
  succeeded(amalgam_llama_free_context(0), "free_context(0)");
  succeeded(amalgam_llama_free_sampler(0), "free_sampler(0)");
  refused(amalgam_llama_model_info(0, info), "model_info(0)");
  refused(amalgam_llama_token_text(0, 0, text, 8, &length), "token_text(0)");
  refused(amalgam_llama_new_context(0, 64, 32, 1, 1, 0, &handle), "new_context(0)");
  refused(amalgam_llama_context_info(0, info), "context_info(0)");
  refused(amalgam_llama_tokenize(0, "a", 1, 1, 0, &token, 1, &count), "tokenize(0)");
  refused(amalgam_llama_score(0, tokens, 2, 0, &log_prob, nullptr), "score(0)");
  refused(amalgam_llama_score_shared_prefix(0, tokens, 1, offsets, 1, from, &log_prob, nullptr, 1),
          "score_shared_prefix(0)");
  refused(amalgam_llama_library_description(text, -1, &length), "library_description(capacity -1)");
  refused(amalgam_llama_model_shape(0, info), "model_shape(0)");
  refused(amalgam_llama_model_size(0, &n_params, &bytes), "model_size(0)");
  refused(amalgam_llama_decode(0, tokens, tokens, tokens, outputs, 1), "decode(0)");
  refused(amalgam_llama_kv_clear(0), "kv_clear(0)");
  refused(amalgam_llama_kv_seq_rm(0, 0, 0, -1), "kv_seq_rm(0)");
  refused(amalgam_llama_kv_seq_cp(0, 0, 1, 0, -1), "kv_seq_cp(0)");
  refused(amalgam_llama_new_sampler(0, 0.0f, 0, 1.0f, 0.0f, 1, nullptr, nullptr, &handle), "new_sampler(0)");
  refused(amalgam_llama_sample(0, 0, 0, &token), "sample(0, 0)");
  refused(amalgam_llama_token_piece(0, 0, 0, text, 8, &length), "token_piece(0)");
  refused(amalgam_llama_token_is_eog(0, 0, &flag), "token_is_eog(0)");
  refused(amalgam_llama_chat_template(0, text, 8, &length), "chat_template(0)");
  refused(amalgam_llama_chat_apply(nullptr, "user\0hi", 1, 1, text, 8, &length), "chat_apply(null template)");
  refused(amalgam_llama_chat_apply("chatml", nullptr, 1, 1, text, 8, &length), "chat_apply(null messages)");
  refused(amalgam_llama_chat_apply("chatml", "user\0hi", -1, 1, text, 8, &length), "chat_apply(-1 messages)");
  refused(amalgam_llama_chat_apply("chatml", "user\0hi", 1, 1, text, 8, nullptr), "chat_apply(null length)");
  expect(std::strcmp(amalgam_llama_status_message(12345), "unknown status") == 0, "status_message(12345)", 0);
  expect(amalgam_llama_abi_version() == AMALGAM_LLAMA_ABI_VERSION, "abi_version", 0);
}

void test_with_model(const char *library, const char *model_path) {
  succeeded(amalgam_llama_open_library(library, 0), "open_library");
  test_null_arguments(true);
  int64_t model = 0;
  refused(amalgam_llama_load_model("/nonexistent/model.gguf", 0, 0, &model), "load_model(missing file)");
  succeeded(amalgam_llama_load_model(model_path, 0, 0, &model), "load_model");
  if (model == 0) return;
  int32_t info[3];
  succeeded(amalgam_llama_model_info(model, info), "model_info");
  const int32_t n_vocab = info[0];
  int32_t length = 0, count = 0, flag = 0, token = 0;

  // Tokens outside [0, n_vocab) and outputs allocated exactly to the capacity passed.
  for (int32_t bad : {-1, n_vocab, INT32_MAX, INT32_MIN}) {
    char piece[4];
    refused(amalgam_llama_token_text(model, bad, piece, 4, &length), "token_text(bad token)");
    refused(amalgam_llama_token_piece(model, bad, 0, piece, 4, &length), "token_piece(bad token)");
    refused(amalgam_llama_token_is_eog(model, bad, &flag), "token_is_eog(bad token)");
  }
  for (int32_t capacity : {0, 1, 2}) {
    auto out = exact<char>(capacity);
    const int32_t status = amalgam_llama_token_text(model, n_vocab - 1, out.get(), capacity, &length);
    expect(status == AMALGAM_LLAMA_OK || status == AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL, "token_text(small)", status);
    const int32_t piece = amalgam_llama_token_piece(model, n_vocab - 1, 1, out.get(), capacity, &length);
    expect(piece == AMALGAM_LLAMA_OK || piece == AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL, "token_piece(small)", piece);
    const int32_t chat = amalgam_llama_chat_template(model, out.get(), capacity, &length);
    expect(chat == AMALGAM_LLAMA_OK || chat == AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL, "chat_template(small)", chat);
    const int32_t apply = amalgam_llama_chat_apply("chatml", "user\0hello", 1, 1, out.get(), capacity, &length);
    expect(apply == AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL && length > capacity, "chat_apply(small)", apply);
    const int32_t description = amalgam_llama_library_description(out.get(), capacity, &length);
    expect(description == AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL, "library_description(small)", description);
  }
  const char text[] = "Once upon a time there was a little girl";
  const int32_t text_length = static_cast<int32_t>(std::strlen(text));
  refused(amalgam_llama_tokenize(model, text, -1, 1, 0, &token, 1, &count), "tokenize(length -1)");
  refused(amalgam_llama_tokenize(model, text, text_length, 1, 0, nullptr, 4, &count), "tokenize(null tokens)");
  {
    auto one = exact<int32_t>(1);
    const int32_t status = amalgam_llama_tokenize(model, text, text_length, 1, 0, one.get(), 1, &count);
    expect(status == AMALGAM_LLAMA_ERR_BUFFER_TOO_SMALL && count > 1, "tokenize(too small)", status);
  }
  const int32_t n_tokens = count;
  auto tokens = exact<int32_t>(n_tokens);
  succeeded(amalgam_llama_tokenize(model, text, text_length, 1, 0, tokens.get(), n_tokens, &count), "tokenize");

  int64_t context = 0;
  refused(amalgam_llama_new_context(model, 64, 32, 0, 1, 0, &context), "new_context(0 sequences)");
  refused(amalgam_llama_new_context(model, 64, 32, AMALGAM_LLAMA_MAX_SEQUENCES + 1, 1, 0, &context),
          "new_context(too many sequences)");
  refused(amalgam_llama_new_context(model, -1, 32, 1, 1, 0, &context), "new_context(n_ctx -1)");
  refused(amalgam_llama_new_context(model, 64, 0, 1, 1, 0, &context), "new_context(n_batch 0)");
  refused(amalgam_llama_new_context(model, 64, 32, 1, 1, 0, nullptr), "new_context(null output)");
  succeeded(amalgam_llama_new_context(model, 64, 32, 2, 1, 0, &context), "new_context");
  if (context == 0) return;
  int32_t cinfo[4];
  succeeded(amalgam_llama_context_info(context, cinfo), "context_info");
  const int32_t n_batch = cinfo[1];

  // score: counts, from, bad tokens, too many tokens; the good call writes exactly n - 1 - from doubles.
  auto log_probs = exact<double>(n_tokens - 1);
  auto argmax = exact<int32_t>(n_tokens - 1);
  refused(amalgam_llama_score(context, tokens.get(), 1, 0, log_probs.get(), nullptr), "score(1 token)");
  refused(amalgam_llama_score(context, tokens.get(), n_tokens, -1, log_probs.get(), nullptr), "score(from -1)");
  refused(amalgam_llama_score(context, tokens.get(), n_tokens, n_tokens - 1, log_probs.get(), nullptr),
          "score(from n-1)");
  {
    std::vector<int32_t> bad(tokens.get(), tokens.get() + n_tokens);
    bad[1] = n_vocab;
    refused(amalgam_llama_score(context, bad.data(), n_tokens, 0, log_probs.get(), nullptr), "score(bad token)");
    std::vector<int32_t> long_run(static_cast<size_t>(n_batch) + 1, 1);
    std::vector<double> long_out(long_run.size());
    refused(amalgam_llama_score(context, long_run.data(), n_batch + 1, 0, long_out.data(), nullptr),
            "score(n_batch + 1 tokens)");
  }
  succeeded(amalgam_llama_score(context, tokens.get(), n_tokens, 0, log_probs.get(), argmax.get()), "score");
  expect(std::isfinite(log_probs[0]) && log_probs[0] <= 0.0, "score value", 0);
  {
    auto tail = exact<double>(1);
    succeeded(amalgam_llama_score(context, tokens.get(), n_tokens, n_tokens - 2, tail.get(), nullptr), "score(last)");
  }

  // score_shared_prefix: offsets that decrease or do not start at 0, a wrong capacity, a bad from; then one good call.
  {
    const int32_t prefix = 2, suffix = n_tokens - prefix;
    const int32_t good_offsets[3] = {0, suffix, suffix}, from_good[2] = {0, 0};
    // Sequence 0 has n_tokens tokens and gives n_tokens - 1 values; sequence 1 is the prefix alone and gives 1.
    const int32_t capacity = (n_tokens - 1) + 1;
    auto out = exact<double>(capacity);
    const int32_t decreasing[3] = {0, suffix, 1}, late[3] = {1, 2, 3};
    const int32_t from_bad[2] = {0, 1};
    refused(amalgam_llama_score_shared_prefix(context, tokens.get(), prefix, decreasing, 2, from_good, out.get(),
                                              nullptr, capacity),
            "score_shared_prefix(decreasing offsets)");
    refused(amalgam_llama_score_shared_prefix(context, tokens.get(), prefix, late, 2, from_good, out.get(), nullptr,
                                              capacity),
            "score_shared_prefix(offsets not from 0)");
    refused(amalgam_llama_score_shared_prefix(context, tokens.get(), prefix, good_offsets, 2, from_good, out.get(),
                                              nullptr, capacity - 1),
            "score_shared_prefix(capacity too small)");
    refused(amalgam_llama_score_shared_prefix(context, tokens.get(), prefix, good_offsets, 2, from_bad, out.get(),
                                              nullptr, capacity),
            "score_shared_prefix(from past the end)");
    refused(amalgam_llama_score_shared_prefix(context, tokens.get(), 0, good_offsets, 2, from_good, out.get(), nullptr,
                                              capacity),
            "score_shared_prefix(empty prefix)");
    refused(amalgam_llama_score_shared_prefix(context, tokens.get(), prefix, good_offsets, 0, from_good, out.get(),
                                              nullptr, capacity),
            "score_shared_prefix(no sequences)");
    auto flags = exact<int32_t>(capacity);
    succeeded(amalgam_llama_score_shared_prefix(context, tokens.get(), prefix, good_offsets, 2, from_good, out.get(),
                                                flags.get(), capacity),
              "score_shared_prefix");
  }

  // decode, KV operations and sampling.
  {
    const int32_t n = 3;
    auto positions = exact<int32_t>(n), seqs = exact<int32_t>(n);
    auto outs = exact<int8_t>(n);
    for (int32_t i = 0; i < n; ++i) positions[i] = i;
    outs[n - 1] = 1;
    refused(amalgam_llama_decode(context, tokens.get(), positions.get(), seqs.get(), outs.get(), 0), "decode(0)");
    refused(amalgam_llama_decode(context, tokens.get(), positions.get(), seqs.get(), outs.get(), n_batch + 1),
            "decode(n_batch + 1)");
    seqs[1] = 2;
    refused(amalgam_llama_decode(context, tokens.get(), positions.get(), seqs.get(), outs.get(), n), "decode(seq 2)");
    seqs[1] = -1;
    refused(amalgam_llama_decode(context, tokens.get(), positions.get(), seqs.get(), outs.get(), n), "decode(seq -1)");
    seqs[1] = 0;
    positions[1] = -5;
    refused(amalgam_llama_decode(context, tokens.get(), positions.get(), seqs.get(), outs.get(), n),
            "decode(position -5)");
    positions[1] = 1;
    std::vector<int32_t> bad(tokens.get(), tokens.get() + n);
    bad[2] = -3;
    refused(amalgam_llama_decode(context, bad.data(), positions.get(), seqs.get(), outs.get(), n), "decode(token -3)");
    succeeded(amalgam_llama_kv_clear(context), "kv_clear");
    succeeded(amalgam_llama_decode(context, tokens.get(), positions.get(), seqs.get(), outs.get(), n), "decode");
    refused(amalgam_llama_kv_seq_rm(context, 2, 0, -1), "kv_seq_rm(seq 2)");
    refused(amalgam_llama_kv_seq_rm(context, -2, 0, -1), "kv_seq_rm(seq -2)");
    refused(amalgam_llama_kv_seq_cp(context, 0, 2, 0, -1), "kv_seq_cp(dst 2)");
    refused(amalgam_llama_kv_seq_cp(context, -1, 1, 0, -1), "kv_seq_cp(src -1)");
    succeeded(amalgam_llama_kv_seq_cp(context, 0, 1, 0, -1), "kv_seq_cp");

    int64_t sampler = 0;
    refused(amalgam_llama_new_sampler(model, 0.8f, -1, 0.9f, 0.0f, 1, nullptr, nullptr, &sampler),
            "new_sampler(top_k -1)");
    refused(amalgam_llama_new_sampler(model, 0.8f, 0, 0.0f, 0.0f, 1, nullptr, nullptr, &sampler),
            "new_sampler(top_p 0)");
    refused(amalgam_llama_new_sampler(model, 0.8f, 0, 1.5f, 0.0f, 1, nullptr, nullptr, &sampler),
            "new_sampler(top_p 1.5)");
    refused(amalgam_llama_new_sampler(model, 0.8f, 0, 0.9f, 2.0f, 1, nullptr, nullptr, &sampler),
            "new_sampler(min_p 2)");
    refused(amalgam_llama_new_sampler(model, NAN, 0, 0.9f, 0.0f, 1, nullptr, nullptr, &sampler),
            "new_sampler(temperature NaN)");
    refused(amalgam_llama_new_sampler(model, 0.8f, 0, NAN, 0.0f, 1, nullptr, nullptr, &sampler),
            "new_sampler(top_p NaN)");
    refused(amalgam_llama_new_sampler(model, 0.8f, 0, 0.9f, 0.0f, 1, "root ::= (", "root", &sampler),
            "new_sampler(bad grammar)");
    refused(amalgam_llama_new_sampler(model, 0.8f, 0, 0.9f, 0.0f, 1, nullptr, nullptr, nullptr),
            "new_sampler(null output)");
    succeeded(amalgam_llama_new_sampler(model, 0.8f, 40, 0.9f, 0.05f, 7, nullptr, nullptr, &sampler), "new_sampler");
    refused(amalgam_llama_sample(context, sampler, n, &token), "sample(row n)");
    refused(amalgam_llama_sample(context, sampler, -1, &token), "sample(row -1)");
    refused(amalgam_llama_sample(context, sampler, 0, &token), "sample(row without logits)");
    refused(amalgam_llama_sample(context, sampler, n - 1, nullptr), "sample(null output)");
    refused(amalgam_llama_sample(context, 0, n - 1, &token), "sample(sampler 0)");
    succeeded(amalgam_llama_sample(context, sampler, n - 1, &token), "sample");
    expect(token >= 0 && token < n_vocab, "sampled token in range", token);
    succeeded(amalgam_llama_free_sampler(sampler), "free_sampler");
  }
  succeeded(amalgam_llama_free_context(context), "free_context");
  succeeded(amalgam_llama_free_model(model), "free_model");
}

}  // namespace

int main(int argc, char **argv) {
  test_null_arguments(false);
  if (argc >= 3) {
    test_with_model(argv[1], argv[2]);
  } else {
    std::printf("amalgam_llama_selftest: no library and model given; argument checks without a model only\n");
  }
  std::printf("amalgam_llama_selftest: %s\n", failures == 0 ? "all bad calls refused" : "FAILED");
  return failures == 0 ? 0 : 1;
}
