package dev.amalgam.eval.bertscore;

import java.util.Objects;

/**
 * The encoder's view of one text: token ids, which tokens are special ([CLS]/[SEP], {@code
 * <s>}/{@code </s>}) and one vector per token from the chosen layer, all after truncation. Arrays
 * are shared, not copied (a long note holds 512 x 384 floats); treat them as read-only.
 *
 * @param ids token ids, special tokens included
 * @param special true where the token is special: it takes part in the matching but has weight 0
 * @param vectors {@code [tokens][dim]} embedding vectors
 * @param truncated true when the text had more tokens than the encoder's maximum length and lost
 *     its tail
 */
public record TokenEmbedding(int[] ids, boolean[] special, float[][] vectors, boolean truncated) {

  /**
   * Checks that the three arrays describe the same tokens and that the vectors have one dimension.
   */
  public TokenEmbedding {
    Objects.requireNonNull(ids, "ids");
    Objects.requireNonNull(special, "special");
    Objects.requireNonNull(vectors, "vectors");
    if (special.length != ids.length || vectors.length != ids.length) {
      throw new IllegalArgumentException(
          "token embedding: "
              + ids.length
              + " ids, "
              + special.length
              + " special flags and "
              + vectors.length
              + " vectors; they must be equal");
    }
    for (int i = 1; i < vectors.length; i++) {
      if (vectors[i].length != vectors[0].length) {
        throw new IllegalArgumentException(
            "token embedding: vector "
                + i
                + " has "
                + vectors[i].length
                + " dimensions, vector 0 has "
                + vectors[0].length);
      }
    }
  }

  /** Number of tokens, special tokens included. */
  public int length() {
    return ids.length;
  }

  /**
   * True when every token is special, i.e. the text was empty or tokenized to nothing: bert_score
   * then sets P and R (and so F) to 0.
   */
  public boolean isEmpty() {
    for (boolean s : special) {
      if (!s) {
        return false;
      }
    }
    return true;
  }
}
