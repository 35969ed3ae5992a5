package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.amalgam.fuzzing.FuzzFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Fuzzes the SentencePiece tokenizer.model reader ({@link SentencePieceModel}, {@link ProtoReader}
 * and the conversion to GGUF metadata, through {@link TokenizerToGguf#fromDirectory}): any bytes
 * either convert or fail with a {@link ConversionException} naming the file. Anything else thrown
 * is a finding. Seeds: TokenizerModelFuzzTestInputs/, written by {@code FuzzSeedGenerator}.
 */
class TokenizerModelFuzzTest {
  @FuzzTest
  void convertTokenizerModel(byte[] input) throws IOException {
    Path file = FuzzFiles.write(getClass(), TokenizerToGguf.TOKENIZER_MODEL, input);
    try {
      TokenizerToGguf.fromDirectory(file.getParent(), OptionalLong.empty());
    } catch (ConversionException e) {
      assertTrue(e.getMessage().startsWith(file.toString()), e::getMessage);
    }
  }
}
