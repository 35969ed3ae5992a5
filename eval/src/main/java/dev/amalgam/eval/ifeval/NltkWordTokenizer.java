package dev.amalgam.eval.ifeval;

import dev.amalgam.eval.text.TreebankWordTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * NLTK 3.8's {@code word_tokenize(text)} (without {@code preserve_line}) for IFEval's {@code
 * change_case:capital_word_frequency}: Punkt sentence splitting ({@link PunktSentenceTokenizer}),
 * then the improved Treebank rules on each sentence ({@link TreebankWordTokenizer}, NLTK's {@code
 * word_tokenize(sentence, preserve_line=True)}). Splitting sentences first matters: the Treebank
 * rules split off a period only at the end of the string, so "York. Please" gives "York", "." only
 * after Punkt.
 */
final class NltkWordTokenizer {
  private NltkWordTokenizer() {}

  /** NLTK's {@code word_tokenize(text)}. */
  static List<String> tokenize(String text) {
    List<String> tokens = new ArrayList<>();
    for (String sentence : PunktSentenceTokenizer.tokenize(text))
      tokens.addAll(TreebankWordTokenizer.tokenize(sentence));
    return tokens;
  }
}
