/**
 * Text-generation metrics that equal their Python references: ROUGE (rouge-score 0.1.2), BLEU
 * (sacreBLEU 2.6.0 and Hugging Face evaluate's tensorflow-nmt BLEU) and the records they share.
 */
package dev.amalgam.eval.metrics;
