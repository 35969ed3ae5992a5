package dev.amalgam.eval.harness;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * An evaluation task: where its data lives, its splits, how it is scored and its default prompt.
 *
 * @param name the {@code --task} name
 * @param kind generation, multiple choice or instruction following
 * @param dataFolder the folder name under the data root ({@code <root>/<dataFolder>/...}); null for
 *     a task that reads one given file (jsonl)
 * @param splits the split names the data defines
 * @param defaultSplit the split used without {@code --split}
 * @param shotSplit the split few-shot examples come from; null when the data has no training split
 *     (then they come from the evaluated split itself, never the query example)
 * @param defaultMaxTokens {@code --max-tokens} without the option (capped by the free context)
 * @param defaultTemplate the prompt template without {@code --template}
 * @param loader reads one split from the task's data folder
 */
public record Task(
    String name,
    TaskKind kind,
    String dataFolder,
    List<String> splits,
    String defaultSplit,
    String shotSplit,
    int defaultMaxTokens,
    PromptTemplate defaultTemplate,
    Loader loader) {

  /** Reads one split of a task's data. */
  @FunctionalInterface
  public interface Loader {
    /**
     * Loads the examples of {@code split} in file order.
     *
     * @param dir the task's data folder (or the data file for jsonl)
     * @throws DataException for a missing file or a row that breaks a rule
     */
    List<Example> load(Path dir, String split) throws IOException;
  }

  /** Checks the split names and copies the collections. */
  public Task {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    splits = List.copyOf(splits);
    if (!splits.contains(defaultSplit))
      throw new IllegalArgumentException(name + ": default split " + defaultSplit);
    if (shotSplit != null && !splits.contains(shotSplit))
      throw new IllegalArgumentException(name + ": " + shotSplit);
  }

  /**
   * Loads a split.
   *
   * @throws DataException for an unknown split (listing the known ones) or bad data
   */
  public List<Example> load(Path dir, String split) {
    if (!splits.contains(split)) {
      throw new DataException(
          "task " + name + " has no split '" + split + "'; splits: " + String.join(", ", splits));
    }
    try {
      return loader.load(dir, split);
    } catch (IOException e) {
      throw new DataException(dir + ": cannot read the " + name + " data (" + split + "): " + e, e);
    }
  }
}
