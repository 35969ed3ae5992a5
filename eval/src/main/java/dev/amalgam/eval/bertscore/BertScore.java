package dev.amalgam.eval.bertscore;

/**
 * BERTScore of one candidate: greedy-matching precision, recall and F1, each in [-1, 1] before
 * rescaling (about [0, 1] for real text). As in bert_score, a side whose token weights sum to zero
 * (possible only with idf) is NaN.
 *
 * @param precision weighted mean over candidate tokens of the best cosine similarity to a reference
 *     token
 * @param recall weighted mean over reference tokens of the best cosine similarity to a candidate
 *     token
 * @param f harmonic mean 2PR/(P+R), 0 where that is undefined
 */
public record BertScore(double precision, double recall, double f) {}
