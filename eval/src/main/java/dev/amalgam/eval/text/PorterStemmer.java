package dev.amalgam.eval.text;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The Porter stemmer exactly as NLTK 3.8 runs it by default ({@code
 * nltk.stem.porter.PorterStemmer()}, mode {@code NLTK_EXTENSIONS}), so that ROUGE with stemming and
 * METEOR's stem stage equal the Python references.
 *
 * <p>Written by hand because no Java stemmer reproduces this mode: Lucene's {@code
 * PorterStemFilter} equals NLTK's MARTIN_EXTENSIONS mode and Snowball's {@code PorterStemmer} its
 * ORIGINAL_ALGORITHM mode (they differ from the default on about 1.5 % of clinical words: aged,
 * always, biology, boys, awfully, ...). What NLTK adds to Porter's published algorithm: an
 * irregular-forms table (skies, dying, news, proceed, ...), words of at most two letters left
 * alone, {@code ies}/{@code ied} of four letters to {@code ie}, {@code ied} otherwise to {@code i},
 * step 1c's {@code y -> i} only after a consonant that is not the first letter, a two-letter
 * vowel-consonant word counting as "cvc", {@code alli} tried first in step 2 (then step 2 again),
 * and the step 2 rules {@code fulli -> ful} and {@code logi -> log}.
 *
 * <p>Characters are Unicode code points, like Python string indices; only {@code a e i o u} are
 * vowels and {@code y} is a vowel after a consonant, as in the paper; every other code point
 * (digits, accented letters) is a consonant. The class keeps no state: {@link #stem} is thread-safe
 * and allocates only the working buffer and the result.
 */
public final class PorterStemmer {

  /**
   * NLTK's irregular forms: word -> stem, consulted before any rule (with the word as given, not
   * lowercased).
   */
  private static final Map<String, String> IRREGULAR_FORMS =
      Map.ofEntries(
          Map.entry("sky", "sky"),
          Map.entry("skies", "sky"),
          Map.entry("dying", "die"),
          Map.entry("lying", "lie"),
          Map.entry("tying", "tie"),
          Map.entry("news", "news"),
          Map.entry("innings", "inning"),
          Map.entry("inning", "inning"),
          Map.entry("outings", "outing"),
          Map.entry("outing", "outing"),
          Map.entry("cannings", "canning"),
          Map.entry("canning", "canning"),
          Map.entry("howe", "howe"),
          Map.entry("proceed", "proceed"),
          Map.entry("exceed", "exceed"),
          Map.entry("succeed", "succeed"));

  /**
   * Step 2 (m > 0) in NLTK's order: the paper's table with bli (not abli) -> ble, then NLTK's fulli
   * -> ful.
   */
  private static final String[] STEP2 = {
    "ational", "ate", "tional", "tion", "enci", "ence", "anci", "ance", "izer", "ize", "bli", "ble",
    "alli", "al", "entli", "ent", "eli", "e", "ousli", "ous", "ization", "ize", "ation", "ate",
    "ator", "ate", "alism", "al", "iveness", "ive", "fulness", "ful", "ousness", "ous", "aliti",
    "al", "iviti", "ive", "biliti", "ble", "fulli", "ful"
  };

  /** Step 3 (m > 0). */
  private static final String[] STEP3 = {
    "icate", "ic", "ative", "", "alize", "al", "iciti", "ic", "ical", "ic", "ful", "", "ness", ""
  };

  /** Step 4 (m > 1) up to the ion rule, which has an extra condition. */
  private static final String[] STEP4_BEFORE_ION = {
    "al", "", "ance", "", "ence", "", "er", "", "ic", "", "able", "", "ible", "", "ant", "",
    "ement", "", "ment", "", "ent", ""
  };

  /** Step 4 (m > 1) after the ion rule. */
  private static final String[] STEP4_AFTER_ION = {
    "ou", "", "ism", "", "ate", "", "iti", "", "ous", "", "ive", "", "ize", ""
  };

  private PorterStemmer() {}

  /**
   * Stems one word like NLTK's {@code PorterStemmer().stem(word)} (which lowercases first, with
   * {@code to_lowercase=True}).
   *
   * @param word a single token; not null
   * @return its stem, lowercased
   */
  public static String stem(String word) {
    String lower = word.toLowerCase(Locale.ROOT);
    // NLTK looks the un-lowercased word up in the pool but returns the pool value of the lowercased
    // one; the keys
    // are lowercase, so a hit implies both are the same word.
    String irregular = IRREGULAR_FORMS.get(word);
    if (irregular != null) {
      return irregular;
    }
    // "strings of length 1 or 2 don't go through the stemming process" (length of the word as
    // given).
    if (word.codePointCount(0, word.length()) <= 2) {
      return lower;
    }
    Word w = new Word(lower);
    w.step1a();
    w.step1b();
    w.step1c();
    w.step2();
    w.step3();
    w.step4();
    w.step5a();
    w.step5b();
    return w.toString();
  }

  /**
   * A word being stemmed: code points in {@code b[0..k)}. Each step rewrites the end in place. In
   * every rule table the first rule whose suffix matches decides, even when its condition fails (as
   * in NLTK's _apply_rule_list).
   */
  private static final class Word {
    private int[] b;
    private int k;

    Word(String s) {
      b = new int[s.length() + 4];
      for (int i = 0; i < s.length(); ) {
        int cp = s.codePointAt(i);
        b[k++] = cp;
        i += Character.charCount(cp);
      }
    }

    @Override
    public String toString() {
      return new String(b, 0, k);
    }

    private static boolean isVowelLetter(int c) {
      return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
    }

    /**
     * Porter's consonant: not a e i o u, and not a {@code y} preceded by a consonant (index 0 y is
     * one).
     */
    private boolean isConsonant(int i) {
      int c = b[i];
      if (isVowelLetter(c)) {
        return false;
      }
      if (c != 'y') {
        return true;
      }
      // Iterative form of the recursive definition: find the start of the run of y's ending at i;
      // the first y
      // of the run is a consonant iff it starts the word or follows a vowel letter; then they
      // alternate.
      int start = i;
      while (start > 0 && b[start - 1] == 'y') {
        start--;
      }
      boolean firstIsConsonant = start == 0 || isVowelLetter(b[start - 1]);
      return ((i - start) % 2 == 0) == firstIsConsonant;
    }

    /** Porter's measure m of {@code b[0..len)}: the number of vowel-to-consonant transitions. */
    private int measure(int len) {
      int m = 0;
      boolean previousConsonant = true;
      for (int i = 0; i < len; i++) {
        int c = b[i];
        boolean consonant = !isVowelLetter(c) && (c != 'y' || i == 0 || !previousConsonant);
        if (consonant && i > 0 && !previousConsonant) {
          m++;
        }
        previousConsonant = consonant;
      }
      return m;
    }

    private boolean containsVowel(int len) {
      for (int i = 0; i < len; i++) {
        if (!isConsonant(i)) {
          return true;
        }
      }
      return false;
    }

    /** Condition *d on {@code b[0..len)}: ends with a double consonant. */
    private boolean endsDoubleConsonant(int len) {
      return len >= 2 && b[len - 1] == b[len - 2] && isConsonant(len - 1);
    }

    /**
     * Condition *o on {@code b[0..len)}: ends consonant-vowel-consonant, the last not w, x or y
     * (NLTK: or is vc).
     */
    private boolean endsCvc(int len) {
      if (len >= 3
          && isConsonant(len - 3)
          && !isConsonant(len - 2)
          && isConsonant(len - 1)
          && b[len - 1] != 'w'
          && b[len - 1] != 'x'
          && b[len - 1] != 'y') {
        return true;
      }
      return len == 2 && !isConsonant(0) && isConsonant(1);
    }

    private boolean endsWith(String suffix) {
      int n = suffix.length();
      if (n > k) {
        return false;
      }
      for (int i = 0; i < n; i++) {
        if (b[k - n + i] != suffix.charAt(i)) {
          return false;
        }
      }
      return true;
    }

    /** Replaces the last {@code suffixLength} code points with {@code replacement}. */
    private void replaceEnd(int suffixLength, String replacement) {
      k -= suffixLength;
      if (k + replacement.length() > b.length) {
        b = Arrays.copyOf(b, k + replacement.length() + 4);
      }
      for (int i = 0; i < replacement.length(); i++) {
        b[k++] = replacement.charAt(i);
      }
    }

    /**
     * Applies the first rule of {@code rules} (pairs of suffix, replacement) whose suffix ends the
     * word: the replacement happens when the measure of the remaining stem exceeds {@code
     * measureAbove}; either way no later rule is tried (Porter's "longest matching suffix" tables
     * are ordered so that this is the paper's rule).
     *
     * @return whether some suffix matched
     */
    private boolean applyFirstMatching(String[] rules, int measureAbove) {
      for (int r = 0; r < rules.length; r += 2) {
        String suffix = rules[r];
        if (endsWith(suffix)) {
          if (measure(k - suffix.length()) > measureAbove) {
            replaceEnd(suffix.length(), rules[r + 1]);
          }
          return true;
        }
      }
      return false;
    }

    /**
     * Step 1a: plurals (sses -> ss, ies -> i, ss -> ss, s -> ""); NLTK: a 4-letter "..ies" ->
     * "..ie".
     */
    void step1a() {
      if (k == 4 && endsWith("ies")) {
        replaceEnd(3, "ie");
        return;
      }
      if (endsWith("sses")) {
        replaceEnd(4, "ss");
      } else if (endsWith("ies")) {
        replaceEnd(3, "i");
      } else if (endsWith("ss")) {
        return;
      } else if (endsWith("s")) {
        replaceEnd(1, "");
      }
    }

    /**
     * Step 1b: eed/ed/ing, then the at/bl/iz, double-consonant and cvc repairs; NLTK: ied -> ie or
     * i first.
     */
    void step1b() {
      if (endsWith("ied")) {
        replaceEnd(3, k == 4 ? "ie" : "i");
        return;
      }
      if (endsWith("eed")) {
        if (measure(k - 3) > 0) {
          replaceEnd(3, "ee");
        }
        return;
      }
      if (endsWith("ed") && containsVowel(k - 2)) {
        k -= 2;
      } else if (endsWith("ing") && containsVowel(k - 3)) {
        k -= 3;
      } else {
        return;
      }
      if (endsWith("at")) {
        replaceEnd(2, "ate");
      } else if (endsWith("bl")) {
        replaceEnd(2, "ble");
      } else if (endsWith("iz")) {
        replaceEnd(2, "ize");
      } else if (endsDoubleConsonant(k)) {
        int last = b[k - 1];
        if (last != 'l' && last != 's' && last != 'z') {
          k -= 1;
        }
      } else if (measure(k) == 1 && endsCvc(k)) {
        replaceEnd(0, "e");
      }
    }

    /** Step 1c, NLTK form: y -> i when preceded by a consonant that is not the first letter. */
    void step1c() {
      if (endsWith("y") && k - 1 > 1 && isConsonant(k - 2)) {
        b[k - 1] = 'i';
      }
    }

    /**
     * Step 2 (m > 0 double suffixes), NLTK order: alli first then again, bli -> ble, plus fulli and
     * logi.
     */
    void step2() {
      if (endsWith("alli") && measure(k - 4) > 0) {
        replaceEnd(4, "al");
        step2();
        return;
      }
      boolean matched = applyFirstMatching(STEP2, 0);
      // "logi -> log": the 'l' stays with the stem for the measure, so short stems like geo-, theo-
      // qualify.
      if (!matched && endsWith("logi") && measure(k - 3) > 0) {
        replaceEnd(4, "log");
      }
    }

    /** Step 3 (m > 0): icate, ative, alize, iciti, ical, ful, ness. */
    void step3() {
      applyFirstMatching(STEP3, 0);
    }

    /** Step 4 (m > 1): drops al, ance, ence, er, ic, able, ..., and ion after s or t. */
    void step4() {
      if (applyFirstMatching(STEP4_BEFORE_ION, 1)) {
        return;
      }
      if (endsWith("ion")) {
        int stem = k - 3;
        if (measure(stem) > 1 && (b[stem - 1] == 's' || b[stem - 1] == 't')) {
          k = stem;
        }
        return;
      }
      applyFirstMatching(STEP4_AFTER_ION, 1);
    }

    /** Step 5a: drop a final e when m > 1, or when m = 1 and the stem does not end cvc. */
    void step5a() {
      if (endsWith("e")) {
        int m = measure(k - 1);
        if (m > 1 || (m == 1 && !endsCvc(k - 1))) {
          k -= 1;
        }
      }
    }

    /** Step 5b: ll -> l when the measure of the word without its last l exceeds 1. */
    void step5b() {
      if (endsWith("ll") && measure(k - 1) > 1) {
        k -= 1;
      }
    }
  }
}
