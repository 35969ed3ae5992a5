package dev.amalgam.eval.ifeval;

import java.util.List;

/**
 * The verdicts for one prompt: per instruction, whether the response follows it under the strict
 * and the loose rules (the reference's {@code follow_instruction_list} in {@code
 * eval_results_strict.jsonl} and {@code eval_results_loose.jsonl}).
 *
 * @param key the example's key
 * @param prompt the prompt text
 * @param instructionIds the instruction ids, in the input's order
 * @param strict per instruction: the trimmed response is non-empty and the check passes
 * @param loose per instruction: some non-empty loose variant of the response passes
 */
public record IfevalResult(
    String key,
    String prompt,
    List<String> instructionIds,
    List<Boolean> strict,
    List<Boolean> loose) {
  /** Copies the lists. */
  public IfevalResult {
    instructionIds = List.copyOf(instructionIds);
    strict = List.copyOf(strict);
    loose = List.copyOf(loose);
  }

  /** The reference's strict {@code follow_all_instructions}. */
  public boolean followAllStrict() {
    return !strict.contains(Boolean.FALSE);
  }

  /** The reference's loose {@code follow_all_instructions}. */
  public boolean followAllLoose() {
    return !loose.contains(Boolean.FALSE);
  }
}
