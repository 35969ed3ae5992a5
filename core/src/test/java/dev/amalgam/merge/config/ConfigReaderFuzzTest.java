package dev.amalgam.merge.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.amalgam.fuzzing.FuzzFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Fuzzes the merge-configuration reader: any bytes either read as a {@link MergeConfig} or fail
 * with a {@link ConfigException}. Anything else thrown, an IOException included (the file exists),
 * is a finding. Seeds: ConfigReaderFuzzTestInputs/, written by {@code FuzzSeedGenerator}.
 */
class ConfigReaderFuzzTest {
  @FuzzTest
  void readConfig(byte[] input) throws IOException {
    Path file = FuzzFiles.write(getClass(), "merge.yml", input);
    try {
      ConfigReader.read(file, file.getParent());
    } catch (ConfigException expected) {
      // The documented refusal.
    }
  }
}
