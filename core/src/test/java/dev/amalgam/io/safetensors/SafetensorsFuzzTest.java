package dev.amalgam.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.amalgam.fuzzing.FuzzFiles;
import dev.amalgam.io.FormatException;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Fuzzes the safetensors header parser: any bytes either open as a file whose tensors can be
 * located, or fail with a {@link FormatException} naming the file. Anything else thrown is a
 * finding. Seeds: SafetensorsFuzzTestInputs/, written by {@code FuzzSeedGenerator}.
 */
class SafetensorsFuzzTest {
  @FuzzTest
  void openFile(byte[] input) throws IOException {
    Path file = FuzzFiles.write(getClass(), "fuzz.safetensors", input);
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      f.metadata();
      for (TensorInfo t : f.tensors()) f.data(t.name());
    } catch (FormatException e) {
      assertTrue(e.getMessage().startsWith(file.toString()), e::getMessage);
    }
  }
}
