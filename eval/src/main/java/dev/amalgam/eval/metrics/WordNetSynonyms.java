package dev.amalgam.eval.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What NLTK 3.8 METEOR's synonym stage sees for a word: the lemma names, without those containing
 * "_", of every synset that {@code nltk.corpus.wordnet.synsets(word)} returns, on WordNet 3.0.
 *
 * <p>The data are the Princeton WordNet 3.0 files ({@code index.*}, {@code *.exc}, {@code data.*})
 * of the {@code net.sf.extjwnl:extjwnl-data-wn30} artifact, read from the class path exactly the
 * way NLTK's corpus reader reads them. extjwnl's {@code Dictionary} and {@code
 * MorphologicalProcessor} are not used: NLTK's morphy (exception list, then one round of suffix
 * rules checked together with the word itself, then further rounds until a form is in the index for
 * that part of speech) is its own algorithm, and lemma names must keep their case and lose the
 * adjective markers such as {@code (a)} exactly as NLTK does ("Dog" stays "Dog" and never equals a
 * lowercased word).
 *
 * <p>Loading (6 MB of index and exception text parsed, 22 MB of data bytes kept for lazy synset
 * parsing; about 1 s) happens once, on the first {@link #shared()} call. Thread-safe; synonym sets
 * are cached per word.
 */
public final class WordNetSynonyms {

  /** NLTK's POS_LIST order for {@code synsets(word)} with no POS: noun, verb, adjective, adverb. */
  enum Pos {
    NOUN("noun"),
    VERB("verb"),
    ADJ("adj"),
    ADV("adv");

    final String fileSuffix;

    Pos(String fileSuffix) {
      this.fileSuffix = fileSuffix;
    }
  }

  private static final String RESOURCE_DIR = "net/sf/extjwnl/data/wordnet/wn30/";

  /** NLTK's {@code get_version} looks for this in the data file header. */
  private static final Pattern VERSION = Pattern.compile("Word[nN]et (\\d+|\\d+\\.\\d+) Copyright");

  /**
   * NLTK's MORPHOLOGICAL_SUBSTITUTIONS, in NLTK's order (order matters only for which forms come
   * first, not for the union METEOR takes).
   */
  private static final Map<Pos, String[][]> SUBSTITUTIONS =
      Map.of(
          Pos.NOUN,
              new String[][] {
                {"s", ""},
                {"ses", "s"},
                {"ves", "f"},
                {"xes", "x"},
                {"zes", "z"},
                {"ches", "ch"},
                {"shes", "sh"},
                {"men", "man"},
                {"ies", "y"}
              },
          Pos.VERB,
              new String[][] {
                {"s", ""},
                {"ies", "y"},
                {"es", "e"},
                {"es", ""},
                {"ed", "e"},
                {"ed", ""},
                {"ing", "e"},
                {"ing", ""}
              },
          Pos.ADJ, new String[][] {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
          Pos.ADV, new String[][] {});

  /**
   * Loaded once; a failed load is retried (and fails with the same clear message) on the next call.
   */
  private static volatile WordNetSynonyms sharedInstance;

  private final Map<Pos, Map<String, int[]>> index;
  private final Map<Pos, Map<String, List<String>>> exceptions;
  private final Map<Pos, byte[]> data;
  private final String version;
  private final long loadMillis;
  private final Map<String, Set<String>> cache = new ConcurrentHashMap<>();

  private WordNetSynonyms(
      Map<Pos, Map<String, int[]>> index,
      Map<Pos, Map<String, List<String>>> exceptions,
      Map<Pos, byte[]> data,
      String version,
      long loadMillis) {
    this.index = index;
    this.exceptions = exceptions;
    this.data = data;
    this.version = version;
    this.loadMillis = loadMillis;
  }

  /**
   * The process-wide instance, loaded on first use (about a second); shared because the data never
   * change.
   *
   * @throws IllegalStateException if the WordNet 3.0 data artifact is not on the class path or is
   *     another version
   */
  public static WordNetSynonyms shared() {
    WordNetSynonyms instance = sharedInstance;
    if (instance == null) {
      synchronized (WordNetSynonyms.class) {
        instance = sharedInstance;
        if (instance == null) {
          instance = load();
          sharedInstance = instance;
        }
      }
    }
    return instance;
  }

  /** The WordNet version found in the data files ("3.0"), recorded in metric signatures. */
  public String version() {
    return version;
  }

  /** How long loading took, in milliseconds. */
  public long loadMillis() {
    return loadMillis;
  }

  /**
   * The lemma names (case as in WordNet, "_" names left out) of all synsets of {@code word} over
   * noun, verb, adjective and adverb, after NLTK's lowercasing and morphy. Empty for words WordNet
   * does not know. Does not add {@code word} itself; METEOR does that.
   */
  public Set<String> synonyms(String word) {
    Set<String> cached = cache.get(word);
    if (cached != null) {
      return cached;
    }
    Set<String> names = computeSynonyms(word);
    Set<String> previous = cache.putIfAbsent(word, names);
    return previous != null ? previous : names;
  }

  private Set<String> computeSynonyms(String word) {
    String lemma = word.toLowerCase(Locale.ROOT);
    Set<String> names = new LinkedHashSet<>();
    for (Pos pos : Pos.values()) {
      for (String form : morphy(lemma, pos)) {
        for (int offset : index.get(pos).get(form)) {
          for (String name : lemmaNames(pos, offset)) {
            if (name.indexOf('_') < 0) {
              names.add(name);
            }
          }
        }
      }
    }
    return Set.copyOf(names);
  }

  /**
   * NLTK's {@code _morphy(form, pos, check_exceptions=True)}: the base forms of {@code form} that
   * are in the index for {@code pos}. An entry in the exception list decides alone (the word and
   * its listed bases); otherwise the word and one round of suffix rules are checked together, then
   * further rounds on the rule outputs until one round yields a known form.
   */
  List<String> morphy(String form, Pos pos) {
    List<String> listed = exceptions.get(pos).get(form);
    if (listed != null) {
      List<String> candidates = new ArrayList<>();
      candidates.add(form);
      candidates.addAll(listed);
      return known(candidates, pos);
    }
    List<String> forms = applyRules(List.of(form), pos);
    List<String> first = new ArrayList<>();
    first.add(form);
    first.addAll(forms);
    List<String> results = known(first, pos);
    if (!results.isEmpty()) {
      return results;
    }
    while (!forms.isEmpty()) {
      forms = applyRules(forms, pos);
      results = known(forms, pos);
      if (!results.isEmpty()) {
        return results;
      }
    }
    return List.of();
  }

  /**
   * One round of suffix rules on every form. Duplicates are dropped (first occurrence kept): NLTK
   * keeps them, but a duplicate only produces duplicates of forms already listed, so the known
   * forms found are the same.
   */
  private static List<String> applyRules(List<String> forms, Pos pos) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String form : forms) {
      for (String[] rule : SUBSTITUTIONS.get(pos)) {
        if (form.endsWith(rule[0])) {
          out.add(form.substring(0, form.length() - rule[0].length()) + rule[1]);
        }
      }
    }
    return new ArrayList<>(out);
  }

  /** NLTK's {@code filter_forms}: the forms in the index for {@code pos}, each once, in order. */
  private List<String> known(List<String> forms, Pos pos) {
    Map<String, int[]> posIndex = index.get(pos);
    LinkedHashSet<String> result = new LinkedHashSet<>();
    for (String form : forms) {
      if (posIndex.containsKey(form)) {
        result.add(form);
      }
    }
    return new ArrayList<>(result);
  }

  /**
   * The lemma names of the synset at byte {@code offset} of {@code data.<pos>}, with NLTK's
   * handling: the word count is hexadecimal, and a trailing syntactic marker such as {@code (a)},
   * {@code (p)} or {@code (ip)} is cut off at the first "(" when the name ends in ")" (NLTK's
   * {@code (.*?)(\(.*\))?$}).
   */
  List<String> lemmaNames(Pos pos, int offset) {
    byte[] bytes = data.get(pos);
    int end = offset;
    while (end < bytes.length && bytes[end] != '\n') {
      end++;
    }
    String line = new String(bytes, offset, end - offset, StandardCharsets.UTF_8);
    String[] fields = line.split(" ");
    if (fields.length < 4 || Integer.parseInt(fields[0]) != offset) {
      throw new IllegalStateException(
          "WordNet data." + pos.fileSuffix + ": no synset line at byte offset " + offset);
    }
    int count = Integer.parseInt(fields[3], 16);
    List<String> names = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String name = fields[4 + 2 * i];
      int paren = name.indexOf('(');
      if (paren >= 0 && name.endsWith(")")) {
        name = name.substring(0, paren);
      }
      names.add(name);
    }
    return names;
  }

  private static WordNetSynonyms load() {
    long start = System.nanoTime();
    Map<Pos, Map<String, int[]>> index = new HashMap<>();
    Map<Pos, Map<String, List<String>>> exceptions = new HashMap<>();
    Map<Pos, byte[]> data = new HashMap<>();
    for (Pos pos : Pos.values()) {
      index.put(pos, readIndex("index." + pos.fileSuffix));
      exceptions.put(pos, readExceptions(pos.fileSuffix + ".exc"));
      data.put(pos, readResource("data." + pos.fileSuffix));
    }
    String version = findVersion(data.get(Pos.ADJ));
    if (!"3.0".equals(version)) {
      throw new IllegalStateException(
          "WordNet data on the class path ("
              + RESOURCE_DIR
              + ") is version "
              + version
              + ", but NLTK METEOR parity needs WordNet 3.0 (net.sf.extjwnl:extjwnl-data-wn30)");
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    return new WordNetSynonyms(index, exceptions, data, version, millis);
  }

  /** NLTK's {@code get_version}: the first header line of data.adj that names the version. */
  private static String findVersion(byte[] dataAdj) {
    int headerEnd = Math.min(dataAdj.length, 4096);
    String header = new String(dataAdj, 0, headerEnd, StandardCharsets.UTF_8);
    Matcher matcher = VERSION.matcher(header);
    return matcher.find() ? matcher.group(1) : "unknown";
  }

  /**
   * NLTK's {@code _load_lemma_pos_offset_map} for one file: lines starting with a space are the
   * licence; fields are lemma, pos, synset count, pointer count, pointers, sense count, tagged
   * sense count, synset offsets.
   */
  private static Map<String, int[]> readIndex(String name) {
    String text = new String(readResource(name), StandardCharsets.UTF_8);
    Map<String, int[]> map = new HashMap<>(1 << 17);
    int lineNumber = 0;
    for (String line : text.split("\n")) {
      lineNumber++;
      if (line.isEmpty() || line.startsWith(" ")) {
        continue;
      }
      String[] fields = line.trim().split(" +");
      try {
        int synsets = Integer.parseInt(fields[2]);
        int pointers = Integer.parseInt(fields[3]);
        int firstOffset = 4 + pointers + 2;
        int[] offsets = new int[synsets];
        for (int i = 0; i < synsets; i++) {
          offsets[i] = Integer.parseInt(fields[firstOffset + i]);
        }
        map.put(fields[0], offsets);
      } catch (RuntimeException e) {
        throw new IllegalStateException(
            "WordNet " + name + " line " + lineNumber + ": not an index entry: " + line, e);
      }
    }
    return map;
  }

  /**
   * NLTK's {@code _load_exception_map} for one file: word, then its base forms; a later line for a
   * word wins.
   */
  private static Map<String, List<String>> readExceptions(String name) {
    String text = new String(readResource(name), StandardCharsets.UTF_8);
    Map<String, List<String>> map = new HashMap<>();
    for (String line : text.split("\n")) {
      String[] terms = line.trim().split(" +");
      if (terms.length == 0 || terms[0].isEmpty()) {
        continue;
      }
      map.put(terms[0], List.of(terms).subList(1, terms.length));
    }
    return map;
  }

  private static byte[] readResource(String name) {
    String path = RESOURCE_DIR + name;
    try (InputStream in = WordNetSynonyms.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException(
            "WordNet 3.0 resource "
                + path
                + " not on the class path: add net.sf.extjwnl:extjwnl-data-wn30 (it is an optional dependency)");
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
      in.transferTo(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("reading WordNet resource " + path, e);
    }
  }
}
