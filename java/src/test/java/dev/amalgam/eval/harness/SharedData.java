package dev.amalgam.eval.harness;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared/data; tests skip (never fail) when it is absent. */
final class SharedData {
  private SharedData() {}

  static Path root() {
    Path data = Path.of(System.getProperty("amalgam.shared.dir", "../../shared")).resolve("data");
    assumeTrue(Files.isDirectory(data), data + " is absent; skipping the shared-data test");
    return data;
  }

  static Path folder(String name) {
    Path p = root().resolve(name);
    assumeTrue(Files.isDirectory(p), p + " is absent; skipping");
    return p;
  }
}
