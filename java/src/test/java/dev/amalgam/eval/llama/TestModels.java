package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared test model; tests skip (never fail) when it is absent. */
final class TestModels {
  private TestModels() {}

  /** ../shared/models/stories260K.gguf via -Damalgam.shared.dir, or a skipped test. */
  static Path stories260K() {
    String shared = System.getProperty("amalgam.shared.dir");
    assumeTrue(shared != null, "amalgam.shared.dir is not set; skipping the llama.cpp test");
    Path model = Path.of(shared, "models", "stories260K.gguf");
    assumeTrue(Files.isRegularFile(model), model + " is absent; skipping the llama.cpp test");
    return model;
  }
}
