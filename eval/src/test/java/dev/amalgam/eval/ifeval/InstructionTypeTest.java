package dev.amalgam.eval.ifeval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each of the 25 instruction types against its definition in IFEval's instructions.py. */
class InstructionTypeTest {
  private static boolean check(String id, Map<String, Object> kwargs, String response) {
    IfevalInput in = new IfevalInput("7", "the prompt", List.of(id), List.of(kwargs));
    return InstructionType.build(in, 0).isFollowed(response);
  }

  private static Map<String, Object> kw(Object... pairs) {
    Map<String, Object> m = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], pairs[i + 1]);
    return m;
  }

  @Test
  void registryHasTheTwentyFiveActiveIds() {
    assertEquals(25, InstructionType.values().length);
    assertEquals(null, InstructionType.byId("keywords:key_sentences"), "disabled in the registry");
    assertEquals(null, InstructionType.byId("detectable_format:rephrase"));
  }

  @Test
  void keywordExistenceNeedsEveryKeywordAsACaseInsensitiveRegex() {
    Map<String, Object> k = kw("keywords", List.of("dog", "Cat"));
    assertTrue(
        check("keywords:existence", k, "A CAT and a hotdog."), "substring and case-insensitive");
    assertFalse(check("keywords:existence", k, "only a dog"));
    assertTrue(
        check("keywords:existence", kw("keywords", List.of("c.t")), "cut"),
        "raw regex: '.' is any char");
  }

  @Test
  void keywordFrequencyCountsMatchesLessThanOrAtLeast() {
    String text = "Apple apple APPLE pineapple";
    assertTrue(
        check(
            "keywords:frequency",
            kw("keyword", " apple ", "frequency", 4, "relation", "at least"),
            text),
        "keyword is stripped; 4 matches including pineapple");
    assertFalse(
        check(
            "keywords:frequency",
            kw("keyword", "apple", "frequency", 5, "relation", "at least"),
            text));
    assertFalse(
        check(
            "keywords:frequency",
            kw("keyword", "apple", "frequency", 4, "relation", "less than"),
            text));
    assertTrue(
        check(
            "keywords:frequency",
            kw("keyword", "apple", "frequency", 5, "relation", "less than"),
            text));
  }

  @Test
  void forbiddenWordsUseWordBoundaries() {
    Map<String, Object> k = kw("forbidden_words", List.of("cat", "dog"));
    assertTrue(check("keywords:forbidden_words", k, "concatenate hotdogs"), "inside words is fine");
    assertFalse(check("keywords:forbidden_words", k, "My Cat."));
    assertFalse(check("keywords:forbidden_words", k, "a dog_ish? no: dog"));
    assertTrue(
        check("keywords:forbidden_words", k, "dog_ish"), "_ is a word character, so no boundary");
    assertTrue(
        check("keywords:forbidden_words", kw("forbidden_words", List.of("é")), "café"),
        "Python's \\w is Unicode: no boundary between f and é");
  }

  @Test
  void letterFrequencyCountsTheLowerCasedLetter() {
    assertTrue(
        check(
            "keywords:letter_frequency",
            kw("letter", "A", "let_frequency", 3, "let_relation", "at least"),
            "Aaa bbb"));
    assertFalse(
        check(
            "keywords:letter_frequency",
            kw("letter", "a", "let_frequency", 3, "let_relation", "less than"),
            "Aaa bbb"));
    assertTrue(
        check(
            "keywords:letter_frequency",
            kw("letter", "z", "let_frequency", 1, "let_relation", "less than"),
            "Aaa bbb"));
  }

  @Test
  void letterFrequencyWithANonLetterDrawsARepeatableRandomLetter() {
    Map<String, Object> k = kw("letter", "#", "let_frequency", 1, "let_relation", "at least");
    String all = "abcdefghijklmnopqrstuvwxyz";
    assertTrue(check("keywords:letter_frequency", k, all), "some letter is drawn, and it occurs");
    assertFalse(
        check(
            "keywords:letter_frequency",
            k,
            "### no letters but hashes: 123 ###".replaceAll("[a-z]", "")));
    assertEquals(
        check("keywords:letter_frequency", k, "abc"), check("keywords:letter_frequency", k, "abc"));
  }

  @Test
  void responseLanguageUsesLangdetectAndPassesWhenItCannotDetect() {
    String english =
        "This is a plain English sentence about the weather and the garden, written to be detected.";
    String german =
        "Dies ist ein ganz normaler deutscher Satz über das Wetter und den Garten, der erkannt werden soll.";
    assertTrue(check("language:response_language", kw("language", "en"), english));
    assertFalse(check("language:response_language", kw("language", "en"), german));
    assertTrue(check("language:response_language", kw("language", "de"), german));
    assertTrue(
        check("language:response_language", kw("language", "de"), "12345 !!! ..."),
        "no features: langdetect raises and the reference counts it as followed");
  }

  @Test
  void numberOfSentencesUsesPunkt() {
    String text = "Mr. Smith went home. He slept.  Then he woke up!";
    assertTrue(
        check(
            "length_constraints:number_sentences",
            kw("num_sentences", 3, "relation", "at least"),
            text));
    assertFalse(
        check(
            "length_constraints:number_sentences",
            kw("num_sentences", 4, "relation", "at least"),
            text));
    assertTrue(
        check(
            "length_constraints:number_sentences",
            kw("num_sentences", 4, "relation", "less than"),
            text));
    assertFalse(
        check(
            "length_constraints:number_sentences",
            kw("num_sentences", 3, "relation", "less than"),
            text));
  }

  @Test
  void numberOfParagraphsSplitsOnThreeStars() {
    Map<String, Object> two = kw("num_paragraphs", 2);
    assertTrue(check("length_constraints:number_paragraphs", two, "One.\n***\nTwo."));
    assertTrue(
        check("length_constraints:number_paragraphs", two, "***\nOne.\n***\nTwo.\n***"),
        "empty first and last parts are not counted");
    assertFalse(
        check("length_constraints:number_paragraphs", two, "One.\n***\n***\nTwo."),
        "empty inner part fails");
    assertFalse(check("length_constraints:number_paragraphs", two, "One.\n***\nTwo.\n***\nThree."));
    assertFalse(check("length_constraints:number_paragraphs", two, "One.\n\nTwo."));
  }

  @Test
  void numberOfWordsCountsWordCharacterRuns() {
    String text = "It's a well-known fact: 3 words_here, naïve.";
    // \w+ runs: It, s, a, well, known, fact, 3, words_here, naïve = 9
    assertTrue(
        check("length_constraints:number_words", kw("num_words", 9, "relation", "at least"), text));
    assertFalse(
        check(
            "length_constraints:number_words", kw("num_words", 10, "relation", "at least"), text));
    assertTrue(
        check(
            "length_constraints:number_words", kw("num_words", 10, "relation", "less than"), text));
    assertFalse(
        check(
            "length_constraints:number_words", kw("num_words", 9, "relation", "less than"), text));
  }

  @Test
  void nthParagraphFirstWord() {
    Map<String, Object> k = kw("num_paragraphs", 3, "nth_paragraph", 2, "first_word", "Second");
    assertTrue(
        check(
            "length_constraints:nth_paragraph_first_word",
            k,
            "First one.\n\n\"Second, it is.\n\nThird."),
        "leading quote stripped, cut at the comma, compared lower-cased");
    assertFalse(
        check(
            "length_constraints:nth_paragraph_first_word",
            k,
            "First.\n\nSecond.\n\nThird.\n\nFourth."),
        "paragraph count must be exact");
    assertFalse(
        check("length_constraints:nth_paragraph_first_word", k, "First.\n\nOther.\n\nThird."));
    assertFalse(
        check("length_constraints:nth_paragraph_first_word", k, "First.\n\n\n\nSecond.\n\nThird."),
        "the reference indexes the split list before dropping empty parts: item 2 is the empty one");
    assertTrue(
        check("length_constraints:nth_paragraph_first_word", k, "\n\nSecond.\n\nThird.\n\nx"),
        "likewise, a leading empty part shifts the index: item 2 is 'Second.'");
    assertTrue(
        check("length_constraints:nth_paragraph_first_word", k, "First.\n\nsecondly.\n\nThird.")
            == false,
        "'secondly' is not 'second'");
  }

  @Test
  void placeholdersAreNonGreedySquareBrackets() {
    Map<String, Object> k = kw("num_placeholders", 2);
    assertTrue(check("detectable_content:number_placeholders", k, "Dear [name], at [address]."));
    assertFalse(
        check("detectable_content:number_placeholders", k, "Dear [name and [address]."),
        "one span");
    assertFalse(
        check("detectable_content:number_placeholders", k, "Dear [na\nme], [x"),
        "no newline inside");
  }

  @Test
  void postscriptMarkers() {
    assertTrue(
        check(
            "detectable_content:postscript", kw("postscript_marker", "P.S."), "Hi.\n\n  p.s. bye"));
    assertTrue(
        check("detectable_content:postscript", kw("postscript_marker", "P.S."), "Hi. P. S. bye"));
    assertFalse(
        check("detectable_content:postscript", kw("postscript_marker", "P.S."), "Hi. PS bye"));
    assertTrue(
        check(
            "detectable_content:postscript",
            kw("postscript_marker", "P.P.S"),
            "Hi.\nP. P. S again"));
    assertFalse(
        check(
            "detectable_content:postscript", kw("postscript_marker", "P.P.S"), "Hi.\nP.S. again"));
    assertTrue(
        check(
            "detectable_content:postscript",
            kw("postscript_marker", "Note:"),
            "x\nNOTE: lower-cased"));
  }

  @Test
  void bulletListsCountStarAndDashLines() {
    Map<String, Object> k = kw("num_bullets", 3);
    assertTrue(check("detectable_format:number_bullet_lists", k, "Intro\n* one\n  * two\n- three"));
    assertFalse(
        check("detectable_format:number_bullet_lists", k, "* one\n** bold, not a bullet\n- two"));
    assertFalse(
        check("detectable_format:number_bullet_lists", k, "* one\n* two\n* three\n- four"),
        "exactly N");
  }

  @Test
  void constrainedResponse() {
    assertTrue(
        check("detectable_format:constrained_response", kw(), "  Well. My answer is maybe. "));
    assertFalse(check("detectable_format:constrained_response", kw(), "My answer is Yes."));
  }

  @Test
  void highlightedSectionsCountSingleAndDoubleStars() {
    Map<String, Object> k = kw("num_highlights", 2);
    assertTrue(check("detectable_format:number_highlighted_sections", k, "*one* and *two*"));
    assertFalse(
        check("detectable_format:number_highlighted_sections", k, "**bold**"),
        "single-star spans of '**bold**' are the empty '**' pairs; it counts once, as a double span");
    assertTrue(
        check(
            "detectable_format:number_highlighted_sections", kw("num_highlights", 1), "**bold**"));
    assertFalse(check("detectable_format:number_highlighted_sections", k, "*one* and * * and **"));
    assertFalse(
        check("detectable_format:number_highlighted_sections", k, "*one\ntwo* *x*"),
        "no newline inside");
  }

  @Test
  void multipleSectionsSplitOnSplitterAndNumber() {
    Map<String, Object> k = kw("section_spliter", "Section", "num_sections", 2);
    assertTrue(check("detectable_format:multiple_sections", k, "Section 1\nabc\nSection 2\ndef"));
    assertFalse(
        check("detectable_format:multiple_sections", k, "Section 1\nabc\nsection 2\ndef"),
        "case-sensitive");
    assertFalse(
        check("detectable_format:multiple_sections", k, "Section one\nSection two"),
        "needs digits");
  }

  @Test
  void jsonFormatAcceptsFencedJsonLikePython() {
    assertTrue(check("detectable_format:json_format", kw(), "```json\n{\"a\": [1, 2]}\n```"));
    assertTrue(
        check("detectable_format:json_format", kw(), "  [1, NaN, -Infinity] "),
        "Python accepts NaN");
    assertTrue(check("detectable_format:json_format", kw(), "\"just a string\""));
    assertFalse(check("detectable_format:json_format", kw(), "{\"a\": 1} trailing"));
    assertFalse(check("detectable_format:json_format", kw(), "{'a': 1}"));
    assertFalse(check("detectable_format:json_format", kw(), "Here: ```json\n{}\n```"));
  }

  @Test
  void titleNeedsNonBlankDoubleAngleBrackets() {
    assertTrue(check("detectable_format:title", kw(), "<<My Title>>\ntext"));
    assertFalse(check("detectable_format:title", kw(), "<<  >> text"));
    assertFalse(check("detectable_format:title", kw(), "<<My\nTitle>>"));
  }

  @Test
  void twoResponses() {
    assertTrue(check("combination:two_responses", kw(), "First answer.\n******\nSecond answer."));
    assertTrue(check("combination:two_responses", kw(), "******\nA\n******\nB\n******"));
    assertFalse(
        check("combination:two_responses", kw(), "A\n******\n  A  "), "must differ after trimming");
    assertFalse(
        check("combination:two_responses", kw(), "A\n******\n\n******\nB"), "empty inner part");
    assertFalse(check("combination:two_responses", kw(), "A\n******\nB\n******\nC"));
  }

  @Test
  void repeatPrompt() {
    Map<String, Object> k = kw("prompt_to_repeat", " Write a poem. ");
    assertTrue(check("combination:repeat_prompt", k, "write a POEM. Roses are red."));
    assertFalse(check("combination:repeat_prompt", k, "Sure! Write a poem."));
  }

  @Test
  void endChecker() {
    Map<String, Object> k = kw("end_phrase", "Any other questions?");
    assertTrue(
        check("startend:end_checker", k, "Text.\n\"any other QUESTIONS?\"  "),
        "outer quotes stripped");
    assertFalse(check("startend:end_checker", k, "Any other questions? Thanks."));
  }

  @Test
  void quotation() {
    assertTrue(check("startend:quotation", kw(), "  \"Quoted.\" "));
    assertFalse(check("startend:quotation", kw(), "\""));
    assertFalse(check("startend:quotation", kw(), "\"Quoted.\" P.S."));
  }

  @Test
  void capitalWordFrequencyCountsUpperCaseTokens() {
    String text = "THE QUICK brown FOX'S jump. OK!";
    // word_tokenize: THE QUICK brown FOX 'S jump . OK ! -> THE, QUICK, FOX, 'S, OK are upper = 5
    assertTrue(
        check(
            "change_case:capital_word_frequency",
            kw("capital_frequency", 5, "capital_relation", "at least"),
            text));
    assertFalse(
        check(
            "change_case:capital_word_frequency",
            kw("capital_frequency", 6, "capital_relation", "at least"),
            text));
    assertTrue(
        check(
            "change_case:capital_word_frequency",
            kw("capital_frequency", 6, "capital_relation", "less than"),
            text));
  }

  @Test
  void englishCapitalAndLowercase() {
    String upper =
        "THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER AND THE GARDEN, WRITTEN IN CAPITAL LETTERS.";
    assertTrue(check("change_case:english_capital", kw(), upper));
    assertFalse(check("change_case:english_capital", kw(), upper + " x"));
    String lower = upper.toLowerCase(java.util.Locale.ROOT);
    assertTrue(check("change_case:english_lowercase", kw(), lower));
    assertFalse(check("change_case:english_lowercase", kw(), lower + " X"));
    assertFalse(
        check(
            "change_case:english_lowercase",
            kw(),
            "dies ist ein ganz normaler deutscher satz über das wetter und den garten, der erkannt werden soll."));
  }

  @Test
  void noComma() {
    assertTrue(check("punctuation:no_comma", kw(), "No commas here; none at all."));
    assertFalse(check("punctuation:no_comma", kw(), "One, two"));
  }

  @Test
  void badKwargsNameTheKeyTheIdAndTheRule() {
    IfevalException e =
        assertThrows(
            IfevalException.class,
            () ->
                check(
                    "keywords:frequency",
                    kw("keyword", "a", "frequency", 2, "relation", "at most"),
                    "x"));
    assertEquals(
        "key 7, instruction keywords:frequency: kwargs 'relation' = \"at most\" must be \"less than\" or"
            + " \"at least\"",
        e.getMessage());
    e =
        assertThrows(
            IfevalException.class,
            () -> check("detectable_content:number_placeholders", kw(), "x"));
    assertTrue(e.getMessage().contains("kwargs 'num_placeholders' is missing"), e.getMessage());
    e =
        assertThrows(
            IfevalException.class,
            () ->
                check("detectable_content:number_placeholders", kw("num_placeholders", "3"), "x"));
    assertTrue(e.getMessage().contains("must be an integer"), e.getMessage());
    e =
        assertThrows(
            IfevalException.class, () -> check("punctuation:no_comma", kw("extra", 1), "x"));
    assertTrue(e.getMessage().contains("unexpected kwargs [extra]"), e.getMessage());
    e = assertThrows(IfevalException.class, () -> check("no:such_id", kw(), "x"));
    assertEquals(
        "key 7: unknown instruction id \"no:such_id\" (not one of the 25 ids active in IFEval's registry)",
        e.getMessage());
    e =
        assertThrows(
            IfevalException.class,
            () -> check("keywords:existence", kw("keywords", List.of("(")), "x"));
    assertTrue(
        e.getMessage().startsWith("key 7, instruction keywords:existence: the regular expression"),
        e.getMessage());
    assertTrue(
        check("punctuation:no_comma", kw("unused", null), "x"),
        "null-valued kwargs count as absent");
  }

  @Test
  void everyTypeIsCovered() {
    assertEquals(
        25, Arrays.stream(InstructionType.values()).map(InstructionType::id).distinct().count());
  }
}
