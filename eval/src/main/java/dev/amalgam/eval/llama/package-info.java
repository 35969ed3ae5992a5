/**
 * The llama.cpp bridge: exact log-likelihoods and perplexity through Amalgam's own native code
 * calling the llama.cpp C API inside java-llama.cpp's bundled {@code libjllama.so} ({@link
 * dev.amalgam.eval.llama.LlamaScorer}), and text generation through java-llama.cpp itself in a
 * short-lived child JVM ({@link dev.amalgam.eval.llama.LlamaGeneration}).
 *
 * <p>Both paths use the same llama.cpp build: the copy in the {@code de.kherud:llama} jar, or the
 * directory named by {@code -Dde.kherud.llama.lib.path=DIR} (for example a CUDA build of {@code
 * libjllama.so}).
 */
package dev.amalgam.eval.llama;
