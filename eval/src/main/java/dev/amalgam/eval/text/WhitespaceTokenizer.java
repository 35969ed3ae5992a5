package dev.amalgam.eval.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Python's {@code str.split()} with no argument: split on runs of whitespace and drop empty
 * strings. This is the "whitespace" tokenization that reference scripts use ({@code ref.split()}),
 * and the final step of NLTK's word tokenizer. Written by hand because Java's {@code
 * String.split("\\s+")} and {@link Character#isWhitespace} use other whitespace sets than Python
 * (Java misses U+00A0, U+2007, U+202F and U+0085 and keeps a leading empty string).
 */
public final class WhitespaceTokenizer {

  private WhitespaceTokenizer() {}

  /** The tokens of {@code text} as Python's {@code text.split()} returns them. */
  public static List<String> whitespace(String text) {
    List<String> tokens = new ArrayList<>();
    int start = -1;
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      if (isPythonSpace(cp)) {
        if (start >= 0) {
          tokens.add(text.substring(start, i));
          start = -1;
        }
      } else if (start < 0) {
        start = i;
      }
      i += Character.charCount(cp);
    }
    if (start >= 0) {
      tokens.add(text.substring(start));
    }
    return tokens;
  }

  /**
   * Python's {@code str.isspace()} for one code point, which is also what Python's Unicode {@code
   * \s} matches: the characters of bidirectional class WS, B or S, or of category Zs (CPython's
   * {@code _PyUnicode_IsWhitespace}).
   */
  static boolean isPythonSpace(int cp) {
    switch (cp) {
      case '\t',
      '\n',
      0x0B,
      '\f',
      '\r',
      0x1C,
      0x1D,
      0x1E,
      0x1F,
      ' ',
      0x85,
      0xA0,
      0x1680,
      0x2028,
      0x2029,
      0x202F,
      0x205F,
      0x3000:
        return true;
      default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
  }

  /**
   * A regex character class (without brackets) of exactly {@link #isPythonSpace}, for patterns
   * ported from Python.
   */
  static final String PYTHON_SPACE_CLASS =
      "\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}"
          + "\\x{3000}";
}
