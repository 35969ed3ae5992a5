package dev.amalgam.eval.text;

/**
 * sacreBLEU's default {@code 13a} tokenizer (mteval-v13a.pl, as in sacreBLEU 2.6.0 and HF
 * evaluate's BLEU), used by BLEU. In order: remove {@code <skipped>}, join hyphen-newline, newline
 * to space, unescape {@code &quot; &amp; &lt; &gt;}, pad with a space on each side, then
 *
 * <ol>
 *   <li>surround every ASCII punctuation character except {@code . , ' -} with spaces;
 *   <li>a {@code .} or {@code ,} preceded by a non-digit: a space before and after it;
 *   <li>a {@code .} or {@code ,} followed by a non-digit: a space before it;
 *   <li>a {@code -} preceded by a digit: spaces around it;
 * </ol>
 *
 * and finally collapse whitespace (Python's {@code str.split()} notion of it) to single spaces.
 *
 * <p>Steps 2-4 are regular-expression substitutions in the reference; each is reproduced here as
 * one left-to-right scan with the same non-overlapping match semantics (a character consumed by one
 * match cannot start the next), which is what makes {@code "a.."} or {@code "1-2-3"} come out
 * exactly as in Python.
 */
public final class Tokenizer13a {

  private Tokenizer13a() {}

  /**
   * Tokenizes one segment; the result is the tokens joined by single spaces ({@code ""} for no
   * tokens).
   */
  public static String tokenize(String line) {
    String s = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
    if (s.indexOf('&') >= 0) {
      s = s.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
    }
    s = " " + s + " ";
    s = separateSymbols(s);
    s = periodCommaAfterNonDigit(s);
    s = periodCommaBeforeNonDigit(s);
    s = dashAfterDigit(s);
    return collapseWhitespace(s);
  }

  /** The tokens of {@link #tokenize}. */
  public static String[] tokens(String line) {
    String tokenized = tokenize(line);
    return tokenized.isEmpty() ? new String[0] : tokenized.split(" ", -1);
  }

  /** The reference's class {@code [\{-\~\[-\` -\&\(-\+\:-\@\/]}: ASCII punctuation except . , ' - (and space). */
  private static boolean isSeparatedSymbol(char c) {
    return (c >= '{' && c <= '~')
        || (c >= '[' && c <= '`')
        || (c >= ' ' && c <= '&')
        || (c >= '(' && c <= '+')
        || (c >= ':' && c <= '@')
        || c == '/';
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isPeriodOrComma(char c) {
    return c == '.' || c == ',';
  }

  private static String separateSymbols(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (isSeparatedSymbol(c)) {
        out.append(' ').append(c).append(' ');
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** {@code ([^0-9])([\.,]) -> "\1 \2 "}. */
  private static String periodCommaAfterNonDigit(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (!isDigit(c) && i + 1 < s.length() && isPeriodOrComma(s.charAt(i + 1))) {
        out.append(c).append(' ').append(s.charAt(i + 1)).append(' ');
        i += 2;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** {@code ([\.,])([^0-9]) -> " \1 \2"}. */
  private static String periodCommaBeforeNonDigit(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (isPeriodOrComma(c) && i + 1 < s.length() && !isDigit(s.charAt(i + 1))) {
        out.append(' ').append(c).append(' ').append(s.charAt(i + 1));
        i += 2;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** {@code ([0-9])(-) -> "\1 \2 "}. */
  private static String dashAfterDigit(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (isDigit(c) && i + 1 < s.length() && s.charAt(i + 1) == '-') {
        out.append(c).append(" - ");
        i += 2;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** {@code " ".join(s.split())}. */
  static String collapseWhitespace(String s) {
    StringBuilder out = new StringBuilder(s.length());
    int i = 0;
    int n = s.length();
    while (i < n) {
      while (i < n && isPythonWhitespace(s.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && !isPythonWhitespace(s.charAt(i))) {
        i++;
      }
      if (i > start) {
        if (out.length() > 0) {
          out.append(' ');
        }
        out.append(s, start, i);
      }
    }
    return out.toString();
  }

  /**
   * Python's {@code str.isspace()} (what {@code str.split()} and {@code str.rstrip()} use), which
   * differs from Java's {@link Character#isWhitespace}: it includes U+00A0, U+2007, U+202F and
   * U+0085. All such characters are in the BMP.
   */
  public static boolean isPythonWhitespace(char c) {
    if (c <= ' ') {
      return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\u001c' && c <= '\u001f');
    }
    return c == '\u0085'
        || c == '\u00a0'
        || c == '\u1680'
        || (c >= '\u2000' && c <= '\u200a')
        || c == '\u2028'
        || c == '\u2029'
        || c == '\u202f'
        || c == '\u205f'
        || c == '\u3000';
  }
}
