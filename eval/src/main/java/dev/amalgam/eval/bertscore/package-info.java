/**
 * BERTScore (Zhang et al. 2020) as bert_score 0.3.12 computes it, with the encoder run through
 * onnxruntime instead of PyTorch: {@link dev.amalgam.eval.bertscore.TokenEmbedder} turns texts into
 * per-token vectors, {@link dev.amalgam.eval.bertscore.OnnxTokenEmbedder} does so with an ONNX
 * encoder and its HF tokenizer.json (by default the bundled all-MiniLM-L6-v2), and {@link
 * dev.amalgam.eval.bertscore.BertScorer} does bert_score's greedy cosine matching, idf weighting,
 * multi-reference maximum and baseline rescaling.
 *
 * <p>Scores from all-MiniLM-L6-v2 are not comparable with bert_score's roberta-large (layer 17) or
 * deberta-xlarge-mnli (layer 40) numbers; {@link dev.amalgam.eval.bertscore.BertScorer#hash()} says
 * which encoder and settings produced a number.
 */
package dev.amalgam.eval.bertscore;
