package dev.amalgam.convert;

/**
 * The row order of the Llama attention query and key projections. Hugging Face checkpoints keep
 * each head's rows in rotate-half order, GGUF files interleave them ({@link QkPermutation}); every
 * other tensor is laid out the same way in both. A merge or conversion reads all its inputs in the
 * layout of its output, so that the bytes it computes can be written unchanged.
 */
public enum Layout {
  /** Hugging Face (transformers) row order. */
  HF,
  /** llama.cpp row order. */
  GGUF
}
