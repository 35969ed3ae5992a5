/**
 * Scoring of generated text: the metric suite (ROUGE, BLEU, METEOR, BERTScore, composite) behind
 * {@code amalgam score} and the generation tasks of {@code amalgam eval}.
 */
package dev.amalgam.eval.score;
