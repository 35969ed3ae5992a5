package dev.amalgam.eval.harness;

import java.util.Objects;

/**
 * The settings of one evaluation run (recorded in metrics.json).
 *
 * @param split the split evaluated
 * @param limit evaluate only the first N examples of the split (null: all)
 * @param shots few-shot examples per prompt
 * @param seed seed of the few-shot selection and of llama.cpp's sampler (decoding itself is greedy)
 * @param maxTokens most tokens generated per example (capped by the free context)
 * @param chat wrap prompts in the model's chat template; null decides per model: on when the GGUF
 *     has {@code tokenizer.chat_template}
 * @param mcMode how multiple-choice answers are picked
 * @param template the prompt template
 * @param gpuLayers layers offloaded to a GPU (needs a CUDA libjllama.so)
 * @param contextSize context tokens of the model load
 * @param threads CPU threads
 */
public record EvalSettings(
    String split,
    Integer limit,
    int shots,
    long seed,
    int maxTokens,
    Boolean chat,
    McMode mcMode,
    PromptTemplate template,
    int gpuLayers,
    int contextSize,
    int threads) {
  /** Checks the ranges. */
  public EvalSettings {
    Objects.requireNonNull(split, "split");
    Objects.requireNonNull(mcMode, "mcMode");
    Objects.requireNonNull(template, "template");
    if (limit != null && limit < 1) throw new DataException("--limit must be >= 1, got " + limit);
    if (shots < 0) throw new DataException("--shots must be >= 0, got " + shots);
    if (maxTokens < 1) throw new DataException("--max-tokens must be >= 1, got " + maxTokens);
    if (contextSize < 16) throw new DataException("--ctx must be >= 16, got " + contextSize);
    if (threads < 1) throw new DataException("--threads must be >= 1, got " + threads);
    if (gpuLayers < 0) throw new DataException("--gpu-layers must be >= 0, got " + gpuLayers);
  }
}
