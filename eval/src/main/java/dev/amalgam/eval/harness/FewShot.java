package dev.amalgam.eval.harness;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Few-shot prompts. Selection: the shot pool (the task's training split, or the evaluated split
 * when there is none) is shuffled once with {@code java.util.Random(seed)}; each query takes the
 * first {@code k} examples of that order whose id differs from its own (when the pool is the
 * evaluated split), so every query of a run sees the same shots (except where a query is itself one
 * of them) and a query never sees itself.
 *
 * <p>Layout: each shot is the template rendered with the shot's fields, a space and the shot's
 * answer (its reference text, or for multiple choice its gold label: the scored continuation); the
 * shots and then the rendered query are joined by a blank line ({@code "\n\n"}), as
 * lm-evaluation-harness's default fewshot and target delimiters.
 */
public final class FewShot {
  /** Between a rendered example and its answer (lm-evaluation-harness's target_delimiter). */
  public static final String TARGET_DELIMITER = " ";

  /** Between shots and before the query (lm-evaluation-harness's fewshot_delimiter). */
  public static final String SHOT_DELIMITER = "\n\n";

  private final List<Example> order;
  private final int k;
  private final boolean sameSplit;

  private FewShot(List<Example> order, int k, boolean sameSplit) {
    this.order = order;
    this.k = k;
    this.sameSplit = sameSplit;
  }

  /**
   * Prepares the selection.
   *
   * @param pool candidate shots
   * @param k shots per query (0 for none)
   * @param sameSplit whether the pool is the evaluated split (then a query may be in it and needs
   *     one spare)
   * @throws DataException when the pool has too few examples
   */
  public static FewShot prepare(
      List<Example> pool, int k, long seed, boolean sameSplit, String poolName) {
    if (k < 0) throw new DataException("--shots must be >= 0, got " + k);
    int needed = k == 0 ? 0 : sameSplit ? k + 1 : k;
    if (pool.size() < needed) {
      throw new DataException(
          "--shots "
              + k
              + " needs "
              + needed
              + " examples in "
              + poolName
              + ", which has "
              + pool.size());
    }
    List<Example> order = new ArrayList<>(pool);
    Collections.shuffle(order, new Random(seed));
    return new FewShot(List.copyOf(order.subList(0, Math.min(order.size(), k + 1))), k, sameSplit);
  }

  /** The shots for one query, in prompt order. */
  public List<Example> shotsFor(Example query) {
    List<Example> out = new ArrayList<>(k);
    for (Example e : order) {
      if (out.size() == k) break;
      // Ids are compared only within one split: MTS-Dialog, for one, numbers each split's rows from
      // 0.
      if (!sameSplit || !e.id().equals(query.id())) out.add(e);
    }
    return out;
  }

  /**
   * The whole prompt for one query: shots with their answers, then the query, as the class comment
   * describes.
   */
  public String prompt(PromptTemplate template, Example query) {
    StringBuilder out = new StringBuilder();
    for (Example shot : shotsFor(query)) {
      out.append(template.render(shot.fields()))
          .append(TARGET_DELIMITER)
          .append(shot.reference())
          .append(SHOT_DELIMITER);
    }
    return out.append(template.render(query.fields())).toString();
  }
}
