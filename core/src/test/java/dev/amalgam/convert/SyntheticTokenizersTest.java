package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.synthetic.SyntheticTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticTokenizersTest {
  @Test
  void llama3TokenizerHasTheRequestedSizeAndValidMerges(@TempDir Path dir) throws Exception {
    for (int size : new int[] {262, 300, 5000}) {
      GgufMetadata m = SyntheticTokenizers.llama3Metadata(size);
      String[] tokens = m.get(TokenizerKeys.TOKENS).orElseThrow().asStrings();
      assertEquals(size, tokens.length);
      Set<String> vocab = new HashSet<>(List.of(tokens));
      assertEquals(size, vocab.size(), "tokens are unique");
      String[] merges = m.get(TokenizerKeys.MERGES).orElseThrow().asStrings();
      assertTrue(merges.length >= size - 261, "every learnt token comes from a merge");
      Set<String> seenMerges = new HashSet<>();
      for (String merge : merges) {
        String[] parts = merge.split(" ");
        assertEquals(2, parts.length, merge);
        assertTrue(vocab.contains(parts[0]) && vocab.contains(parts[1]), merge);
        assertTrue(vocab.contains(parts[0] + parts[1]), merge);
        assertTrue(seenMerges.add(merge), "duplicate merge " + merge);
      }
      assertEquals(
          "<|eot_id|>", tokens[(int) (long) m.getLong(TokenizerKeys.EOS_ID).orElseThrow()]);
      assertEquals(
          "<|begin_of_text|>", tokens[(int) (long) m.getLong(TokenizerKeys.BOS_ID).orElseThrow()]);
    }
    List<Path> files = SyntheticTokenizers.writeLlama3(dir, 1000);
    assertEquals(
        List.of(dir.resolve("tokenizer.json"), dir.resolve("tokenizer_config.json")), files);
    ConversionResult back = TokenizerToGguf.fromDirectory(dir, OptionalLong.of(1000));
    assertTrue(back.warnings().isEmpty(), back.warnings().toString());
    assertEquals(SyntheticTokenizers.llama3Metadata(1000), back.metadata());
    assertTrue(Files.readString(dir.resolve("tokenizer_config.json")).contains("<|eot_id|>"));
  }

  @Test
  void learntMergesComeFromTheCorpusFirst() {
    String[] merges =
        SyntheticTokenizers.llama3Metadata(400).get(TokenizerKeys.MERGES).orElseThrow().asStrings();
    // the most frequent pair of the built-in English text is a space before a letter or "t h"/"h e"
    assertTrue(
        List.of(merges).subList(0, 5).stream().anyMatch(m -> m.equals("h e") || m.equals("Ġ t")),
        String.join(", ", List.of(merges).subList(0, 5)));
  }

  @Test
  void sentencePieceModelHasStoriesLayout(@TempDir Path dir) throws Exception {
    GgufMetadata m = SyntheticTokenizers.sentencePieceMetadata(512);
    String[] tokens = m.get(TokenizerKeys.TOKENS).orElseThrow().asStrings();
    long[] types = m.get(TokenizerKeys.TOKEN_TYPE).orElseThrow().asLongs();
    float[] scores = m.get(TokenizerKeys.SCORES).orElseThrow().asFloats();
    assertEquals(512, tokens.length);
    assertEquals(512, new HashSet<>(List.of(tokens)).size());
    assertEquals("<unk>", tokens[0]);
    assertEquals("<0x00>", tokens[3]);
    assertEquals("<0xFF>", tokens[258]);
    assertEquals(2, types[0]);
    assertEquals(6, types[100]);
    assertEquals(1, types[259]);
    assertEquals(0f, scores[259]);
    assertEquals(-252f, scores[511]);
    SyntheticTokenizers.writeSentencePiece(dir, 512);
    assertEquals(m, TokenizerToGguf.fromDirectory(dir, OptionalLong.empty()).metadata());
  }

  @Test
  void tooSmallVocabulariesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> SyntheticTokenizers.llama3Metadata(261));
    assertThrows(
        IllegalArgumentException.class, () -> SyntheticTokenizers.sentencePieceMetadata(259));
  }

  @Test
  void byteLevelMapMatchesGpt2() {
    assertEquals('\u0120', SyntheticTokenizers.byteLevelChar(' '));
    assertEquals('\u010A', SyntheticTokenizers.byteLevelChar('\n'));
    assertEquals('\u0100', SyntheticTokenizers.byteLevelChar(0));
    assertEquals('A', SyntheticTokenizers.byteLevelChar('A'));
    assertEquals('\u0143', SyntheticTokenizers.byteLevelChar(0xAD));
    Set<Character> all = new HashSet<>();
    for (int b = 0; b < 256; b++) all.add(SyntheticTokenizers.byteLevelChar(b));
    assertEquals(256, all.size());
  }
}
