package dev.amalgam.eval.ifeval;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NLTK's {@code sent_tokenize(text)} (language "english"): the Punkt sentence tokenizer of NLTK 3.8
 * ({@code nltk/tokenize/punkt.py}, Kiss &amp; Strunk 2006) with NLTK's pre-trained English
 * parameters, which IFEval's {@code length_constraints:number_sentences} counts with and {@code
 * word_tokenize} splits with first.
 *
 * <p>Written by hand because no Java library ships Punkt with NLTK's English model. The algorithm
 * follows NLTK 3.8 step by step: potential end contexts ({@code [.?!]} followed by punctuation or
 * whitespace and a token, the word before found right to left and overlapping contexts dropped),
 * each context tokenized with Punkt's word regex, first-pass annotation (sentence-end characters,
 * ellipses, known abbreviations, also after the last hyphen), the second pass (collocations,
 * orthographic heuristic, frequent sentence starters, initials and ordinals), slices, then boundary
 * realignment of closing quotes and brackets. The parameters (156 abbreviations, 37 collocations,
 * 39 sentence starters, 20,366 orthographic contexts) are data from nltk_data's {@code
 * tokenizers/punkt/english.pickle} (see the resource {@code punkt-english.tsv}).
 *
 * <p>Known differences from NLTK: Python's Unicode character classes are emulated with explicit
 * classes ({@link PyText}); the Unicode version is Java 17's (13.0) rather than the Python build's;
 * older NLTK releases (before 3.6.6) found end contexts with a different regex and can split
 * differently in rare cases (several punctuation marks in a row). Other than these, results are
 * meant to be identical.
 */
public final class PunktSentenceTokenizer {
  private static final int ORTHO_BEG_UC = 1 << 1;
  private static final int ORTHO_MID_UC = 1 << 2;
  private static final int ORTHO_UNK_UC = 1 << 3;
  private static final int ORTHO_BEG_LC = 1 << 4;
  private static final int ORTHO_MID_LC = 1 << 5;
  private static final int ORTHO_UNK_LC = 1 << 6;
  private static final int ORTHO_UC = ORTHO_BEG_UC + ORTHO_MID_UC + ORTHO_UNK_UC;
  private static final int ORTHO_LC = ORTHO_BEG_LC + ORTHO_MID_LC + ORTHO_UNK_LC;

  /**
   * Characters that cannot appear within words: {@code )";}]*:@'({[} and the sentence ends other
   * than '.'.
   */
  private static final String NON_WORD = "(?:[)\";}\\]*:@'({\\[?!])";

  private static final String MULTI_CHAR = "(?:-{2,}|\\.{2,}|(?:\\." + PyText.SPACE + "){2,}\\.)";
  private static final String WORD_START = "[^(\"`{\\[:;&#*@)}\\]\\-,]";

  /**
   * Punkt's word tokenizer: multi-character punctuation, words up to their end, or a single
   * non-space.
   */
  private static final Pattern WORD_TOKENIZER =
      Pattern.compile(
          MULTI_CHAR
              + "|(?="
              + WORD_START
              + ")"
              + PyText.NON_SPACE
              + "+?(?="
              + PyText.SPACE
              + "|$|"
              + NON_WORD
              + "|"
              + MULTI_CHAR
              + "|,(?=$|"
              + PyText.SPACE
              + "|"
              + NON_WORD
              + "|"
              + MULTI_CHAR
              + "))"
              + "|"
              + PyText.NON_SPACE,
          Pattern.UNIX_LINES);

  /**
   * A potential sentence end with what follows it: other punctuation, or whitespace and the next
   * token.
   */
  private static final Pattern PERIOD_CONTEXT =
      Pattern.compile(
          "[.?!](?=(?<afterTok>"
              + NON_WORD
              + "|"
              + PyText.SPACE
              + "+(?<nextTok>"
              + PyText.NON_SPACE
              + "+)))",
          Pattern.UNIX_LINES);

  private static final Pattern BOUNDARY_REALIGNMENT =
      Pattern.compile(
          "[\"')\\]}]+?(?:" + PyText.SPACE + "+|(?=--)|$)", Pattern.MULTILINE | Pattern.UNIX_LINES);

  private static final Pattern NUMERIC =
      Pattern.compile("-?[.,]?" + PyText.DIGIT + "[" + "\\p{Nd}" + ",.-]*\\.?", Pattern.UNIX_LINES);
  private static final Pattern INITIAL =
      Pattern.compile("(?:(?!" + PyText.DIGIT + ")" + PyText.WORD + ")\\.");

  private static final String PUNCTUATION = ";:,.!?";

  private static final Parameters ENGLISH = Parameters.load("punkt-english.tsv");

  private PunktSentenceTokenizer() {}

  /** Splits {@code text} into sentences as NLTK's {@code sent_tokenize(text)} does. */
  public static List<String> tokenize(String text) {
    List<String> out = new ArrayList<>();
    for (int[] s : spans(text)) out.add(text.substring(s[0], s[1]));
    return out;
  }

