/**
 * The llama.cpp bridge: Amalgam's own native code calling llama.cpp's C API, for exact
 * log-likelihoods and perplexity ({@link dev.amalgam.eval.llama.LlamaScorer}) and for batched,
 * in-process text generation ({@link dev.amalgam.eval.llama.LlamaGeneration}).
 *
 * <p>Both use one llama.cpp library per JVM ({@link dev.amalgam.eval.llama.LlamaLibrary}): the CPU
 * build of llama.cpp b4916 in the {@code de.kherud:llama} jar by default, or a user's own build of
 * a supported release (for example with CUDA) named by {@code -Damalgam.llama.lib} or {@code
 * AMALGAM_LLAMA_LIB}.
 */
package dev.amalgam.eval.llama;
