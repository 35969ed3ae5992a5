package dev.amalgam.io;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * An input file changed while it was being read: it was truncated, grown, rewritten or replaced
 * after it was opened, typically because a copy or download was still writing it. The message names
 * the file and what changed; the work that read it is abandoned and writes no output. It is the
 * input's fault ({@link FailureReason#BAD_INPUT}): run again once the file is complete.
 */
public final class InputChangedException extends IOException implements Failure {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /**
   * @param file the input that changed
   * @param change what changed, for example {@code "it ended at byte 1024 while tensor 'w' was
   *     read"}
   */
  public InputChangedException(Path file, String change) {
    super(
        Objects.requireNonNull(file, "file")
            + ": the file changed while it was read ("
            + change
            + "); it was modified after it was opened, perhaps by a copy or download still in"
            + " progress. Nothing was written; run again once it is complete");
    this.file = file;
  }

  /** The input that changed. */
  public Path file() {
    return file;
  }

  @Override
  public FailureReason failureReason() {
    return FailureReason.BAD_INPUT;
  }
}
