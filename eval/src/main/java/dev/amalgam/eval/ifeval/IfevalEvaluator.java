package dev.amalgam.eval.ifeval;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Scores responses against IFEval prompts as the reference's {@code evaluation_lib} does,
 * independent of files: the evaluation harness calls it after generating responses, the {@code
 * amalgam ifeval} command after reading jsonl.
 *
 * <p>Strict: an instruction is followed when the trimmed response is non-empty and the check passes
 * on the response. Loose: when any non-empty one of eight variants passes: the response; the
 * response without '*'; without its first line; without its last line; without both (each re-joined
 * with newlines and trimmed); and the last three without '*'. Thread-safe; checks share only
 * immutable state and the seeded language detector.
 */
public final class IfevalEvaluator {
  private IfevalEvaluator() {}

  /**
   * Evaluates every input against the response to its prompt, joined by exact prompt text as the
   * reference does.
   *
   * @throws IfevalException if a prompt has no response (naming its key), an instruction id is
   *     unknown or its kwargs are unusable
   */
  public static IfevalReport evaluate(
      List<IfevalInput> inputs, Map<String, String> responseByPrompt) {
    List<IfevalResult> results = new ArrayList<>(inputs.size());
    for (IfevalInput input : inputs) {
      String response = responseByPrompt.get(input.prompt());
      if (response == null) {
        throw new IfevalException(
            "key "
                + input.key()
                + ": no response for its prompt (responses are joined to"
                + " prompts by exact text; the prompt starts \""
                + abbreviate(input.prompt())
                + "\")");
      }
      results.add(evaluate(input, response));
    }
    return new IfevalReport(results);
  }

  /**
   * Evaluates one response against one prompt's instructions, strict and loose.
   *
   * @throws IfevalException if an instruction id is unknown or its kwargs are unusable
   */
  public static IfevalResult evaluate(IfevalInput input, String response) {
    List<String> variants = looseVariants(response);
    List<Boolean> strict = new ArrayList<>();
    List<Boolean> loose = new ArrayList<>();
    for (int i = 0; i < input.instructionIds().size(); i++) {
      Instruction instruction = InstructionType.build(input, i);
      boolean strictFollowed = followed(instruction, response);
      strict.add(strictFollowed);
      // The original response is the first loose variant, so its strict verdict decides there
      // first.
      boolean looseFollowed = strictFollowed;
      for (int v = 1; v < variants.size() && !looseFollowed; v++)
        looseFollowed = followed(instruction, variants.get(v));
      loose.add(looseFollowed);
    }
    return new IfevalResult(input.key(), input.prompt(), input.instructionIds(), strict, loose);
  }

  private static boolean followed(Instruction instruction, String response) {
    return !PyText.strip(response).isEmpty() && instruction.isFollowed(response);
  }

  /** The reference's eight loose variants, in its order (the original first). */
  static List<String> looseVariants(String response) {
    List<String> lines = PyText.split(response, "\n");
    String removeFirst =
        PyText.strip(String.join("\n", lines.subList(Math.min(1, lines.size()), lines.size())));
    String removeLast =
        PyText.strip(String.join("\n", lines.subList(0, Math.max(0, lines.size() - 1))));
    String removeBoth =
        lines.size() <= 2
            ? ""
            : PyText.strip(String.join("\n", lines.subList(1, lines.size() - 1)));
    return List.of(
        response,
        response.replace("*", ""),
        removeFirst,
        removeLast,
        removeBoth,
        removeFirst.replace("*", ""),
        removeLast.replace("*", ""),
        removeBoth.replace("*", ""));
  }

  private static String abbreviate(String s) {
    String oneLine = s.replace('\n', ' ');
    return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 60) + "...";
  }
}
