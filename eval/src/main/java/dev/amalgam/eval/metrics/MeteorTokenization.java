package dev.amalgam.eval.metrics;

import dev.amalgam.eval.text.TreebankWordTokenizer;
import dev.amalgam.eval.text.WhitespaceTokenizer;
import java.util.List;

/**
 * How strings become the token lists NLTK's METEOR needs. Tokenization is not part of the metric
 * but moves it a lot (on the MTS-Dialog golden set the mean is 0.2193 with whitespace tokens and
 * 0.3072 with Treebank tokens), so it is recorded in the signature.
 */
public enum MeteorTokenization {
  /** Python's {@code text.split()}. */
  WHITESPACE("whitespace"),
  /** NLTK 3.8 {@code word_tokenize(text, preserve_line=True)} (no Punkt sentence split). */
  TREEBANK("treebank_preserve_line");

  private final String signatureName;

  MeteorTokenization(String signatureName) {
    this.signatureName = signatureName;
  }

  /** The tokens of {@code text} under this tokenization. */
  public List<String> tokenize(String text) {
    return this == WHITESPACE
        ? WhitespaceTokenizer.whitespace(text)
        : TreebankWordTokenizer.tokenize(text);
  }

  /** The name used in metric signatures, e.g. {@code treebank_preserve_line}. */
  public String signatureName() {
    return signatureName;
  }
}
