package dev.amalgam.eval.harness;

import java.util.List;
import java.util.Map;

/**
 * The IFEval checks, supplied by the IFEval package (dev.amalgam.eval.ifeval) through an adapter: the harness only
 * generates the responses. Each example carries the prompt ({@code fields().get("prompt")}), the key and the
 * original input line ({@code fields().get("source_json")}: key, prompt, instruction_id_list, kwargs).
 */
@FunctionalInterface
public interface IfevalChecker {
  /**
   * Checks one response per prompt.
   *
   * @param prompts the IFEval examples, in order
   * @param responses the generated responses, same order and size
   */
  Result check(List<Example> prompts, List<String> responses);

  /**
   * What the checks found.
   *
   * @param accuracies named accuracies in report order, e.g. prompt_level_strict_acc, inst_level_strict_acc,
   *     prompt_level_loose_acc, inst_level_loose_acc
   * @param perExample per prompt, named booleans (e.g. prompt_level_strict, prompt_level_loose), same order
   */
  record Result(Map<String, Double> accuracies, List<Map<String, Boolean>> perExample) {
    /** Copies the collections. */
    public Result {
      accuracies = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(accuracies));
      perExample = List.copyOf(perExample);
    }
  }
}
