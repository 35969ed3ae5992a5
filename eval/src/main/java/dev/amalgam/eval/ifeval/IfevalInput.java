package dev.amalgam.eval.ifeval;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One IFEval prompt: a line of {@code input_data.jsonl}. {@code kwargs.get(i)} holds the arguments
 * of instruction {@code instructionIds.get(i)}, as in the reference data.
 *
 * @param key the example's key (a number in the official data, kept as text)
 * @param prompt the prompt text; responses are joined to it by exact text
 * @param instructionIds the instruction ids, e.g. {@code "punctuation:no_comma"}
 * @param kwargs one argument map per instruction (values: Integer/Long, String, List of String, or
 *     null)
 */
public record IfevalInput(
    String key, String prompt, List<String> instructionIds, List<Map<String, Object>> kwargs) {
  /** Checks that every part is present and that there is one kwargs map per instruction id. */
  public IfevalInput {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(prompt, "prompt");
    instructionIds = List.copyOf(instructionIds);
    kwargs = List.copyOf(kwargs);
    if (instructionIds.size() != kwargs.size()) {
      throw new IfevalException(
          "key "
              + key
              + ": "
              + instructionIds.size()
              + " instruction ids but "
              + kwargs.size()
              + " kwargs maps (one per instruction is required)");
    }
  }
}
