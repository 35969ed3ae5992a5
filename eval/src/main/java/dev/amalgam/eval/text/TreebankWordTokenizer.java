package dev.amalgam.eval.text;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NLTK 3.8's {@code word_tokenize(text, preserve_line=True)}: the NLTKWordTokenizer ("improved
 * Treebank") regex pipeline on the whole text, without Punkt sentence splitting. The stages run in
 * NLTK's order: starting quotes, punctuation, parentheses and brackets, double dashes, ending
 * quotes, contractions (CONTRACTIONS2, CONTRACTIONS3), then a Python {@code str.split()}.
 *
 * <p>Written by hand because no Java tokenizer reproduces NLTK's rules; each pattern is a port of
 * NLTK's with Python's Unicode semantics spelled out, since Java's defaults differ: Python's {@code
 * \w} is {@code [\p{L}\p{N}_]} (Java's adds combining marks and other connector punctuation),
 * Python's {@code \s} is {@code str.isspace()} (see {@link WhitespaceTokenizer}), {@code \b} next
 * to a literal letter becomes a look-around on Python's {@code \w}, {@code $} only treats {@code
 * \n} as a line end ({@link Pattern#UNIX_LINES}), and Java has no {@code (?#...)} comments.
 */
public final class TreebankWordTokenizer {

  private TreebankWordTokenizer() {}

  /** Python's Unicode {@code \w} as a class body. */
  private static final String WORD = "\\p{L}\\p{N}_";

  /** Python's Unicode {@code \s}. */
  private static final String SPACE = "[" + WhitespaceTokenizer.PYTHON_SPACE_CLASS + "]";

  /** Python's Unicode {@code \d} (category Nd). */
  private static final String DIGIT = "\\p{Nd}";

  /** Python's {@code \b} just before a word character. */
  private static final String WORD_START = "(?<![" + WORD + "])";

  /** Python's {@code \b} just after a word character. */
  private static final String WORD_END = "(?![" + WORD + "])";

  private static final int FLAGS = Pattern.UNIX_LINES;
  private static final int IGNORE_CASE = FLAGS | Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;

  /** One substitution: a pattern and its replacement in Java's {@code $n} syntax. */
  record Rule(Pattern pattern, String replacement) {
    Rule(String regex, int flags, String replacement) {
      this(Pattern.compile(regex, flags), replacement);
    }

    String apply(String text) {
      Matcher matcher = pattern.matcher(text);
      return matcher.find() ? matcher.replaceAll(replacement) : text;
    }
  }

  static final List<Rule> STARTING_QUOTES =
      List.of(
          new Rule("([«“‘„]|[`]+)", FLAGS, " $1 "),
          new Rule("^\"", FLAGS, "``"),
          new Rule("(``)", FLAGS, " $1 "),
          new Rule("([ (\\[{<])(\"|'{2})", FLAGS, "$1 `` "),
          new Rule("(')(?!re|ve|ll|m|t|s|d|n)([" + WORD + "])" + WORD_END, IGNORE_CASE, "$1 $2"));

  static final List<Rule> PUNCTUATION =
      List.of(
          new Rule("([^.])(\\.)([\\])}>\"'»”’ ]*)" + SPACE + "*$", FLAGS, "$1 $2 $3 "),
          new Rule("([:,])([^" + DIGIT + "])", FLAGS, " $1 $2"),
          new Rule("([:,])$", FLAGS, " $1 "),
          new Rule("\\.{2,}", FLAGS, " $0 "),
          new Rule("[;@#$%&]", FLAGS, " $0 "),
          new Rule("([^.])(\\.)([\\])}>\"']*)" + SPACE + "*$", FLAGS, "$1 $2$3 "),
          new Rule("[?!]", FLAGS, " $0 "),
          new Rule("([^'])' ", FLAGS, "$1 ' "),
          new Rule("[*]", FLAGS, " $0 "));

  static final Rule PARENS_BRACKETS = new Rule("[\\]\\[(){}<>]", FLAGS, " $0 ");

  static final Rule DOUBLE_DASHES = new Rule("--", FLAGS, " -- ");

  static final List<Rule> ENDING_QUOTES =
      List.of(
          new Rule("([»”’])", FLAGS, " $1 "),
          new Rule("''", FLAGS, " '' "),
          new Rule("\"", FLAGS, " '' "),
          new Rule("([^' ])('[sS]|'[mM]|'[dD]|') ", FLAGS, "$1 $2 "),
          new Rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", FLAGS, "$1 $2 "));

  /** NLTK's CONTRACTIONS2 (Robert MacIntyre's list), split as " $1 $2 ". */
  static final List<Rule> CONTRACTIONS2 =
      List.of(
          contraction(WORD_START + "(can)(not)" + WORD_END),
          contraction(WORD_START + "(d)('ye)" + WORD_END),
          contraction(WORD_START + "(gim)(me)" + WORD_END),
          contraction(WORD_START + "(gon)(na)" + WORD_END),
          contraction(WORD_START + "(got)(ta)" + WORD_END),
          contraction(WORD_START + "(lem)(me)" + WORD_END),
          contraction(WORD_START + "(more)('n)" + WORD_END),
          contraction(WORD_START + "(wan)(na)(?=" + SPACE + ")"));

  /** NLTK's CONTRACTIONS3 ('tis, 'twas). */
  static final List<Rule> CONTRACTIONS3 =
      List.of(contraction(" ('t)(is)" + WORD_END), contraction(" ('t)(was)" + WORD_END));

  private static Rule contraction(String regex) {
    return new Rule(regex, IGNORE_CASE, " $1 $2 ");
  }

  /**
   * The tokens of {@code text} as NLTK 3.8's {@code word_tokenize(text, preserve_line=True)}
   * returns them.
   */
  public static List<String> tokenize(String text) {
    return WhitespaceTokenizer.whitespace(rewrite(text));
  }

  /**
   * The padded text just before the final split (the stages in NLTK's order); visible for the
   * per-stage tests.
   */
  static String rewrite(String text) {
    for (Rule rule : STARTING_QUOTES) {
      text = rule.apply(text);
    }
    for (Rule rule : PUNCTUATION) {
      text = rule.apply(text);
    }
    text = PARENS_BRACKETS.apply(text);
    text = DOUBLE_DASHES.apply(text);
    text = " " + text + " ";
    for (Rule rule : ENDING_QUOTES) {
      text = rule.apply(text);
    }
    for (Rule rule : CONTRACTIONS2) {
      text = rule.apply(text);
    }
    for (Rule rule : CONTRACTIONS3) {
      text = rule.apply(text);
    }
    return text;
  }
}
