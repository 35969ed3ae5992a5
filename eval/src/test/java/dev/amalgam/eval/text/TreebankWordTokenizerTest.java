package dev.amalgam.eval.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.eval.text.TreebankWordTokenizer.Rule;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * NLTK 3.8 {@code word_tokenize(text, preserve_line=True)}. Whole-pipeline expectations are NLTK's
 * own doctests (nltk/test/tokenize.doctest, NLTKWordTokenizer.tokenize); the per-stage tests apply
 * one ported regex and check Python's substitution result.
 */
class TreebankWordTokenizerTest {

  private static List<String> tok(String text) {
    return TreebankWordTokenizer.tokenize(text);
  }

  @Test
  void nltkDoctestSentences() {
    assertEquals(
        List.of(
            "On",
            "a",
            "$",
            "50,000",
            "mortgage",
            "of",
            "30",
            "years",
            "at",
            "8",
            "percent",
            ",",
            "the",
            "monthly",
            "payment",
            "would",
            "be",
            "$",
            "366.88",
            "."),
        tok(
            "On a $50,000 mortgage of 30 years at 8 percent, the monthly payment would be $366.88."));
    assertEquals(
        List.of(
            "``", "We", "beat", "some", "pretty", "good", "teams", "to", "get", "here", ",", "''",
            "Slocum", "said", "."),
        tok("\"We beat some pretty good teams to get here,\" Slocum said."));
    assertEquals(
        List.of(
            "Well",
            ",",
            "we",
            "could",
            "n't",
            "have",
            "this",
            "predictable",
            ",",
            "cliche-ridden",
            ",",
            "``",
            "Touched",
            "by",
            "an",
            "Angel",
            "''",
            "(",
            "a",
            "show",
            "creator",
            "John",
            "Masius",
            "worked",
            "on",
            ")",
            "wanna-be",
            "if",
            "she",
            "did",
            "n't",
            "."),
        tok(
            "Well, we couldn't have this predictable, cliche-ridden, \"Touched by an Angel\" (a show creator John "
                + "Masius worked on) wanna-be if she didn't."));
    assertEquals(
        List.of("I", "can", "not", "can", "not", "work", "under", "these", "conditions", "!"),
        tok("I cannot cannot work under these conditions!"));
    assertEquals(
        List.of(
            "The", "company", "spent", "40.75", "%", "of", "its", "income", "last", "year", "."),
        tok("The company spent 40.75% of its income last year."));
    assertEquals(List.of("He", "arrived", "at", "3:00", "pm", "."), tok("He arrived at 3:00 pm."));
    assertEquals(
        List.of(
            "I", "bought", "these", "items", ":", "books", ",", "pencils", ",", "and", "pens", "."),
        tok("I bought these items: books, pencils, and pens."));
    assertEquals(
        List.of("There", "were", "300,000", ",", "but", "that", "was", "n't", "enough", "."),
        tok("There were 300,000, but that wasn't enough."));
    assertEquals(List.of("It", "'s", "more", "'n", "enough", "."), tok("It's more'n enough."));
    assertEquals(
        List.of("«", "Now", "that", "I", "can", "do", ".", "»"), tok("«Now that I can do.»"));
    assertEquals(
        List.of(
            "The",
            "unicode",
            "201C",
            "and",
            "201D",
            "“",
            "LEFT",
            "(",
            "RIGHT",
            ")",
            "DOUBLE",
            "QUOTATION",
            "MARK",
            "”",
            "is",
            "also",
            "OPEN_PUNCT",
            "and",
            "CLOSE_PUNCT",
            "."),
        tok(
            "The unicode 201C and 201D “LEFT(RIGHT) DOUBLE QUOTATION MARK” is also OPEN_PUNCT and CLOSE_PUNCT."));
  }

  @Test
  void preserveLineKeepsInnerPeriodsOnWords() {
    // NLTKWordTokenizer.tokenize docstring: without the Punkt split only the final period is
    // separated
    assertEquals(
        List.of(
            "Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in",
            "New", "York.", "Please", "buy", "me", "two", "of", "them.", "Thanks", "."),
        tok(
            "Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks."));
  }

