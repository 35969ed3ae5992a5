package dev.amalgam.io.gguf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.amalgam.fuzzing.FuzzFiles;
import dev.amalgam.io.FormatException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Fuzzes the GGUF reader (header, metadata, tensor infos): any bytes either open as a file whose
 * metadata and tensors can be listed, or fail with a {@link FormatException} naming the file.
 * Anything else thrown is a finding. Seeds: GgufFuzzTestInputs/, written by {@code
 * FuzzSeedGenerator}.
 */
class GgufFuzzTest {
  @FuzzTest
  void openFile(byte[] input) throws IOException {
    Path file = FuzzFiles.write(getClass(), "fuzz.gguf", input);
    try (GgufFile f = GgufFile.open(file)) {
      f.metadata().toString();
      for (GgufTensorInfo t : f.tensors()) f.data(t.name());
      f.dataBytes();
    } catch (FormatException e) {
      assertTrue(e.getMessage().startsWith(file.toString()), e::getMessage);
    }
  }
}
