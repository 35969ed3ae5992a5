package dev.amalgam.merge.plan;

import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.ProgressListener;
import dev.amalgam.kernels.Device;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * How a merge runs: {@link #defaults()}, or {@link #builder()} to set some and {@link #toBuilder()}
 * for a changed copy.
 *
 * @param threads kernel threads; 0 means one per available processor
 * @param maxShardBytes largest output shard, in bytes of tensor data (mergekit's --out-shard-size)
 * @param memoryBudget bytes of buffers the executor may allocate (output staging and cast scratch)
 * @param overwrite whether an existing output directory may be replaced
 * @param sync whether each shard is flushed to disk (fdatasync) before the directory is renamed
 *     into place, so that a crash right after the merge cannot leave a complete-looking model with
 *     missing data
 * @param progress receives progress by bytes written
 * @param copyTokenizer whether the donor's tokenizer files are copied into a Hugging Face output
 *     (mergekit's --copy-tokenizer, on by default)
 * @param writeModelCard whether README.md and amalgam_config.yml are written (mergekit's
 *     --write-model-card)
 * @param warnings receives what the merge does differently from what was asked (a donor without
 *     tokenizer files, a chat template that cannot be written), as it happens
 * @param onNonFinite what NaN or infinite values in an input or the output do (default {@link
 *     NonFinitePolicy#WARN})
 * @param device where the kernels run (default {@link Device#CPU}; {@link Device#AUTO} takes a
 *     usable CUDA device, else the CPU)
 * @param notices receives the one line in which {@link Device#AUTO} says what it chose, before any
 *     tensor is merged
 */
public record MergeOptions(
    int threads,
    long maxShardBytes,
    long memoryBudget,
    boolean overwrite,
    boolean sync,
    ProgressListener progress,
    boolean copyTokenizer,
    boolean writeModelCard,
    WarningListener warnings,
    NonFinitePolicy onNonFinite,
    Device device,
    Consumer<String> notices) {
  /** mergekit's default shard size: 5 GB (decimal). */
  public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;

  /** Default buffer budget: 1 GiB. */
  public static final long DEFAULT_MEMORY_BUDGET = 1L << 30;

  /** The smallest budget accepted: room for the smallest chunks. */
  public static final long MIN_MEMORY_BUDGET = 64L << 20;

  /** Validates the values. */
  public MergeOptions {
    if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
    if (maxShardBytes <= 0)
      throw new IllegalArgumentException("shard size must be positive, got " + maxShardBytes);
    if (memoryBudget < MIN_MEMORY_BUDGET) {
      throw new IllegalArgumentException(
          "memory budget must be at least "
              + (MIN_MEMORY_BUDGET >> 20)
              + " MiB, got "
              + memoryBudget
              + " bytes");
    }
    Objects.requireNonNull(progress, "progress");
    Objects.requireNonNull(warnings, "warnings");
    Objects.requireNonNull(onNonFinite, "onNonFinite");
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(notices, "notices");
  }

  /**
   * Defaults: all processors, 5 GB shards, 1 GiB budget, no overwrite, synced output, no progress
   * output, tokenizer and model card written, warnings to the {@code dev.amalgam} {@link
   * System.Logger}.
   */
  public static MergeOptions defaults() {
    return builder().build();
  }

  /** A builder with the {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options, for a changed copy. */
  public Builder toBuilder() {
    return new Builder()
        .threads(threads)
        .maxShardBytes(maxShardBytes)
        .memoryBudget(memoryBudget)
        .overwrite(overwrite)
        .sync(sync)
        .progress(progress)
        .copyTokenizer(copyTokenizer)
        .writeModelCard(writeModelCard)
        .warnings(warnings)
        .onNonFinite(onNonFinite)
        .device(device)
        .notices(notices);
  }

  /** Collects {@link MergeOptions}; {@link #build()} validates them. */
  public static final class Builder {
    private int threads;
    private long maxShardBytes = DEFAULT_SHARD_BYTES;
    private long memoryBudget = DEFAULT_MEMORY_BUDGET;
    private boolean overwrite;
    private boolean sync = true;
    private ProgressListener progress = ProgressListener.NONE;
    private boolean copyTokenizer = true;
    private boolean writeModelCard = true;
    private WarningListener warnings = WarningListener.toLogger();
    private NonFinitePolicy onNonFinite = NonFinitePolicy.WARN;
    private Device device = Device.CPU;
    private Consumer<String> notices =
        line -> System.getLogger("dev.amalgam").log(System.Logger.Level.INFO, line);

    private Builder() {}

    /** Kernel threads; 0 for one per available processor. */
    public Builder threads(int value) {
      threads = value;
      return this;
    }

    /** The largest output shard, in bytes. */
    public Builder maxShardBytes(long value) {
      maxShardBytes = value;
      return this;
    }

    /** Bytes of buffers the merge may allocate. */
    public Builder memoryBudget(long value) {
      memoryBudget = value;
      return this;
    }

    /** Whether an existing output may be replaced (only once the new one is complete). */
    public Builder overwrite(boolean value) {
      overwrite = value;
      return this;
    }

    /** Whether the output is flushed to disk before it is renamed into place. */
    public Builder sync(boolean value) {
      sync = value;
      return this;
    }

    /** Where progress by bytes written goes. */
    public Builder progress(ProgressListener value) {
      progress = value;
      return this;
    }

    /** Whether the donor's tokenizer files are copied into a Hugging Face output. */
    public Builder copyTokenizer(boolean value) {
      copyTokenizer = value;
      return this;
    }

    /** Whether README.md and amalgam_config.yml are written into a Hugging Face output. */
    public Builder writeModelCard(boolean value) {
      writeModelCard = value;
      return this;
    }

    /** Where warnings go. */
    public Builder warnings(WarningListener value) {
      warnings = value;
      return this;
    }

    /** What NaN or infinite values in an input or the output do. */
    public Builder onNonFinite(NonFinitePolicy value) {
      onNonFinite = value;
      return this;
    }

    /** Where the kernels run: cpu, cuda, cuda:N or auto. */
    public Builder device(Device value) {
      device = value;
      return this;
    }

    /** Where the line that says what {@link Device#AUTO} chose goes. */
    public Builder notices(Consumer<String> value) {
      notices = value;
      return this;
    }

    /**
     * The options.
     *
     * @throws IllegalArgumentException if a value is out of range
     * @throws NullPointerException if a listener is null
     */
    public MergeOptions build() {
      return new MergeOptions(
          threads,
          maxShardBytes,
          memoryBudget,
          overwrite,
          sync,
          progress,
          copyTokenizer,
          writeModelCard,
          warnings,
          onNonFinite,
          device,
          notices);
    }
  }
}
