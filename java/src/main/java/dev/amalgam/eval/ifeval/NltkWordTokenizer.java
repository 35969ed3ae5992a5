package dev.amalgam.eval.ifeval;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * NLTK 3.8's {@code word_tokenize(text)} for IFEval's {@code change_case:capital_word_frequency}: Punkt sentence
 * splitting ({@link PunktSentenceTokenizer}) and then, per sentence, the rules of NLTK's {@code NLTKWordTokenizer}
 * (an improved Treebank tokenizer: starting quotes, punctuation, brackets, double dashes, ending quotes,
 * MacIntyre contractions) applied in NLTK's order.
 *
 * <p>Written by hand because no Java library reproduces NLTK's tokenizer. It stays private to this package until
 * the shared {@code dev.amalgam.eval.text.TreebankWordTokenizer} (NLTK {@code word_tokenize(..., preserve_line=True)})
 * lands; {@link #tokenize} would then be that class applied to each Punkt sentence. Python's Unicode {@code \w},
 * {@code \d}, {@code \s} and {@code \b} are emulated with {@link PyText}'s classes.
 */
final class NltkWordTokenizer {
  private NltkWordTokenizer() {}

  private record Rule(Pattern pattern, String replacement) {
    String apply(String text) {
      return pattern.matcher(text).replaceAll(replacement);
    }
  }

  private static Rule rule(String regex, String replacement) {
    return new Rule(Pattern.compile(regex, Pattern.UNIX_LINES), replacement);
  }

  private static Rule ruleIgnoreCase(String regex, String replacement) {
    return new Rule(Pattern.compile(regex, Pattern.UNIX_LINES | Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE),
        replacement);
  }

  private static final String S = PyText.SPACE;
  private static final String B = PyText.BOUNDARY;

  private static final List<Rule> STARTING_QUOTES = List.of(
      rule("([«“‘„]|[`]+)", " $1 "),
      rule("^\"", "``"),
      rule("(``)", " $1 "),
      rule("([ (\\[{<])(\"|'{2})", "$1 `` "),
      ruleIgnoreCase("(')(?!re|ve|ll|m|t|s|d|n)(" + PyText.WORD + ")" + B, "$1 $2"));

  private static final List<Rule> PUNCTUATION = List.of(
      rule("([^.])(\\.)([\\])}>\"'»”’ ]*)" + S + "*$", "$1 $2 $3 "),
      rule("([:,])((?!" + PyText.DIGIT + ")[\\s\\S])", " $1 $2"),
      rule("([:,])$", " $1 "),
      rule("\\.{2,}", " $0 "),
      rule("[;@#$%&]", " $0 "),
      rule("([^.])(\\.)([\\])}>\"']*)" + S + "*$", "$1 $2$3 "),
      rule("[?!]", " $0 "),
      rule("([^'])' ", "$1 ' "),
      rule("[*]", " $0 "));

  private static final Rule PARENS_BRACKETS = rule("[\\]\\[(){}<>]", " $0 ");
  private static final Rule DOUBLE_DASHES = rule("--", " -- ");

  private static final List<Rule> ENDING_QUOTES = List.of(
      rule("([»”’])", " $1 "),
      rule("''", " '' "),
      rule("\"", " '' "),
      rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
      rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "));

  private static final List<Rule> CONTRACTIONS = List.of(
      ruleIgnoreCase(B + "(can)(not)" + B, " $1 $2 "),
      ruleIgnoreCase(B + "(d)('ye)" + B, " $1 $2 "),
      ruleIgnoreCase(B + "(gim)(me)" + B, " $1 $2 "),
      ruleIgnoreCase(B + "(gon)(na)" + B, " $1 $2 "),
      ruleIgnoreCase(B + "(got)(ta)" + B, " $1 $2 "),
      ruleIgnoreCase(B + "(lem)(me)" + B, " $1 $2 "),
      ruleIgnoreCase(B + "(more)('n)" + B, " $1 $2 "),
      ruleIgnoreCase(B + "(wan)(na)(?=" + S + ")", " $1 $2 "),
      ruleIgnoreCase(" ('t)(is)" + B, " $1 $2 "),
      ruleIgnoreCase(" ('t)(was)" + B, " $1 $2 "));

  /** NLTK's {@code word_tokenize(text)}: Punkt sentences, each tokenized by the improved Treebank rules. */
  static List<String> tokenize(String text) {
    List<String> tokens = new ArrayList<>();
    for (String sentence : PunktSentenceTokenizer.tokenize(text)) tokens.addAll(tokenizeSentence(sentence));
    return tokens;
  }

  /** NLTK's {@code NLTKWordTokenizer().tokenize(sentence)}. */
  static List<String> tokenizeSentence(String text) {
    for (Rule r : STARTING_QUOTES) text = r.apply(text);
    for (Rule r : PUNCTUATION) text = r.apply(text);
    text = PARENS_BRACKETS.apply(text);
    text = DOUBLE_DASHES.apply(text);
    text = " " + text + " ";
    for (Rule r : ENDING_QUOTES) text = r.apply(text);
    for (Rule r : CONTRACTIONS) text = r.apply(text);
    return PyText.splitWhitespace(text);
  }
}
