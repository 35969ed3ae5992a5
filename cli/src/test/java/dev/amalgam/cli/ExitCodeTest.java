package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.eval.bertscore.BertScoreException;
import dev.amalgam.eval.harness.DataException;
import dev.amalgam.eval.llama.LlamaBridgeException;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Main is the one place where what a command throws becomes the error line and the exit code. */
class ExitCodeTest {
  /** A failure of neither eval nor cli, to show that Main goes by the reason alone. */
  private static final class SomeFailure extends RuntimeException implements Failure {
    private static final long serialVersionUID = 1L;
    private final FailureReason reason;

    SomeFailure(FailureReason reason) {
      super("what went wrong");
      this.reason = reason;
    }

    @Override
    public FailureReason failureReason() {
      return reason;
    }
  }

  @Test
  void failuresMapByTheirReason() {
    assertEquals(Main.EXIT_INVALID, Main.exitCode(new SomeFailure(FailureReason.BAD_INPUT)));
    assertEquals(Main.EXIT_FAILURE, Main.exitCode(new SomeFailure(FailureReason.ENVIRONMENT)));
    assertEquals(Main.EXIT_INVALID, Main.exitCode(new DataException("x")));
    assertEquals(Main.EXIT_INVALID, Main.exitCode(new Main.InvalidInputException("x")));
    assertEquals(
        Main.EXIT_INVALID,
        Main.exitCode(
            new LlamaBridgeException(LlamaBridgeException.Reason.MODEL_LOAD_FAILED, "x")));
    assertEquals(
        Main.EXIT_FAILURE,
        Main.exitCode(
            new LlamaBridgeException(LlamaBridgeException.Reason.GENERATION_FAILED, "x")));
    assertEquals(
        Main.EXIT_INVALID,
        Main.exitCode(new BertScoreException(BertScoreException.Reason.BAD_MODEL, "x")));
    assertEquals(
        Main.EXIT_FAILURE,
        Main.exitCode(new BertScoreException(BertScoreException.Reason.ENCODER_FAILED, "x")));
  }

  @Test
  void usageErrorsAndExistingOutputsAreBadInputAndTheRestFails() {
    CommandLine cl = new CommandLine(new Main());
    assertEquals(Main.EXIT_INVALID, Main.exitCode(new CommandLine.ParameterException(cl, "x")));
    assertEquals(Main.EXIT_INVALID, Main.exitCode(new FileAlreadyExistsException("out")));
    assertEquals(Main.EXIT_FAILURE, Main.exitCode(new IOException("disk full")));
    assertEquals(Main.EXIT_FAILURE, Main.exitCode(new NoSuchFileException("f")));
    assertEquals(Main.EXIT_FAILURE, Main.exitCode(new IllegalStateException("bug")));
  }

  @Test
  void failuresPrintTheirMessageAndOtherRuntimeExceptionsTheirClass() {
    assertEquals("what went wrong", Main.describe(new SomeFailure(FailureReason.ENVIRONMENT)));
    assertEquals(
        "x", Main.describe(new BertScoreException(BertScoreException.Reason.ENCODER_FAILED, "x")));
    assertEquals(
        "x",
        Main.describe(new LlamaBridgeException(LlamaBridgeException.Reason.MODEL_NOT_FOUND, "x")));
    assertEquals(
        "x (LlamaBridgeException)",
        Main.describe(
            new LlamaBridgeException(LlamaBridgeException.Reason.LIBRARY_UNAVAILABLE, "x")));
    assertEquals("bug (IllegalStateException)", Main.describe(new IllegalStateException("bug")));
    assertEquals("disk full", Main.describe(new IOException("disk full")));
    assertEquals("no such file or directory: f", Main.describe(new NoSuchFileException("f")));
    assertEquals("out: already exists", Main.describe(new FileAlreadyExistsException("out")));
  }
}
