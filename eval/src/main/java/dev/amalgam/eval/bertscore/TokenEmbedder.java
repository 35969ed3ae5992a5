package dev.amalgam.eval.bertscore;

import java.util.List;

/**
 * Turns texts into contextual token embeddings, the input of BERTScore's matching. Kept as an
 * interface so the matching maths can be tested with hand-made vectors and other encoders (another
 * ONNX export, llama.cpp) can be plugged in.
 */
public interface TokenEmbedder {

  /**
   * Embeds each text; the result has one entry per text, in input order. Texts longer than {@link
   * #maxLength()} tokens are truncated (keeping the leading special token and the trailing one) and
   * flagged.
   */
  List<TokenEmbedding> embed(List<String> texts);

  /** The encoder's name as it appears in the BERTScore hash, e.g. {@code all-MiniLM-L6-v2}. */
  String modelName();

  /** The layer whose hidden states are the embeddings (bert_score's {@code num_layers}), e.g. 6. */
  int layer();

  /** The most tokens a text keeps, special tokens included. */
  int maxLength();
}
