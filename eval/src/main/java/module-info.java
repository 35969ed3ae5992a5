/**
 * Amalgam's evaluation library: the llama.cpp bridge (log-likelihoods, perplexity, generation),
 * ROUGE, BLEU, METEOR, BERTScore, IFEval, the task harness and bootstrap statistics. METEOR's
 * WordNet data, IFEval's language detection and BERTScore's encoder (onnxruntime, HF tokenizers,
 * the MiniLM model) are optional: add the ones you use.
 */
@SuppressWarnings("requires-automatic")
module dev.amalgam.eval {
  requires transitive dev.amalgam.core;
  requires org.bytedeco.javacpp;
  requires llama;
  requires commons.math3;
  requires static langdetect;
  requires static com.microsoft.onnxruntime;
  requires static ai.djl.tokenizers;

  exports dev.amalgam.eval.llama;
  exports dev.amalgam.eval.text;
  exports dev.amalgam.eval.metrics;
  exports dev.amalgam.eval.bertscore;
  exports dev.amalgam.eval.score;
  exports dev.amalgam.eval.stats;
  exports dev.amalgam.eval.ifeval;
  exports dev.amalgam.eval.harness;
// Not exported: dev.amalgam.eval.llama.jni (the JavaCPP peer of the llama bridge).
}
