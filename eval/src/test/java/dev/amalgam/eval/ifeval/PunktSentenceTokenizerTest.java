package dev.amalgam.eval.ifeval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Punkt with NLTK's English parameters, against the outputs documented in NLTK 3.8's doctests. */
class PunktSentenceTokenizerTest {
  @Test
  void abbreviationsInitialsAndLowerCaseStarts() {
    // nltk/tokenize/punkt.py module doctest
    String text =
        "Punkt knows that the periods in Mr. Smith and Johann S. Bach\n"
            + "do not mark sentence boundaries.  And sometimes sentences\n"
            + "can start with non-capitalized words.  i is a good variable\n"
            + "name.";
    assertEquals(
        List.of(
            "Punkt knows that the periods in Mr. Smith and Johann S. Bach\ndo not mark sentence boundaries.",
            "And sometimes sentences\ncan start with non-capitalized words.",
            "i is a good variable\nname."),
        PunktSentenceTokenizer.tokenize(text));
  }

  @Test
  void closingPunctuationIsRealigned() {
    // nltk/tokenize/punkt.py module doctest (realign_boundaries=True)
    String text =
        "(How does it deal with this parenthesis?)  \"It should be part of the\n"
            + "previous sentence.\" \"(And the same with this one.)\" ('And this one!')\n"
            + "\"('(And (this)) '?)\" [(and this. )]";
    assertEquals(
        List.of(
            "(How does it deal with this parenthesis?)",
            "\"It should be part of the\nprevious sentence.\"",
            "\"(And the same with this one.)\"",
            "('And this one!')",
            "\"('(And (this)) '?)\"",
            "[(and this. )]"),
        PunktSentenceTokenizer.tokenize(text));
  }

  @Test
  void numbersAndTrailingWhitespace() {
    // nltk/tokenize/__init__.py word_tokenize doctest text, sentence level
    assertEquals(
        List.of("Good muffins cost $3.88\nin New York.", "Please buy me\ntwo of them.", "Thanks."),
        PunktSentenceTokenizer.tokenize(
            "Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\n\nThanks."));
    assertEquals(
        List.of("See Section 3.)", "Or Section 2.)"),
        PunktSentenceTokenizer.tokenize("See Section 3.)  Or Section 2.)  "),
        "test/tokenize.doctest");
  }

  @Test
  void countsAsIfevalDoes() {
    assertEquals(0, PunktSentenceTokenizer.count(""));
    assertEquals(0, PunktSentenceTokenizer.count("   \n "));
    assertEquals(
        1,
        PunktSentenceTokenizer.count("A title without a period\n\nand a paragraph"),
        "a newline alone is no sentence break");
    assertEquals(
        1,
        PunktSentenceTokenizer.count("Wait... What happened?"),
        "after an ellipsis only orthographic evidence or a frequent starter breaks; 'what' has mid-sentence capitals");
    assertEquals(
        2,
        PunktSentenceTokenizer.count("Wait... The cat came."),
        "'the' is a frequent sentence starter");
    assertEquals(3, PunktSentenceTokenizer.count("Really?! Yes. Sure."));
    assertEquals(
        1,
        PunktSentenceTokenizer.count("Dr. Watson met Mrs. Hudson at 221b Baker St. in London."),
        "known abbreviations dr, mrs (st. is followed by a lower-case word)");
  }
}