  /**
   * The number of sentences NLTK's {@code sent_tokenize(text)} returns (IFEval's {@code
   * count_sentences}).
   */
  public static int count(String text) {
    return spans(text).size();
  }

  private static List<int[]> spans(String text) {
    return realignBoundaries(text, slicesFromText(text));
  }

  // ---- potential end contexts ----

  private record EndContext(int matchEnd, int nextTokStart, String context) {}

  private static List<EndContext> potentialEndContexts(String text) {
    List<EndContext> out = new ArrayList<>();
    int prevStart = 0;
    int prevStop = 0;
    Matcher previous = null;
    String previousMatchText = null;
    int previousMatchEnd = 0;
    int previousNextTok = -1;
    Matcher m = PERIOD_CONTEXT.matcher(text);
    while (m.find()) {
      String beforeText = text.substring(prevStop, m.start());
      int lastSpace = lastWhitespaceIndex(beforeText);
      int wordStart;
      if (lastSpace != 0) {
        wordStart = lastSpace + prevStop + 1;
      } else {
        wordStart = prevStart; // NLTK treats "no whitespace" and "whitespace at index 0" alike
      }
      if (previous != null && prevStop <= wordStart) {
        out.add(
            new EndContext(
                previousMatchEnd,
                previousNextTok,
                text.substring(prevStart, prevStop) + previousMatchText));
      }
      previous = m;
      previousMatchText = m.group() + m.group("afterTok");
      previousMatchEnd = m.end();
      previousNextTok = m.group("nextTok") != null ? m.start("nextTok") : -1;
      prevStart = wordStart;
      prevStop = m.start();
    }
    if (previous != null) {
      out.add(
          new EndContext(
              previousMatchEnd,
              previousNextTok,
              text.substring(prevStart, prevStop) + previousMatchText));
    }
    return out;
  }

