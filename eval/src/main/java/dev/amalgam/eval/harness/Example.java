package dev.amalgam.eval.harness;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One evaluation example as a task loader produces it.
 *
 * @param id a stable identifier from the data (ID column, encounter id, uid, PMID, key) or the file
 *     line
 * @param input the main input text (dialogue, findings, question, prompt), written to
 *     predictions.jsonl
 * @param reference the expected output: the reference text, or the gold label for multiple choice;
 *     empty when the task has none (IFEval)
 * @param fields the values the prompt template may use, by placeholder name
 * @param choices the option labels of a multiple-choice example in display order (empty for
 *     generation)
 */
public record Example(
    String id, String input, String reference, Map<String, String> fields, List<String> choices) {
  /** Copies the collections and checks that a multiple-choice gold label is one of the choices. */
  public Example {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(reference, "reference");
    fields = Map.copyOf(fields);
    choices = List.copyOf(choices);
    if (!choices.isEmpty() && !choices.contains(reference)) {
      throw new IllegalArgumentException(
          "example " + id + ": gold label '" + reference + "' is not a choice " + choices);
    }
  }

  /** A generation example (no choices). */
  static Example generation(String id, String input, String reference, Map<String, String> fields) {
    return new Example(id, input, reference, fields, List.of());
  }
}
