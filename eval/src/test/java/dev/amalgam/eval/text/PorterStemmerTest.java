package dev.amalgam.eval.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link PorterStemmer} against NLTK 3.8's default (NLTK_EXTENSIONS) Porter stemmer. */
class PorterStemmerTest {

  /**
   * Martin Porter's 23,531-word test vocabulary with NLTK's expected NLTK_EXTENSIONS stems (NLTK's
   * own test).
   */
  @Test
  void equalsNltkOnPortersWholeVocabulary() throws IOException {
    List<String> mismatches = new ArrayList<>();
    int words = 0;
    try (InputStream in =
        PorterStemmerTest.class.getResourceAsStream("porter_nltk_extensions.tsv")) {
      assertNotNull(in, "test resource porter_nltk_extensions.tsv");
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (line.startsWith("#")) {
          continue;
        }
        int tab = line.indexOf('\t');
        String word = line.substring(0, tab);
        String expected = line.substring(tab + 1);
        words++;
        String actual = PorterStemmer.stem(word);
        if (!actual.equals(expected)) {
          mismatches.add(word + " -> " + actual + " (NLTK: " + expected + ")");
        }
      }
    }
    assertEquals(23531, words, "vocabulary size");
    assertEquals(
        List.of(),
        mismatches.subList(0, Math.min(20, mismatches.size())),
        mismatches.size() + " mismatches");
  }

  /** The NLTK-vs-Lucene examples of docs/metrics.md §7.1 and the irregular forms. */
  @ParameterizedTest
  @CsvSource({
    "aged, age",
    "airway, airway",
    "always, alway",
    "biology, biolog",
    "boys, boy",
    "awfully, aw",
    "additionally, addit",
    "skies, sky",
    "sky, sky",
    "dying, die",
    "lying, lie",
    "tying, tie",
    "news, news",
    "innings, inning",
    "outings, outing",
    "cannings, canning",
    "howe, howe",
    "proceed, proceed",
    "exceed, exceed",
    "succeed, succeed",
    // NLTK-only rules: ies/ied of four letters, ied -> i, y -> i only after a non-initial
    // consonant, 2-letter cvc.
    "dies, die",
    "ties, tie",
    "flies, fli",
    "died, die",
    "spied, spi",
    "happy, happi",
    "enjoy, enjoy",
    "spy, spi",
    "fulli, fulli",
    "hopefully, hope",
    "archaeology, archaeolog",
    "geology, geolog",
    // the paper's examples
    "caresses, caress",
    "ponies, poni",
    "cats, cat",
    "feed, feed",
    "agreed, agre",
    "plastered, plaster",
    "motoring, motor",
    "sing, sing",
    "conflated, conflat",
    "hopping, hop",
    "falling, fall",
    "filing, file",
    "relational, relat",
    "generalization, gener",
    "oscillators, oscil",
    "controll, control",
    "roll, roll",
  })
  void knownStems(String word, String stem) {
    assertEquals(stem, PorterStemmer.stem(word), word);
  }

  /** nltk/test/unit/test_stem.py: the 'oed' bug (#1581) and lowercasing (#2507). */
  @Test
  void nltkUnitTestCases() {
    assertEquals("o", PorterStemmer.stem("oed"));
    assertEquals("on", PorterStemmer.stem("On"));
    assertEquals("i", PorterStemmer.stem("I"));
    assertEquals("github", PorterStemmer.stem("Github"));
  }

  @Test
  void shortAndUnusualInput() {
    assertEquals("", PorterStemmer.stem(""));
    assertEquals("is", PorterStemmer.stem("is"));
    assertEquals("as", PorterStemmer.stem("AS"));
    // The pool is consulted with the word as given: "Skies" is not in it and goes through the
    // rules.
    assertEquals("ski", PorterStemmer.stem("Skies"));
    assertEquals("yyyi", PorterStemmer.stem("yyyy"));
    assertEquals("123", PorterStemmer.stem("123"));
    // A long run of y's must not recurse deeply.
    String ys = "y".repeat(100_000);
    assertEquals(100_000, PorterStemmer.stem(ys).length());
    // Non-BMP code points count as one character, as in Python.
    assertEquals("\uD83D\uDE00s", PorterStemmer.stem("\uD83D\uDE00s"));
    assertEquals("\uD83D\uDE00\uD83D\uDE00i", PorterStemmer.stem("\uD83D\uDE00\uD83D\uDE00y"));
  }

  @Test
  void threadSafe() throws Exception {
    String[] words = {
      "generalizations", "oscillators", "hopefully", "relational", "skies", "controlling"
    };
    String[] expected = new String[words.length];
    for (int i = 0; i < words.length; i++) {
      expected[i] = PorterStemmer.stem(words[i]);
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        results.add(
            pool.submit(
                () -> {
                  for (int r = 0; r < 5_000; r++) {
                    int i = r % words.length;
                    if (!PorterStemmer.stem(words[i]).equals(expected[i])) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> result : results) {
        assertTrue(result.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
