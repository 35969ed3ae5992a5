package dev.amalgam.convert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** The files that make up a Hugging Face tokenizer in a model folder. */
public final class HfTokenizerFiles {
  /** Their names: tokenizer definitions, special tokens and chat templates. */
  public static final List<String> NAMES =
      List.of(
          "tokenizer.json",
          "tokenizer.model",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "added_tokens.json",
          "vocab.json",
          "merges.txt",
          "chat_template.jinja",
          "chat_template.json");

  private HfTokenizerFiles() {}

  /**
   * Copies those present in {@code from} into {@code to}, keeping their attributes; returns how
   * many.
   */
  public static int copy(Path from, Path to) throws IOException {
    int copied = 0;
    for (String name : NAMES) {
      Path src = from.resolve(name);
      if (Files.isRegularFile(src)) {
        Files.copy(src, to.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
        copied++;
      }
    }
    return copied;
  }
}