  /**
   * NLTK's {@code _get_last_whitespace_index}: the last ASCII whitespace ({@code
   * string.whitespace}), else 0.
   */
  private static int lastWhitespaceIndex(String s) {
    for (int i = s.length() - 1; i >= 0; i--) {
      char c = s.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C) return i;
    }
    return 0;
  }

  private static List<int[]> slicesFromText(String text) {
    List<int[]> slices = new ArrayList<>();
    int lastBreak = 0;
    for (EndContext c : potentialEndContexts(text)) {
      if (containsSentenceBreak(c.context())) {
        slices.add(new int[] {lastBreak, c.matchEnd()});
        lastBreak = c.nextTokStart() >= 0 ? c.nextTokStart() : c.matchEnd();
      }
    }
    slices.add(new int[] {lastBreak, PyText.rstrip(text).length()});
    return slices;
  }

  private static List<int[]> realignBoundaries(String text, List<int[]> slices) {
    List<int[]> out = new ArrayList<>();
    int realign = 0;
    for (int i = 0; i < slices.size(); i++) {
      int start = slices.get(i)[0] + realign;
      int stop = slices.get(i)[1];
      boolean nonEmpty = start < stop;
      if (i + 1 == slices.size()) {
        if (nonEmpty) out.add(new int[] {start, stop});
        continue;
      }
      int[] next = slices.get(i + 1);
      String nextText = next[0] < next[1] ? text.substring(next[0], next[1]) : "";
      Matcher m = BOUNDARY_REALIGNMENT.matcher(nextText);
      if (m.lookingAt()) {
        out.add(new int[] {start, next[0] + PyText.rstrip(m.group()).length()});
        realign = m.end();
      } else {
        realign = 0;
        if (nonEmpty) out.add(new int[] {start, stop});
      }
    }
    return out;
  }

  // ---- tokens and annotation ----

  /** A Punkt token with its annotations. */
  private static final class Token {
    final String tok;
    final String type;
    final boolean periodFinal;
    boolean sentBreak;
    boolean abbr;
    boolean ellipsis;

    Token(String tok) {
      this.tok = tok;
      String lower = PyText.lower(tok);
      this.type = NUMERIC.matcher(lower).matches() ? "##number##" : lower;
      this.periodFinal = tok.endsWith(".");
    }

    String typeNoPeriod() {
      return type.length() > 1 && type.endsWith(".") ? type.substring(0, type.length() - 1) : type;
    }

    String typeNoSentPeriod() {
      return sentBreak ? typeNoPeriod() : type;
    }

    boolean firstUpper() {
      return Character.isUpperCase(tok.codePointAt(0));
    }

    boolean firstLower() {
      return Character.isLowerCase(tok.codePointAt(0));
    }

    boolean isEllipsis() {
      if (tok.length() < 2) return false;
      for (int i = 0; i < tok.length(); i++) if (tok.charAt(i) != '.') return false;
      return true;
    }

    boolean isInitial() {
      return INITIAL.matcher(tok).matches();
    }
  }

  private static List<Token> tokenizeWords(String text) {
    List<Token> tokens = new ArrayList<>();
    for (String line : PyText.split(text, "\n")) {
      if (PyText.strip(line).isEmpty()) continue;
      Matcher m = WORD_TOKENIZER.matcher(line);
      while (m.find()) tokens.add(new Token(m.group()));
    }
    return tokens;
  }

  private static boolean containsSentenceBreak(String context) {
    List<Token> tokens = tokenizeWords(context);
    for (Token t : tokens) firstPass(t);
    boolean found = false;
    for (int i = 0; i < tokens.size(); i++) {
      if (found) return true;
      Token t = tokens.get(i);
      if (i + 1 < tokens.size()) secondPass(t, tokens.get(i + 1));
      if (t.sentBreak) found = true;
    }
    return false;
  }

  private static void firstPass(Token t) {
    String tok = t.tok;
    if (tok.equals(".") || tok.equals("?") || tok.equals("!")) {
      t.sentBreak = true;
    } else if (t.isEllipsis()) {
      t.ellipsis = true;
    } else if (t.periodFinal && !tok.endsWith("..")) {
      String stem = PyText.lower(tok.substring(0, tok.length() - 1));
      List<String> hyphenParts = PyText.split(stem, "-");
      if (ENGLISH.abbrevTypes.contains(stem)
          || ENGLISH.abbrevTypes.contains(hyphenParts.get(hyphenParts.size() - 1))) {
        t.abbr = true;
      } else {
        t.sentBreak = true;
      }
    }
  }

  // Called with the second token carrying its first-pass annotation only, as NLTK's generator
  // pipeline does.
  private static void secondPass(Token t1, Token t2) {
    if (!t1.periodFinal) return;
    String typ = t1.typeNoPeriod();
    String nextTyp = t2.typeNoSentPeriod();
    boolean initial = t1.isInitial();
    if (ENGLISH.collocations.contains(typ + "\t" + nextTyp)) {
      t1.sentBreak = false;
      t1.abbr = true;
      return;
    }
    if ((t1.abbr || t1.ellipsis) && !initial) {
      Boolean starter = orthoHeuristic(t2);
      if (Boolean.TRUE.equals(starter)) {
        t1.sentBreak = true;
        return;
      }
      if (t2.firstUpper() && ENGLISH.sentStarters.contains(nextTyp)) {
        t1.sentBreak = true;
        return;
      }
    }
    if (initial || typ.equals("##number##")) {
      Boolean starter = orthoHeuristic(t2);
      if (Boolean.FALSE.equals(starter)) {
        t1.sentBreak = false;
        t1.abbr = true;
        return;
      }
      if (starter == null
          && initial
          && t2.firstUpper()
          && (ENGLISH.ortho(nextTyp) & ORTHO_LC) == 0) {
        t1.sentBreak = false;
        t1.abbr = true;
      }
    }
  }

  /** True: starts a sentence; false: does not; null: unknown. */
  private static Boolean orthoHeuristic(Token t) {
    if (t.tok.length() == 1 && PUNCTUATION.indexOf(t.tok.charAt(0)) >= 0) return false;
    int ortho = ENGLISH.ortho(t.typeNoSentPeriod());
    if (t.firstUpper() && (ortho & ORTHO_LC) != 0 && (ortho & ORTHO_MID_UC) == 0) return true;
    if (t.firstLower() && ((ortho & ORTHO_UC) != 0 || (ortho & ORTHO_BEG_LC) == 0)) return false;
    return null;
  }

  /** The trained Punkt parameters, read once from a resource. */
  private record Parameters(
      Set<String> abbrevTypes,
      Set<String> collocations,
      Set<String> sentStarters,
      Map<String, Integer> orthoContext) {
    int ortho(String type) {
      return orthoContext.getOrDefault(type, 0);
    }

    static Parameters load(String resource) {
      Set<String> abbrev = new HashSet<>();
      Set<String> colloc = new HashSet<>();
      Set<String> starters = new HashSet<>();
      Map<String, Integer> ortho = new HashMap<>();
      try (InputStream in = PunktSentenceTokenizer.class.getResourceAsStream(resource)) {
        if (in == null)
          throw new IllegalStateException(
              "missing resource "
                  + resource
                  + " next to "
                  + PunktSentenceTokenizer.class.getName());
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String section = null;
        String line;
        while ((line = r.readLine()) != null) {
          if (line.startsWith("[") && line.endsWith("]") && !line.contains("\t")) {
            section = line.substring(1, line.length() - 1);
            continue;
          }
          if (section == null) continue; // the header comment
          switch (section) {
            case "abbrev_types" -> abbrev.add(line);
            case "collocations" -> colloc.add(line);
            case "sent_starters" -> starters.add(line);
            case "ortho_context" -> {
              int tab = line.lastIndexOf('\t');
              ortho.put(line.substring(0, tab), Integer.parseInt(line.substring(tab + 1)));
            }
            default -> throw new IllegalStateException(resource + ": unknown section " + section);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new Parameters(
          Set.copyOf(abbrev), Set.copyOf(colloc), Set.copyOf(starters), Map.copyOf(ortho));
    }
  }
}
