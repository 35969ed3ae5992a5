package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.amalgam.fuzzing.FuzzFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Fuzzes the Hugging Face tokenizer.json reader ({@link TokenizerToGguf#fromDirectory} on a folder
 * holding only tokenizer.json): any bytes either convert to GGUF tokenizer metadata or fail with a
 * {@link ConversionException} naming the file. Anything else thrown is a finding. Seeds:
 * TokenizerJsonFuzzTestInputs/, written by {@code FuzzSeedGenerator}.
 */
class TokenizerJsonFuzzTest {
  @FuzzTest
  void convertTokenizerJson(byte[] input) throws IOException {
    Path file = FuzzFiles.write(getClass(), TokenizerToGguf.TOKENIZER_JSON, input);
    try {
      TokenizerToGguf.fromDirectory(file.getParent(), OptionalLong.empty());
    } catch (ConversionException e) {
      assertTrue(e.getMessage().startsWith(file.toString()), e::getMessage);
    }
  }
}
