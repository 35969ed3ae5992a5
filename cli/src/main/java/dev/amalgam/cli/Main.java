package dev.amalgam.cli;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.eval.llama.LlamaBridgeException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code amalgam} command. Exit codes: 0 success; 2 usage, configuration or input validation
 * error; 1 any other failure. Errors print one line; {@code --verbose} adds the stack trace.
 * Commands throw; this class alone turns what they throw into the line and the exit code ({@link
 * #exitCode}, {@link #describe}).
 */
@Command(
    name = "amalgam",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description =
        "Merges large language models in weight space (mergekit-compatible YAML, safetensors and GGUF)"
            + " and runs them through llama.cpp.",
    subcommands = {
      MergeCommand.class,
      CheckCommand.class,
      MethodsCommand.class,
      ConvertCommand.class,
      InspectCommand.class,
      DemoCommand.class,
      GenerateCommand.class,
      PerplexityCommand.class,
      EvalCommand.class,
      CompareCommand.class,
      SweepCommand.class,
      CleanCommand.class,
      ScoreCommand.class,
      IfevalCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main {
  /** Exit code for bad usage, configuration or input. */
  public static final int EXIT_INVALID = 2;

  /** Exit code for any other failure. */
  public static final int EXIT_FAILURE = 1;

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "Print stack traces and details.")
  boolean verbose;

  /** Runs the command line and exits the JVM with its exit code. */
  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /**
   * Runs the command line with the given output streams and returns the exit code (for tests and
   * embedding).
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "amalgam: %4$s: %5$s%6$s%n");
    }
    Main main = new Main();
    CommandLine cl = new CommandLine(main);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(Main::exitCode);
    cl.setParameterExceptionHandler(
        (e, arguments) -> {
          CommandLine failed = e.getCommandLine();
          failed
              .getErr()
              .println(
                  "amalgam: error: "
                      + e.getMessage()
                      + " (see '"
                      + failed.getCommandSpec().qualifiedName()
                      + " --help')");
          failed.getErr().flush();
          return exitCode(e);
        });
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          boolean verbose = parseResult.hasMatchedOption("--verbose") || isVerbose(parseResult);
          commandLine.getErr().println("amalgam: error: " + describe(e));
          if (verbose) e.printStackTrace(commandLine.getErr());
          commandLine.getErr().flush();
          return exitCode(e);
        });
    return cl.execute(args);
  }

  private static boolean isVerbose(CommandLine.ParseResult result) {
    for (CommandLine.ParseResult r = result; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption("--verbose")) return true;
    }
    return false;
  }

  /**
   * The exit code of a failed command: a {@link Failure} by its reason (bad input 2, environment
   * 1); picocli's usage errors and an output that already exists 2; anything else 1.
   */
  static int exitCode(Throwable e) {
    if (e instanceof Failure f) return f.isBadInput() ? EXIT_INVALID : EXIT_FAILURE;
    if (e instanceof CommandLine.ParameterException || e instanceof FileAlreadyExistsException)
      return EXIT_INVALID;
    return EXIT_FAILURE;
  }

  /** The one-line message of a failed command. */
  static String describe(Throwable e) {
    if (e instanceof NoSuchFileException) return "no such file or directory: " + e.getMessage();
    if (e instanceof FileAlreadyExistsException) {
      FileAlreadyExistsException f = (FileAlreadyExistsException) e;
      return f.getFile() + ": " + (f.getReason() != null ? f.getReason() : "already exists");
    }
    if (e instanceof OutOfMemoryError) return "out of memory: " + e.getMessage();
    String m = e.getMessage();
    if (isSelfExplaining(e)) return m;
    return m == null || m.isBlank()
        ? e.toString()
        : m + (e instanceof RuntimeException ? " (" + e.getClass().getSimpleName() + ")" : "");
  }

  /**
   * Amalgam's own failures carry complete messages; other runtime exceptions are named by their
   * class.
   */
  private static boolean isSelfExplaining(Throwable e) {
    // llama.cpp environment failures have always been printed with their class name; the text
    // stays.
    if (e instanceof LlamaBridgeException l && !l.isBadInput()) return false;
    return e instanceof Failure;
  }

  /** A user-facing input problem detected by a command (exit code 2). */
  static final class InvalidInputException extends RuntimeException implements Failure {
    private static final long serialVersionUID = 1L;

    InvalidInputException(String message) {
      super(message);
    }

    @Override
    public FailureReason failureReason() {
      return FailureReason.BAD_INPUT;
    }
  }

  /** Reads the version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"amalgam " + (v != null ? v : "(development build)")};
    }
  }
}
