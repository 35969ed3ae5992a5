package dev.amalgam.eval.ifeval;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * IFEval's scores over a set of prompts: prompt-level accuracy (all instructions of a prompt
 * followed) and instruction-level accuracy (micro average over instructions), strict and loose,
 * plus accuracy per instruction id and per group (the id's prefix before ':'), as the reference's
 * {@code print_report} and lm-evaluation-harness ({@code prompt_level_strict_acc}, {@code
 * inst_level_strict_acc}, ...) report them.
 */
public final class IfevalReport {
  /**
   * Followed out of total.
   *
   * @param followed how many were followed
   * @param total how many there were
   */
  public record Accuracy(int followed, int total) {
    /** followed / total, or NaN for none. */
    public double value() {
      return total == 0 ? Double.NaN : (double) followed / total;
    }
  }

  private final List<IfevalResult> results;
  private final Accuracy promptStrict;
  private final Accuracy instructionStrict;
  private final Accuracy promptLoose;
  private final Accuracy instructionLoose;
  private final Map<String, Accuracy[]> byId = new TreeMap<>();
  private final Map<String, Accuracy[]> byGroup = new TreeMap<>();

  /** Aggregates per-prompt results. */
  public IfevalReport(List<IfevalResult> results) {
    this.results = List.copyOf(results);
    int promptsStrict = 0;
    int promptsLoose = 0;
    int instructions = 0;
    int followedStrict = 0;
    int followedLoose = 0;
    Map<String, int[]> ids = new TreeMap<>();
    Map<String, int[]> groups = new TreeMap<>();
    for (IfevalResult r : this.results) {
      if (r.followAllStrict()) promptsStrict++;
      if (r.followAllLoose()) promptsLoose++;
      for (int i = 0; i < r.instructionIds().size(); i++) {
        String id = r.instructionIds().get(i);
        boolean s = r.strict().get(i);
        boolean l = r.loose().get(i);
        instructions++;
        if (s) followedStrict++;
        if (l) followedLoose++;
        int colon = id.indexOf(':');
        String group = colon < 0 ? id : id.substring(0, colon);
        for (int[] counts :
            List.of(
                ids.computeIfAbsent(id, x -> new int[3]),
                groups.computeIfAbsent(group, x -> new int[3]))) {
          counts[0]++;
          if (s) counts[1]++;
          if (l) counts[2]++;
        }
      }
    }
    int prompts = this.results.size();
    promptStrict = new Accuracy(promptsStrict, prompts);
    promptLoose = new Accuracy(promptsLoose, prompts);
    instructionStrict = new Accuracy(followedStrict, instructions);
    instructionLoose = new Accuracy(followedLoose, instructions);
    ids.forEach(
        (id, c) ->
            byId.put(id, new Accuracy[] {new Accuracy(c[1], c[0]), new Accuracy(c[2], c[0])}));
    groups.forEach(
        (g, c) ->
            byGroup.put(g, new Accuracy[] {new Accuracy(c[1], c[0]), new Accuracy(c[2], c[0])}));
  }

  /** The per-prompt results, in input order. */
  public List<IfevalResult> results() {
    return results;
  }

  /** The number of prompts evaluated. */
  public int count() {
    return results.size();
  }

  /**
   * Fraction of prompts whose instructions are all followed, strict ({@code
   * prompt_level_strict_acc}).
   */
  public Accuracy promptLevelStrict() {
    return promptStrict;
  }

  /** Fraction of instructions followed, strict ({@code inst_level_strict_acc}). */
  public Accuracy instructionLevelStrict() {
    return instructionStrict;
  }

  /**
   * Fraction of prompts whose instructions are all followed, loose ({@code
   * prompt_level_loose_acc}).
   */
  public Accuracy promptLevelLoose() {
    return promptLoose;
  }

  /** Fraction of instructions followed, loose ({@code inst_level_loose_acc}). */
  public Accuracy instructionLevelLoose() {
    return instructionLoose;
  }

  /** Strict accuracy per instruction id, sorted by id. */
  public Map<String, Accuracy> strictById() {
    return pick(byId, 0);
  }

  /** Loose accuracy per instruction id, sorted by id. */
  public Map<String, Accuracy> looseById() {
    return pick(byId, 1);
  }

  /** Strict accuracy per group (the id's prefix before ':'), sorted by group. */
  public Map<String, Accuracy> strictByGroup() {
    return pick(byGroup, 0);
  }

  /** Loose accuracy per group, sorted by group. */
  public Map<String, Accuracy> looseByGroup() {
    return pick(byGroup, 1);
  }

  private static Map<String, Accuracy> pick(Map<String, Accuracy[]> source, int which) {
    Map<String, Accuracy> out = new TreeMap<>();
    source.forEach((k, v) -> out.put(k, v[which]));
    return Collections.unmodifiableMap(out);
  }
}
