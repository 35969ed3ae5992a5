package dev.amalgam.io;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A model file breaks a rule of its format. The message names the file, the tensor where one is
 * concerned, and the rule, for example {@code model.safetensors: tensor 'lm_head.weight':
 * data_offsets [0, 10) hold 10 bytes but shape [4, 4] x BF16 needs 32}.
 */
public final class FormatException extends IOException implements Failure {
  private static final long serialVersionUID = 1L;

  /** The rule that was broken. */
  public enum Reason {
    /** The file is shorter than the fixed part of its header. */
    FILE_TOO_SMALL,
    /** The declared header length exceeds the format's limit. */
    HEADER_TOO_LARGE,
    /** The declared header length runs past the end of the file. */
    HEADER_PAST_END,
    /** The header is not valid UTF-8. */
    HEADER_NOT_UTF8,
    /** The header is not the JSON the format requires (syntax, structure, field types). */
    BAD_HEADER,
    /** A JSON object repeats a key, or two tensors share a name. */
    DUPLICATE_NAME,
    /** An element type name or id is unknown. */
    UNKNOWN_DTYPE,
    /** A shape has a negative, non-integer or too large dimension. */
    BAD_SHAPE,
    /** Offsets are malformed, leave holes, overlap or do not start at zero. */
    BAD_OFFSETS,
    /** A size computation overflows. */
    SIZE_OVERFLOW,
    /** A sub-byte element type's tensor does not end on a byte boundary. */
    NOT_BYTE_ALIGNED,
    /** A tensor's byte range does not match its shape and element type. */
    SIZE_MISMATCH,
    /** Bytes follow the last tensor. */
    TRAILING_BYTES,
    /** The tensor data the header describes runs past the end of the file. */
    DATA_PAST_END,
    /** A sharded checkpoint's index does not match its shards. */
    BAD_INDEX,
    /** A directory or index lacks the files a checkpoint needs. */
    MISSING_FILE,
    /** The file or directory holds a format Amalgam does not read, such as a pickle checkpoint. */
    UNSUPPORTED_FORMAT,
    /** The file does not start with its format's magic bytes (GGUF: {@code GGUF}). */
    BAD_MAGIC,
    /**
     * The format version is one Amalgam does not read (GGUF v1, a future version, or a big-endian
     * file).
     */
    UNSUPPORTED_VERSION,
    /**
     * The file ends inside its header, or a length or count in the header reaches past the end of
     * the file.
     */
    TRUNCATED,
    /** A count in the header (tensors, keys) is larger than the file could possibly hold. */
    COUNT_TOO_LARGE,
    /** A key or tensor name is empty where it must not be, or too long. */
    BAD_NAME,
    /** A metadata value type id is unknown, or an array nests another array. */
    BAD_VALUE_TYPE,
    /**
     * A metadata value is outside its type's valid range, such as a BOOL that is neither 0 nor 1.
     */
    BAD_VALUE,
    /** The declared data alignment has the wrong type or is not a non-zero power of two. */
    BAD_ALIGNMENT,
    /** A row of a block-quantized tensor is not a whole number of blocks. */
    PARTIAL_BLOCK
  }

  private final Path file;
  private final Reason reason;
  private final String tensor;

  /**
   * Creates the exception.
   *
   * @param file the file at fault
   * @param reason the rule broken
   * @param tensor the tensor concerned, or null
   * @param detail what is wrong, without the file or tensor name
   */
  public FormatException(Path file, Reason reason, String tensor, String detail) {
    super(format(file, tensor, detail));
    this.file = Objects.requireNonNull(file, "file");
    this.reason = Objects.requireNonNull(reason, "reason");
    this.tensor = tensor;
  }

  /** Same, with a cause. */
  public FormatException(Path file, Reason reason, String tensor, String detail, Throwable cause) {
    this(file, reason, tensor, detail);
    initCause(cause);
  }

  private static String format(Path file, String tensor, String detail) {
    return file + ": " + (tensor != null ? "tensor '" + tensor + "': " : "") + detail;
  }

  /** The file at fault. */
  public Path file() {
    return file;
  }

  /** The rule broken. */
  public Reason reason() {
    return reason;
  }

  /** The tensor concerned, if the problem is about one. */
  public Optional<String> tensor() {
    return Optional.ofNullable(tensor);
  }

  /**
   * Always bad input: the file breaks a rule of its format, or is a model Amalgam does not support.
   */
  @Override
  public FailureReason failureReason() {
    return FailureReason.BAD_INPUT;
  }
}
