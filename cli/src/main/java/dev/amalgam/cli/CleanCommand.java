package dev.amalgam.cli;

import dev.amalgam.io.StalePartials;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam clean DIR}: removes the partial outputs that interrupted merges, conversions and
 * evaluations left under DIR and that no live process still writes.
 */
@Command(
    name = "clean",
    mixinStandardHelpOptions = true,
    description =
        "Removes stale partial outputs (.NAME.amalgam-partial-*) under DIR that no running process"
            + " writes, and reports the bytes freed.")
final class CleanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "The directory to clean, searched recursively.")
  Path dir;

  @Option(names = "--dry-run", description = "List what would be removed; remove nothing.")
  boolean dryRun;

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(dir)) throw new Main.InvalidInputException(dir + ": not a directory");
    List<StalePartials.Partial> stale = StalePartials.clean(dir, dryRun);
    PrintWriter out = spec.commandLine().getOut();
    long bytes = 0;
    for (StalePartials.Partial p : stale) {
      if (p.restoredTo().isPresent()) {
        out.println(
            (dryRun ? "would put back " : "put back ")
                + p.path()
                + " as "
                + p.restoredTo().get()
                + " (a previous output set aside by an interrupted --force)");
        continue;
      }
      out.println(
          (dryRun ? "would remove " : "removed ")
              + p.path()
              + " ("
              + Sizes.format(p.bytes())
              + ")");
      bytes += p.bytes();
    }
    long removed = stale.stream().filter(p -> p.restoredTo().isEmpty()).count();
    out.printf(
        Locale.ROOT,
        "%s %d stale partial output%s under %s: %s%s%n",
        dryRun ? "found" : "removed",
        removed,
        removed == 1 ? "" : "s",
        dir,
        Sizes.format(bytes),
        dryRun ? " would be freed" : " freed");
    return 0;
  }
}
