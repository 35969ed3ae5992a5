package dev.amalgam.eval.llama;

/**
 * The outcome of one {@link GenerationRequest}.
 *
 * @param text the generated completion (without the prompt)
 * @param prompt the exact prompt text given to the model: the chat-templated one in chat mode, without a leading BOS
 *     text when the vocabulary adds BOS itself
 * @param millis wall time of this generation inside the child, excluding the model load
 */
public record GenerationResult(String text, String prompt, long millis) {}
