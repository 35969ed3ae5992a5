package dev.amalgam.eval.harness;

import dev.amalgam.eval.score.ScoredCorpus;
import java.util.List;

/**
 * Checks generated IFEval responses; the harness only generates them. Each example carries the
 * prompt ({@code fields().get("prompt")}), the key and the original input line ({@code
 * fields().get("source_json")}: key, prompt, instruction_id_list, kwargs). {@link IfevalChecks} is
 * the implementation over {@code dev.amalgam.eval.ifeval}.
 */
@FunctionalInterface
public interface IfevalChecker {
  /**
   * Checks one response per prompt.
   *
   * @param prompts the IFEval examples, in order
   * @param responses the generated responses, same order and size
   * @return the accuracies as a corpus (prompt- and instruction-level, strict and loose), one
   *     example per prompt
   */
  ScoredCorpus check(List<Example> prompts, List<String> responses);
}
