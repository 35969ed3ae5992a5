package dev.amalgam.eval.llama;

/**
 * Perplexity with llama-perplexity's definition: the text is cut into non-overlapping chunks of
 * nCtx tokens (the remainder is dropped), each chunk's first token is replaced by BOS and only its
 * second half is scored.
 *
 * @param perplexity exp(mean NLL)
 * @param perplexityError llama-perplexity's "+/-": perplexity times the standard error of the mean
 *     NLL
 * @param meanNll mean negative log-likelihood (nats) over the scored tokens
 * @param tokens tokens in the whole text (BOS included when the vocabulary adds it)
 * @param chunks chunks scored
 * @param scoredTokens tokens scored: chunks x (nCtx - nCtx/2 - 1)
 * @param nCtx window size
 */
public record PerplexityResult(
    double perplexity,
    double perplexityError,
    double meanNll,
    int tokens,
    int chunks,
    long scoredTokens,
    int nCtx) {}
