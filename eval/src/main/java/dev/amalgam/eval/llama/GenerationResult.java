package dev.amalgam.eval.llama;

/**
 * The outcome of one {@link GenerationRequest}.
 *
 * @param text the generated completion (without the prompt)
 * @param prompt the exact prompt text given to the model: the chat-templated one in chat mode,
 *     without a leading BOS text when the vocabulary adds BOS itself
 * @param millis wall time from the request's start to its last token, excluding the model load
 *     (with several sequences in parallel, their times overlap)
 * @param promptTokens tokens of the prompt (special-token text parsed, BOS not counted); -1 when
 *     unknown
 * @param generatedTokens tokens generated, an end-of-generation token not counted; -1 when unknown
 */
public record GenerationResult(
    String text, String prompt, long millis, int promptTokens, int generatedTokens) {
  /** A result without token counts. */
  public GenerationResult(String text, String prompt, long millis) {
    this(text, prompt, millis, -1, -1);
  }
}
