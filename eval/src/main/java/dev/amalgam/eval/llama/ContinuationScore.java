package dev.amalgam.eval.llama;

/**
 * The log-likelihood of a continuation given a prompt, as lm-evaluation-harness computes it.
 *
 * @param logLikelihood sum of the natural-log probabilities of the continuation's tokens
 * @param tokens number of continuation tokens scored (those after the common prefix of prompt and
 *     prompt + continuation)
 * @param greedy whether every continuation token was a most likely token at its position
 */
public record ContinuationScore(double logLikelihood, int tokens, boolean greedy) {}
