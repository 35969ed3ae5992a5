package dev.amalgam.eval.llama;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Options of a {@link LlamaScorer}: {@link #defaults()}, or {@link #builder()} to set some and
 * {@link #toBuilder()} for a changed copy.
 *
 * @param contextSize tokens the context holds (llama.cpp rounds up to a multiple of 32); also the
 *     longest sequence scored in one batch
 * @param threads CPU threads; more than the physical cores slows llama.cpp down sharply
 * @param gpuLayers layers to offload; ignored (with llama.cpp's note) by the CPU-only bundled
 *     library
 * @param f32KvCache F32 KV cache for exact scoring; false gives llama.cpp's default F16 (as
 *     llama-perplexity)
 * @param verbose pass llama.cpp's own log lines to stderr
 */
public record ScorerOptions(
    int contextSize, int threads, int gpuLayers, boolean f32KvCache, boolean verbose) {
  /** Default context size, as llama-perplexity's {@code -c}. */
  public static final int DEFAULT_CONTEXT_SIZE = 512;

  /** Validates the ranges. */
  public ScorerOptions {
    if (contextSize < 4) {
      throw new LlamaBridgeException(
          LlamaBridgeException.Reason.BAD_ARGUMENT,
          "context size must be >= 4, got " + contextSize);
    }
    if (threads < 1) {
      throw new LlamaBridgeException(
          LlamaBridgeException.Reason.BAD_ARGUMENT, "threads must be >= 1, got " + threads);
    }
    if (gpuLayers < 0) {
      throw new LlamaBridgeException(
          LlamaBridgeException.Reason.BAD_ARGUMENT, "gpu layers must be >= 0, got " + gpuLayers);
    }
  }

  /** Context 512, {@link #defaultThreads()} threads, no GPU layers, F32 KV cache, quiet. */
  public static ScorerOptions defaults() {
    return builder().build();
  }

  /** A builder with the {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options, for a changed copy. */
  public Builder toBuilder() {
    return new Builder()
        .contextSize(contextSize)
        .threads(threads)
        .gpuLayers(gpuLayers)
        .f32KvCache(f32KvCache)
        .verbose(verbose);
  }

  /** Collects {@link ScorerOptions}; {@link #build()} validates them. */
  public static final class Builder {
    private int contextSize = DEFAULT_CONTEXT_SIZE;
    private Integer threads; // null: defaultThreads(), read from /proc only when needed
    private int gpuLayers;
    private boolean f32KvCache = true;
    private boolean verbose;

    private Builder() {}

    /** Tokens the context holds. */
    public Builder contextSize(int value) {
      contextSize = value;
      return this;
    }

    /** CPU threads. */
    public Builder threads(int value) {
      threads = value;
      return this;
    }

    /** Layers to offload to a GPU. */
    public Builder gpuLayers(int value) {
      gpuLayers = value;
      return this;
    }

    /** An F32 (true) or F16 (false) KV cache. */
    public Builder f32KvCache(boolean value) {
      f32KvCache = value;
      return this;
    }

    /** Pass llama.cpp's log lines to stderr, or not. */
    public Builder verbose(boolean value) {
      verbose = value;
      return this;
    }

    /**
     * The options.
     *
     * @throws LlamaBridgeException (bad argument) if a value is out of range
     */
    public ScorerOptions build() {
      return new ScorerOptions(
          contextSize,
          threads != null ? threads : defaultThreads(),
          gpuLayers,
          f32KvCache,
          verbose);
    }
  }

  /**
   * min(physical cores, available processors, 4): llama.cpp slows down badly when threads outnumber
   * physical cores (docs/formats.md §8.3: 149 instead of 3,200 tokens/s with 4 threads on 2 cores).
   */
  public static int defaultThreads() {
    int available = Runtime.getRuntime().availableProcessors();
    return Math.max(1, Math.min(4, Math.min(available, physicalCores().orElse(available))));
  }

  private static java.util.OptionalInt physicalCores() {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
      Set<String> cores = new HashSet<>();
      String physical = "0";
      for (String line : lines) {
        int colon = line.indexOf(':');
        if (colon < 0) continue;
        String key = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        if (key.equals("physical id")) physical = value;
        if (key.equals("core id")) cores.add(physical + "/" + value);
      }
      return cores.isEmpty()
          ? java.util.OptionalInt.empty()
          : java.util.OptionalInt.of(cores.size());
    } catch (IOException | RuntimeException e) {
      return java.util.OptionalInt.empty();
    }
  }
}