  @Test
  void startingQuotes() {
    List<Rule> rules = TreebankWordTokenizer.STARTING_QUOTES;
    assertEquals("a “ b ‘ c `` d", rules.get(0).apply("a“b‘c``d"));
    assertEquals("``hi\"", rules.get(1).apply("\"hi\""));
    assertEquals(" `` hi", rules.get(2).apply("``hi"));
    assertEquals("( `` a [ `` b", rules.get(3).apply("(\"a [''b"));
    // a quote before one word character then a word boundary, unless it starts a clitic
    assertEquals("' a b 'S 'x1", rules.get(4).apply("'a b 'S 'x1"));
    assertEquals("' é", rules.get(4).apply("'é"));
    // U+0301 is not a word character in Python, so "e" is followed by a word boundary
    assertEquals("' e\u0301", rules.get(4).apply("'e\u0301"));
  }

  @Test
  void punctuation() {
    List<Rule> rules = TreebankWordTokenizer.PUNCTUATION;
    assertEquals("end . \")   ", rules.get(0).apply("end.\")  \n"));
    assertEquals("a , b 3,4 x : y", rules.get(1).apply("a,b 3,4 x:y"));
    assertEquals("a , ", rules.get(2).apply("a,"));
    assertEquals("wait ...  so", rules.get(3).apply("wait... so"));
    assertEquals(" $ 5 ;  & ", rules.get(4).apply("$5;&"));
    assertEquals("end .\" ", rules.get(5).apply("end.\"\u00a0"));
    assertEquals("what ?  ! ", rules.get(6).apply("what?!"));
    assertEquals("dogs ' bone ''x", rules.get(7).apply("dogs' bone ''x"));
    assertEquals("a * b", rules.get(8).apply("a*b"));
  }

  @Test
  void parenthesesAndDoubleDashes() {
    assertEquals(
        " ( a )  [ b ]  { c }  < d > ",
        TreebankWordTokenizer.PARENS_BRACKETS.apply("(a)[b]{c}<d>"));
    assertEquals("a -- b-c", TreebankWordTokenizer.DOUBLE_DASHES.apply("a--b-c"));
  }

  @Test
  void endingQuotes() {
    List<Rule> rules = TreebankWordTokenizer.ENDING_QUOTES;
    assertEquals("a ” b ’ ", rules.get(0).apply("a”b’"));
    assertEquals("a '' b", rules.get(1).apply("a''b"));
    assertEquals("a '' b", rules.get(2).apply("a\"b"));
    assertEquals(" it 's I 'M dogs '  ", rules.get(3).apply(" it's I'M dogs'  "));
    assertEquals(" we 'll do n't CA N'T ", rules.get(4).apply(" we'll don't CAN'T "));
  }

  @Test
  void contractions() {
    assertEquals(
        List.of("Can", "not", "gim", "me", "gon", "na", "got", "ta", "lem", "me", "d", "'ye"),
        tok("Cannot gimme gonna gotta lemme d'ye"));
    assertEquals(List.of("wan", "na", "go", "wannabe", "wan", "na"), tok("wanna go wannabe wanna"));
    assertEquals(List.of("cannotx", "xcannot"), tok("cannotx xcannot"));
    assertEquals(
        List.of("'T", "is", "the", "season", ",", "'t", "was", "then", "'tisn"),
        tok("'Tis the season, 'twas then 'tisn"));
  }

  @Test
  void pythonWhitespaceSeparatesTokens() {
    assertEquals(List.of("a", "b", "c", "d", "e\u200bf"), tok("a\u00a0b\u2007c\u001cd e\u200bf"));
    assertEquals(List.of("a", "."), tok("a.\r\n"));
    assertEquals(List.of(), tok(""));
    assertEquals(List.of(), tok(" \n\t"));
  }
}
