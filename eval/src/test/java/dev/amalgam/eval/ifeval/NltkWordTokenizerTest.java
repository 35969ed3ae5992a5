package dev.amalgam.eval.ifeval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.eval.text.TreebankWordTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * NLTK's word_tokenize (Punkt, then the shared Treebank tokenizer), against the outputs documented
 * in NLTK 3.8's doctests.
 */
class NltkWordTokenizerTest {
  @Test
  void wordTokenizeSplitsSentencesFirst() {
    // nltk/tokenize/__init__.py doctest: the inner periods are split off because Punkt splits
    // sentences first
    assertEquals(
        List.of(
            "Good", "muffins", "cost", "$", "3.88", "in", "New", "York", ".", "Please", "buy", "me",
            "two", "of", "them", ".", "Thanks", "."),
        NltkWordTokenizer.tokenize(
            "Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\n\nThanks."));
  }

  @Test
  void treebankRulesWithinASentence() {
    // nltk/tokenize/destructive.py doctest (one string, no sentence splitting)
    assertEquals(
        List.of(
            "Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in",
            "New", "York.", "Please", "buy", "me", "two", "of", "them.", "Thanks", "."),
        TreebankWordTokenizer.tokenize(
            "Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks."));
    // only a period at the end of the string is split off; "Cannot" is a MacIntyre contraction
    assertEquals(
        List.of(
            "They", "'ll", "save", "and", "invest", "more.", "``", "Can", "not", "''", "he",
            "said"),
        TreebankWordTokenizer.tokenize("They'll save and invest more. \"Cannot\" he said"));
  }
}
