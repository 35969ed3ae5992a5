/**
 * GGUF (llama.cpp's model format, versions 2 and 3): {@link dev.amalgam.io.gguf.GgufFile} reads and
 * validates a file and maps its tensors ({@link dev.amalgam.io.gguf.GgufTensorData}); {@link
 * dev.amalgam.io.gguf.GgufWriter} streams a new file atomically; {@link
 * dev.amalgam.io.gguf.GgufQuant} converts ggml blocks (Q8_0, Q4_0, Q4_K, Q6_K) to and from f32 as
 * ggml's reference code does. Dimensions are in GGUF order ({@code ne[0]} contiguous, the reverse
 * of the PyTorch shape).
 */
package dev.amalgam.io.gguf;
