package dev.amalgam.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where tests find real inputs. The repository keeps a real model and a data slice, so tests that
 * use them always run (and fail if they are missing). Larger data sets and golden values are
 * optional: they live outside the repository (-Damalgam.shared.dir, a folder with data/), and the
 * tests that need them skip with a message that names the missing file.
 */
public final class TestAssets {
  /** A sentence stories260K knows well. */
  public static final String LILY = "Once upon a time there was a little girl named Lily.";

  /**
   * A story in the style stories260K was trained on, long enough for perplexity windows of 64
   * tokens.
   */
  public static final String STORY =
      "Once upon a time there was a little girl named Lily. She loved to play outside in "
          + "the sun. One day, she saw a big red ball in the park. She wanted to play with it, so she ran to the ball and "
          + "kicked it. The ball went high in the sky. Lily was happy. Her mom said, \"Lily, it is time to go home.\" "
          + "Lily said, \"Okay, mom.\" They walked home together and ate a big dinner. Then Lily went to bed and had a "
          + "good dream about the ball. The next day, Lily went to the park with her friend Tom. Tom had a little dog. "
          + "The dog was very happy to see Lily. They played with the dog all day. ";

  private TestAssets() {}

  /**
   * The repository root (-Damalgam.repo.dir, set by the build; else the parent of the module
   * folder).
   */
  public static Path repository() {
    return Path.of(System.getProperty("amalgam.repo.dir", "..")).toAbsolutePath().normalize();
  }

  /** models/stories260K.gguf: a real tiny Llama that llama.cpp runs (docs/formats.md §5). */
  public static Path stories260K() {
    return inRepository("models/stories260K.gguf");
  }

  /**
   * examples/data: a data root with the 40-example MTS-Dialog validation slice under mts-dialog/.
   */
  public static Path mtsDialogSlice() {
    inRepository("examples/data/mts-dialog/Main-Dataset/MTS-Dialog-ValidationSet.csv");
    return inRepository("examples/data");
  }

  /**
   * A file or folder of the optional external data (relative to its data/ folder), or a skipped
   * test.
   */
  public static Path externalData(String relative) {
    Path root =
        Path.of(System.getProperty("amalgam.shared.dir", "../../shared"))
            .toAbsolutePath()
            .normalize();
    Path p = root.resolve("data").resolve(relative);
    assumeTrue(
        Files.exists(p),
        p
            + " is absent: this test needs the optional external data sets"
            + " (-Damalgam.shared.dir=DIR with DIR/data/"
            + relative
            + ")");
    return p;
  }

  private static Path inRepository(String relative) {
    Path p = repository().resolve(relative);
    if (!Files.exists(p)) {
      throw new AssertionError(
          p + " is missing: it is part of the repository (-Damalgam.repo.dir points elsewhere?)");
    }
    return p;
  }
}
