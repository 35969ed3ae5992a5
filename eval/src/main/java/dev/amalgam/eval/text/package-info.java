/**
 * Text processing that the metrics share and that must equal the Python references: NLTK's Porter
 * stemmer, the rouge-score and sacreBLEU 13a tokenizers, and a strict CSV reader for evaluation
 * data.
 */
package dev.amalgam.eval.text;
