package dev.amalgam.eval.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The default tokenizer of rouge-score 0.1.2 ({@code rouge/tokenize.py}): lowercase, every run of
 * characters other than ASCII {@code a-z0-9} separates tokens (so "45-year-old" gives {@code 45
 * year old} and é, µ, ° are separators), and with stemming every token longer than 3 characters
 * goes through NLTK's Porter stemmer.
 *
 * <p>Written as a character scan rather than the reference's two regular expressions (substitute,
 * then split): the tokens are exactly the maximal runs of {@code [a-z0-9]}, and the scan is several
 * times faster on large corpora.
 */
public final class RougeTokenizer {

  private RougeTokenizer() {}

  /**
   * Tokenizes a text like rouge-score's {@code DefaultTokenizer(use_stemmer).tokenize(text)}.
   *
   * @param stem whether to Porter-stem tokens longer than 3 characters ({@code use_stemmer=True})
   */
  public static List<String> tokenize(String text, boolean stem) {
    List<String> tokens = new ArrayList<>();
    addTokens(text.toLowerCase(Locale.ROOT), 0, -1, stem, tokens);
    return tokens;
  }

  /**
   * Tokenizes each sentence of a text the way rouge-score's rougeLsum does without {@code
   * split_summaries}: the text is split on {@code \n}, empty lines are dropped, and each line is
   * tokenized. A line of punctuation only stays as an empty token list (as in the reference).
   *
   * @param stem whether to Porter-stem tokens longer than 3 characters
   */
  public static List<List<String>> tokenizeLines(String text, boolean stem) {
    // Lowercasing never creates or removes a '\n', so lowercasing once equals lowercasing each
    // line.
    String lower = text.toLowerCase(Locale.ROOT);
    List<List<String>> lines = new ArrayList<>();
    int start = 0;
    while (start <= lower.length()) {
      int end = lower.indexOf('\n', start);
      if (end < 0) {
        end = lower.length();
      }
      if (end > start) {
        List<String> tokens = new ArrayList<>();
        addTokens(lower, start, end, stem, tokens);
        lines.add(tokens);
      }
      start = end + 1;
    }
    return lines;
  }

  /**
   * Adds the maximal {@code [a-z0-9]} runs of {@code lower[from..to)} (to = -1: the end), stemmed
   * if asked.
   */
  private static void addTokens(String lower, int from, int to, boolean stem, List<String> out) {
    int end = to < 0 ? lower.length() : to;
    int i = from;
    while (i < end) {
      while (i < end && !isTokenChar(lower.charAt(i))) {
        i++;
      }
      int begin = i;
      while (i < end && isTokenChar(lower.charAt(i))) {
        i++;
      }
      if (i > begin) {
        String token = lower.substring(begin, i);
        if (stem && token.length() > 3) {
          token = PorterStemmer.stem(token);
        }
        if (!token
            .isEmpty()) { // the reference's final [a-z0-9]+ filter; a stem is never empty, but be
          // exact
          out.add(token);
        }
      }
    }
  }

  private static boolean isTokenChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }
}
