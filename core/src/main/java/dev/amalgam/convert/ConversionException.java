package dev.amalgam.convert;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A configuration, tokenizer or metadata file cannot be converted: a value has the wrong type, a
 * required key is missing, or the file describes something Amalgam does not convert. The message
 * names the file, the key (a JSON key, a GGUF key or a protobuf field) and the rule, for example
 * {@code config.json: key 'num_hidden_layers': expected an integer, got STRING "32"}.
 */
public final class ConversionException extends IOException implements Failure {
  private static final long serialVersionUID = 1L;

  private final Path file;
  private final String key;

  /**
   * Creates the exception.
   *
   * @param file the file at fault
   * @param key the key concerned, or null when the problem is about the whole file
   * @param detail what is wrong, without the file or key
   */
  public ConversionException(Path file, String key, String detail) {
    super(file + ": " + (key != null ? "key '" + key + "': " : "") + detail);
    this.file = Objects.requireNonNull(file, "file");
    this.key = key;
  }

  /** Same, with a cause. */
  public ConversionException(Path file, String key, String detail, Throwable cause) {
    this(file, key, detail);
    initCause(cause);
  }

  /** The file at fault. */
  public Path file() {
    return file;
  }

  /** The key concerned, if the problem is about one. */
  public Optional<String> key() {
    return Optional.ofNullable(key);
  }

  /**
   * Always bad input: a config.json or tokenizer that cannot be represented in the other format.
   */
  @Override
  public FailureReason failureReason() {
    return FailureReason.BAD_INPUT;
  }
}
