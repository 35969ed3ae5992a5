package dev.amalgam.cli;

import dev.amalgam.io.Checksums;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The real inputs the demo runs on, packed into the jar from the repository
 * (models/stories260K.gguf and the MTS-Dialog slice in examples/data/; their licences and
 * provenance sit beside them there). They are copied out to files because llama.cpp and the task
 * loaders read files, not class-path resources.
 */
final class DemoAssets {
  /** SHA-256 of stories260K.gguf as the ggml project publishes it. */
  public static final String STORIES_SHA256 =
      "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";

  /** Examples in the packed MTS-Dialog validation slice. */
  public static final int MTS_DIALOG_EXAMPLES = 40;

  private static final String ROOT = "/dev/amalgam/cli/demo/";
  private static final List<String> MTS_DIALOG_FILES =
      List.of(
          "mts-dialog/Main-Dataset/MTS-Dialog-ValidationSet.csv",
          "mts-dialog/LICENSE.txt",
          "mts-dialog/README.md");

  private DemoAssets() {}

  /**
   * Writes stories260K.gguf (about 1.2 MB, a tiny Llama trained on TinyStories) into {@code dir}
   * and returns its path, after checking its SHA-256.
   */
  public static Path stories260K(Path dir) throws IOException {
    Path file = copy("stories260K.gguf", dir.resolve("stories260K.gguf"));
    String sha = Checksums.sha256(file);
    if (!sha.equals(STORIES_SHA256)) {
      throw new IOException(
          file + ": SHA-256 " + sha + ", expected " + STORIES_SHA256 + " (a damaged jar?)");
    }
    copy("stories260K.LICENSE", dir.resolve("stories260K.LICENSE"));
    return file;
  }

  /**
   * Writes the 40-example MTS-Dialog validation slice under {@code dataRoot/mts-dialog/} with its
   * licence and returns {@code dataRoot}, a folder that {@code amalgam eval --task mts-dialog
   * --data} takes.
   */
  public static Path mtsDialogSlice(Path dataRoot) throws IOException {
    for (String f : MTS_DIALOG_FILES) copy("data/" + f, dataRoot.resolve(f));
    return dataRoot;
  }

  private static Path copy(String resource, Path target) throws IOException {
    try (InputStream in = DemoAssets.class.getResourceAsStream(ROOT + resource)) {
      if (in == null) {
        throw new IOException(
            "the demo's "
                + resource
                + " is not in this build (the jar is built from the"
                + " repository's models/ and examples/data/)");
      }
      Files.createDirectories(target.toAbsolutePath().getParent());
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
    return target;
  }
}
