package dev.amalgam.eval.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Python's {@code str.split()} with no argument. */
class WhitespaceTokenizerTest {

  @Test
  void splitsOnRunsAndDropsEmptyStrings() {
    assertEquals(List.of("a", "b", "c"), WhitespaceTokenizer.whitespace("  a \t\r\n b  c  "));
    assertEquals(List.of(), WhitespaceTokenizer.whitespace(""));
    assertEquals(List.of(), WhitespaceTokenizer.whitespace(" \u3000 "));
    assertEquals(List.of("x,", "y."), WhitespaceTokenizer.whitespace("x, y."));
  }

  @Test
  void usesPythonsWhitespaceSet() {
    // Java's Character.isWhitespace rejects U+00A0, U+2007, U+202F; Python accepts them and
    // U+001C..U+001F, U+0085
    assertEquals(
        List.of("a", "b", "c", "d", "e", "f"),
        WhitespaceTokenizer.whitespace("a\u00a0b\u2007c\u202fd\u001ce\u0085f"));
    // zero-width space and BOM are not whitespace in Python
    assertEquals(List.of("a\u200bb\ufeffc"), WhitespaceTokenizer.whitespace("a\u200bb\ufeffc"));
    assertTrue(WhitespaceTokenizer.isPythonSpace(0x2028));
    assertFalse(WhitespaceTokenizer.isPythonSpace(0x180E));
  }

  @Test
  void keepsSupplementaryCharacters() {
    assertEquals(List.of("\ud83d\ude00", "x"), WhitespaceTokenizer.whitespace("\ud83d\ude00 x"));
  }
}
