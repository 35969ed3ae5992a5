package dev.amalgam.merge.plan;

import dev.amalgam.io.ProgressListener;
import java.util.Objects;

/**
 * How a merge runs.
 *
 * @param threads kernel threads; 0 means one per available processor
 * @param maxShardBytes largest output shard, in bytes of tensor data (mergekit's --out-shard-size)
 * @param memoryBudget bytes of buffers the executor may allocate (output staging and cast scratch)
 * @param overwrite whether an existing output directory may be replaced
 * @param sync whether each shard is flushed to disk (fdatasync) before the directory is renamed into place, so
 *     that a crash right after the merge cannot leave a complete-looking model with missing data
 * @param progress receives progress by bytes written
 * @param copyTokenizer whether the donor's tokenizer files are copied into a Hugging Face output (mergekit's
 *     --copy-tokenizer, on by default)
 * @param writeModelCard whether README.md and amalgam_config.yml are written (mergekit's --write-model-card)
 */
public record MergeOptions(int threads, long maxShardBytes, long memoryBudget, boolean overwrite, boolean sync,
    ProgressListener progress, boolean copyTokenizer, boolean writeModelCard) {
  /** mergekit's default shard size: 5 GB (decimal). */
  public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;
  /** Default buffer budget: 1 GiB. */
  public static final long DEFAULT_MEMORY_BUDGET = 1L << 30;
  /** The smallest budget accepted: room for the smallest chunks. */
  public static final long MIN_MEMORY_BUDGET = 64L << 20;

  /** The options with the tokenizer copied and the model card written. */
  public MergeOptions(int threads, long maxShardBytes, long memoryBudget, boolean overwrite, boolean sync,
      ProgressListener progress) {
    this(threads, maxShardBytes, memoryBudget, overwrite, sync, progress, true, true);
  }

  /** Validates the values. */
  public MergeOptions {
    if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
    if (maxShardBytes <= 0) throw new IllegalArgumentException("shard size must be positive, got " + maxShardBytes);
    if (memoryBudget < MIN_MEMORY_BUDGET) {
      throw new IllegalArgumentException("memory budget must be at least " + (MIN_MEMORY_BUDGET >> 20)
          + " MiB, got " + memoryBudget + " bytes");
    }
    Objects.requireNonNull(progress, "progress");
  }

  /** Defaults: all processors, 5 GB shards, 1 GiB budget, no overwrite, synced output, no progress output. */
  public static MergeOptions defaults() {
    return new MergeOptions(0, DEFAULT_SHARD_BYTES, DEFAULT_MEMORY_BUDGET, false, true, ProgressListener.NONE);
  }

  /** A copy with another thread count. */
  public MergeOptions withThreads(int n) {
    return new MergeOptions(n, maxShardBytes, memoryBudget, overwrite, sync, progress, copyTokenizer, writeModelCard);
  }

  /** A copy with another shard size. */
  public MergeOptions withMaxShardBytes(long bytes) {
    return new MergeOptions(threads, bytes, memoryBudget, overwrite, sync, progress, copyTokenizer, writeModelCard);
  }

  /** A copy with another budget. */
  public MergeOptions withMemoryBudget(long bytes) {
    return new MergeOptions(threads, maxShardBytes, bytes, overwrite, sync, progress, copyTokenizer, writeModelCard);
  }

  /** A copy that may replace an existing output directory. */
  public MergeOptions withOverwrite(boolean value) {
    return new MergeOptions(threads, maxShardBytes, memoryBudget, value, sync, progress,
        copyTokenizer, writeModelCard);
  }

  /** A copy that does or does not flush shards to disk before committing. */
  public MergeOptions withSync(boolean value) {
    return new MergeOptions(threads, maxShardBytes, memoryBudget, overwrite, value, progress,
        copyTokenizer, writeModelCard);
  }

  /** A copy that does or does not copy the donor's tokenizer files. */
  public MergeOptions withCopyTokenizer(boolean value) {
    return new MergeOptions(threads, maxShardBytes, memoryBudget, overwrite, sync, progress, value, writeModelCard);
  }

  /** A copy that does or does not write the model card. */
  public MergeOptions withWriteModelCard(boolean value) {
    return new MergeOptions(threads, maxShardBytes, memoryBudget, overwrite, sync, progress, copyTokenizer, value);
  }

  /** A copy reporting progress to {@code listener}. */
  public MergeOptions withProgress(ProgressListener listener) {
    return new MergeOptions(threads, maxShardBytes, memoryBudget, overwrite, sync, listener,
        copyTokenizer, writeModelCard);
  }
}
