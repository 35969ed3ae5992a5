package dev.amalgam.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.metrics.WordNetSynonyms.Pos;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * NLTK 3.8 morphy and {@code synsets()} lemma names on WordNet 3.0. Expected values are NLTK's own
 * doctests (nltk/test/wordnet.doctest) and facts of the WordNet 3.0 files.
 */
class WordNetSynonymsTest {

  /** Loaded once per JVM (the holder is static), so all WordNet tests share one load. */
  private static final WordNetSynonyms WORDNET = WordNetSynonyms.shared();

  @Test
  void dataIsWordNet30() {
    assertEquals("3.0", WORDNET.version());
    assertSame(WORDNET, WordNetSynonyms.shared());
  }

  @Test
  void morphyDetachesSuffixesPerPartOfSpeech() {
    // nltk/test/wordnet.doctest
    assertEquals(List.of("dog"), WORDNET.morphy("dogs", Pos.NOUN));
    assertEquals(List.of("church"), WORDNET.morphy("churches", Pos.NOUN));
    assertEquals(List.of("aardwolf"), WORDNET.morphy("aardwolves", Pos.NOUN));
    assertEquals(List.of(), WORDNET.morphy("denied", Pos.NOUN));
    assertEquals(List.of("deny"), WORDNET.morphy("denied", Pos.VERB));
    assertEquals(List.of("book"), WORDNET.morphy("book", Pos.NOUN));
    assertEquals(List.of(), WORDNET.morphy("book", Pos.ADJ));
    assertEquals(List.of(), WORDNET.morphy("hardrock", Pos.ADV));
    // adjective rules: -est -> "" and -est -> e; only "nice" is an adjective
    assertEquals(List.of("nice"), WORDNET.morphy("nicest", Pos.ADJ));
    // noun rules: -s -> "" gives "boxe", -xes -> x gives "box"
    assertEquals(List.of("box"), WORDNET.morphy("boxes", Pos.NOUN));
  }

  @Test
  void morphyKeepsTheWordItselfBesideOneRoundOfRules() {
    // "larger" is itself an adjective, and -er -> e gives "large"
    assertEquals(List.of("larger", "large"), WORDNET.morphy("larger", Pos.ADJ));
  }

  @Test
  void morphyAppliesFurtherRoundsOnlyWhenTheFirstFindsNothing() {
    // "dogss" -> "dogs" (unknown) -> "dog"
    assertEquals(List.of("dog"), WORDNET.morphy("dogss", Pos.NOUN));
    // "biggest" is listed in adj.exc; with the rules alone ("bigg", "bigge") nothing would be found
    assertEquals(List.of("big"), WORDNET.morphy("biggest", Pos.ADJ));
  }

  @Test
  void morphyUsesExceptionListsAlone() {
    assertEquals(List.of("abacus"), WORDNET.morphy("abaci", Pos.NOUN));
    // noun.exc "axes ax axis": the list decides, "axe" (the -s rule) is not tried
    assertEquals(List.of("ax", "axis"), WORDNET.morphy("axes", Pos.NOUN));
    assertEquals(List.of("goose"), WORDNET.morphy("geese", Pos.NOUN));
    // adj.exc "better good well": better itself is an adjective too
    assertEquals(List.of("better", "good", "well"), WORDNET.morphy("better", Pos.ADJ));
    // adv.exc "better well"
    assertEquals(List.of("better", "well"), WORDNET.morphy("better", Pos.ADV));
    // noun.exc "his his": listed, so the -s rule ("hi", a noun) is never tried (doctest: None)
    assertEquals(List.of(), WORDNET.morphy("his", Pos.NOUN));
  }

  @Test
  void aLaterExceptionLineReplacesAnEarlierOne() {
    // adj.exc has "offer off" then "offer offer"; NLTK's dict keeps the last, and "offer" is no
    // adjective
    assertEquals(List.of(), WORDNET.morphy("offer", Pos.ADJ));
    // noun.exc "involucra involucre" then "involucra involucrum" (not in the index)
    assertEquals(List.of(), WORDNET.morphy("involucra", Pos.NOUN));
    // noun.exc "aurar eyir" then "aurar eyrir"
    assertEquals(List.of("eyrir"), WORDNET.morphy("aurar", Pos.NOUN));
  }

  @Test
  void wordsNotInWordNetHaveNoSynonyms() {
    assertEquals(Set.of(), WORDNET.synonyms("xyzzyq"));
    assertEquals(Set.of(), WORDNET.synonyms("the"));
    assertEquals(Set.of(), WORDNET.synonyms(""));
  }

  @Test
  void synonymsKeepWordNetCaseAndDropMultiWordNames() {
    Set<String> sat = WORDNET.synonyms("sat");
    assertTrue(sat.contains("sit"), "sat -> verb exception sit");
    assertTrue(sat.contains("Sat"), "noun Saturday synset keeps its capital");
    assertTrue(sat.contains("Saturday"));
    assertFalse(sat.contains("sat"), "no synset of sat has the lowercase lemma");
    assertFalse(sat.stream().anyMatch(name -> name.contains("_")));
    Set<String> dog = WORDNET.synonyms("dogs");
    assertTrue(
        dog.containsAll(Set.of("dog", "frump", "cad", "frank", "hotdog", "pawl", "chase")),
        dog.toString());
    assertFalse(dog.contains("domestic_dog"));
  }

  @Test
  void synonymsLowercaseTheirInputLikeNltkSynsets() {
    assertEquals(WORDNET.synonyms("dog"), WORDNET.synonyms("DOG"));
  }

  @Test
  void adjectiveMarkersAreCutFromLemmaNames() {
    // data.adj: "abounding 0 galore(ip) 0" and "galore(ip) 0"
    assertEquals(List.of("abounding", "galore"), WORDNET.lemmaNames(Pos.ADJ, 14358));
    assertEquals(Set.of("abounding", "galore"), WORDNET.synonyms("galore"));
  }

  @Test
  void concurrentLookupsAgree() {
    List<String> words =
        List.of("running", "geese", "better", "patients", "pain", "took", "worse", "women");
    List<Set<String>> parallel =
        IntStream.range(0, 400)
            .parallel()
            .mapToObj(i -> WORDNET.synonyms(words.get(i % words.size())))
            .collect(Collectors.toList());
    for (int i = 0; i < parallel.size(); i++) {
      assertEquals(WORDNET.synonyms(words.get(i % words.size())), parallel.get(i));
    }
  }
}
