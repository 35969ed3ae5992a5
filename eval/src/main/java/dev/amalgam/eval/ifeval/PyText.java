package dev.amalgam.eval.ifeval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Python 3 {@code str} and {@code re} semantics that IFEval relies on and Java spells differently.
 * Java's {@code String.strip()} keeps U+00A0 and Java's regex {@code \s}, {@code \w}, {@code \d}
 * are ASCII-only, while Python's are Unicode; {@code String.split} drops trailing empty strings,
 * Python's {@code split} keeps them. Every check uses these helpers so that a response is cut and
 * counted exactly as the reference does.
 */
final class PyText {
  private PyText() {}

  /**
   * The characters of Python's {@code str.isspace()} (and of {@code re}'s {@code \s} on str
   * patterns).
   */
  private static final String SPACE_CHARS =
      "\\t\\n\\x0B\\f\\r\\x1C-\\x1F \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

  /** Python's Unicode {@code \s} as a Java character class. */
  static final String SPACE = "[" + SPACE_CHARS + "]";

  /** Python's Unicode {@code \S}. */
  static final String NON_SPACE = "[^" + SPACE_CHARS + "]";

  /** Python's Unicode {@code \w}: alphabetic (L*), numeric (Nd, Nl, No) or underscore. */
  static final String WORD = "[\\p{L}\\p{Nd}\\p{Nl}\\p{No}_]";

  /** Python's Unicode {@code \W}. */
  static final String NON_WORD = "[^\\p{L}\\p{Nd}\\p{Nl}\\p{No}_]";

  /** Python's Unicode {@code \d} (decimal digits). */
  static final String DIGIT = "\\p{Nd}";

  /**
   * Python's {@code \b}, built from {@link #WORD} so it does not depend on the JDK's own {@code \b}
   * rules.
   */
  static final String BOUNDARY =
      "(?:(?<=" + WORD + ")(?!" + WORD + ")|(?<!" + WORD + ")(?=" + WORD + "))";

  /** True for the characters of Python's {@code str.isspace()}. */
  static boolean isSpace(int c) {
    return c == ' '
        || (c >= 0x09 && c <= 0x0D)
        || (c >= 0x1C && c <= 0x1F)
        || c == 0x85
        || c == 0xA0
        || c == 0x1680
        || (c >= 0x2000 && c <= 0x200A)
        || c == 0x2028
        || c == 0x2029
        || c == 0x202F
        || c == 0x205F
        || c == 0x3000;
  }

  /** Python's {@code s.strip()}. */
  static String strip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isSpace(s.charAt(start))) start++;
    while (end > start && isSpace(s.charAt(end - 1))) end--;
    return s.substring(start, end);
  }

  /** Python's {@code s.rstrip()}. */
  static String rstrip(String s) {
    int end = s.length();
    while (end > 0 && isSpace(s.charAt(end - 1))) end--;
    return s.substring(0, end);
  }

  /** Python's {@code s.strip(chars)} for a set of BMP characters. */
  static String strip(String s, String chars) {
    return rstrip(lstrip(s, chars), chars);
  }

  /** Python's {@code s.lstrip(chars)}. */
  static String lstrip(String s, String chars) {
    int start = 0;
    while (start < s.length() && chars.indexOf(s.charAt(start)) >= 0) start++;
    return s.substring(start);
  }

  /** Python's {@code s.rstrip(chars)}. */
  static String rstrip(String s, String chars) {
    int end = s.length();
    while (end > 0 && chars.indexOf(s.charAt(end - 1)) >= 0) end--;
    return s.substring(0, end);
  }

  /** Python's {@code s.split()} (runs of whitespace, no empty strings). */
  static List<String> splitWhitespace(String s) {
    List<String> out = new ArrayList<>();
    int i = 0;
    int n = s.length();
    while (i < n) {
      while (i < n && isSpace(s.charAt(i))) i++;
      int start = i;
      while (i < n && !isSpace(s.charAt(i))) i++;
      if (i > start) out.add(s.substring(start, i));
    }
    return out;
  }

  /**
   * Python's {@code s.split(sep)} for a literal separator: keeps leading and trailing empty parts.
   */
  static List<String> split(String s, String sep) {
    List<String> out = new ArrayList<>();
    int from = 0;
    int at;
    while ((at = s.indexOf(sep, from)) >= 0) {
      out.add(s.substring(from, at));
      from = at + sep.length();
    }
    out.add(s.substring(from));
    return out;
  }

  /**
   * Python's {@code re.split(pattern, s)} for a pattern without groups that never matches the empty
   * string: every part, the leading and trailing empty ones included.
   */
  static List<String> reSplit(Pattern pattern, String s) {
    List<String> out = new ArrayList<>();
    var m = pattern.matcher(s);
    int from = 0;
    while (m.find()) {
      if (m.end() == m.start())
        continue; // Python 3.7+ splits on empty matches too; our patterns have none
      out.add(s.substring(from, m.start()));
      from = m.end();
    }
    out.add(s.substring(from));
    return out;
  }

  /** Python's {@code s.lower()} (full Unicode lower-casing, no locale). */
  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  /**
   * Python's {@code s.isupper()}: at least one cased character and no lower-case or title-case one.
   * Java's {@code Character.isUpperCase/isLowerCase} use the same derived Uppercase/Lowercase
   * properties as CPython.
   */
  static boolean isUpper(String s) {
    boolean cased = false;
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (Character.isLowerCase(c) || Character.isTitleCase(c)) return false;
      if (Character.isUpperCase(c)) cased = true;
    }
    return cased;
  }

  /**
   * Python's {@code s.islower()}: at least one cased character and no upper-case or title-case one.
   */
  static boolean isLower(String s) {
    boolean cased = false;
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (Character.isUpperCase(c) || Character.isTitleCase(c)) return false;
      if (Character.isLowerCase(c)) cased = true;
    }
    return cased;
  }

  /** Number of (non-overlapping) matches, as {@code len(re.findall(...))}. */
  static int countMatches(Pattern pattern, String s) {
    var m = pattern.matcher(s);
    int n = 0;
    while (m.find()) n++;
    return n;
  }
}
