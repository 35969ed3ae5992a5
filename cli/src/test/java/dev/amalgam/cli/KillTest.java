package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real {@code amalgam merge} processes (child JVMs on this test's class path) stopped at many
 * points of their life: SIGKILL at file-system milestones (the partial created, the first shard
 * begun, half written, complete under its temporary name, renamed into place) and at delays spread
 * over a measured full run; SIGTERM and SIGINT mid-merge. Whatever the timing, OUT must be absent
 * or byte-identical to a reference merge, each run must remove the stale partial of the run killed
 * before it, and a final complete run must leave OUT and nothing else.
 *
 * <p>{@value #POINTS_PROPERTY} sets the number of kill points (default {@value #DEFAULT_POINTS});
 * the heavy variant runs {@value #HEAVY_POINTS}.
 */
class KillTest {
  static final String POINTS_PROPERTY = "amalgam.killtest.points";
  static final int DEFAULT_POINTS = 20;
  static final int HEAVY_POINTS = 100;

  /** About 40 MB per model in bf16: a merge takes a second or two in a fresh JVM. */
  static final SyntheticLlama.Shape SHAPE =
      new SyntheticLlama.Shape(6, 512, 1376, 6000, 8, 4, false);

  private static final long CHILD_TIMEOUT_SECONDS = 120;
  private static final int EXIT_SIGKILL = 128 + 9;

  @TempDir static Path shared;
  static Path config;
  static Reference referenceHf;
  static Reference referenceGguf;
  static Timeline fullRun;

  @BeforeAll
  static void prepare() throws Exception {
    Path a = CliHarness.model(shared.resolve("a"), SHAPE, DType.BF16, 11, 0, 0);
    Path b = CliHarness.model(shared.resolve("b"), SHAPE, DType.BF16, 11, 0.5, 3);
    // A GGUF output carries the tokenizer.
    SyntheticTokenizers.writeSentencePiece(a, SHAPE.vocab());
    SyntheticTokenizers.writeSentencePiece(b, SHAPE.vocab());
    config =
        CliHarness.config(
            shared,
            "slerp.yml",
            String.join(
                "\n",
                "merge_method: slerp",
                "base_model: " + a,
                "models:",
                "  - model: " + a,
                "  - model: " + b,
                "parameters:",
                "  t: 0.4",
                "dtype: bfloat16",
                ""));
    // The model card names the output, so every output here is called out or out.gguf.
    Path hf = shared.resolve("reference/out");
    CliHarness.run("merge", config.toString(), hf.toString(), "--no-progress").assertOk();
    referenceHf = Reference.of(hf);
    Path gguf = shared.resolve("reference/out.gguf");
    CliHarness.run("merge", config.toString(), gguf.toString(), "--no-progress").assertOk();
    referenceGguf = Reference.of(gguf);

    // A full run in a child JVM: the yardstick for the kill delays, and proof that a child's
    // output is the in-process reference. The GGUF points are milestones, which need no yardstick.
    Files.createDirectories(shared.resolve("measured"));
    fullRun = measureFullRun(shared.resolve("measured/out"), referenceHf);
  }

  @Test
  void killedMergesLeaveEitherNothingOrTheCompleteModel() throws Exception {
    int points = Integer.getInteger(POINTS_PROPERTY, DEFAULT_POINTS);
    killAtPoints(shared.resolve("hf-" + points), "out", referenceHf, schedule(points));
  }

  @Test
  @Tag("heavy")
  void hundredKillPoints() throws Exception {
    killAtPoints(shared.resolve("hf-heavy"), "out", referenceHf, schedule(HEAVY_POINTS));
  }

  @Test
  void killedGgufMergesLeaveEitherNothingOrTheCompleteFile() throws Exception {
    // The points where a single file differs from a directory: written in place, complete under its
    // temporary name, and renamed (a hard link, then the temporary name removed).
    List<KillPoint> points = new ArrayList<>();
    for (Milestone m :
        List.of(
            Milestone.HALF_WRITTEN, Milestone.COMPLETE_UNDER_TEMPORARY_NAME, Milestone.RENAMED)) {
      points.add(new KillPoint(m, 0));
    }
    killAtPoints(shared.resolve("gguf"), "out.gguf", referenceGguf, points);
  }

  @Test
  void sigtermMidMergeLeavesNoPartialAndNoOutput() throws Exception {
    stopMidMerge(shared.resolve("term"), "out", "TERM");
  }

  @Test
  void sigintMidMergeLeavesNoPartialAndNoOutput() throws Exception {
    stopMidMerge(shared.resolve("int"), "out", "INT");
  }

  @Test
  void sigtermMidGgufMergeLeavesNoPartialAndNoOutput() throws Exception {
    stopMidMerge(shared.resolve("term-gguf"), "out.gguf", "TERM");
  }

  /** A reference merge made in-process: its files' digests and its size. */
  record Reference(Path path, Map<String, String> digests, long bytes) {
    static Reference of(Path path) throws IOException {
      return new Reference(path, KillTest.digests(path), bytesIn(path));
    }
  }

  /**
   * When, from the start of a child, a full run created its partial, renamed it into place and
   * exited.
   */
  record Timeline(long partialNanos, long renamedNanos, long exitNanos) {}

  /** Where a kill lands: a delay after a file-system milestone (the start, for a plain delay). */
  private record KillPoint(Milestone milestone, long delayNanos) {
    String name() {
      return delayNanos == 0
          ? milestone.name()
          : String.format(Locale.ROOT, "%s + %.0f ms", milestone, delayNanos / 1e6);
    }
  }

  /** A state of the output directory that a poll can see. */
  private enum Milestone {
    START,
    PARTIAL_CREATED,
    FIRST_BYTES,
    HALF_WRITTEN,
    COMPLETE_UNDER_TEMPORARY_NAME,
    RENAMED
  }

  /** What the kill runs found, for the report line. */
  private static final class Tally {
    int killedMidRun;
    int completedFirst;
    int partialsCleaned;
  }

  /**
   * Every milestone, then the rest of the points at delays from the measured full run: a quarter
   * spread over the start-up and planning (before the partial appears), the rest over the writing
   * (from the partial's appearance) and a little past the rename, where a kill has the most to
   * break.
   */
  private static List<KillPoint> schedule(int points) {
    List<KillPoint> schedule = new ArrayList<>();
    for (Milestone m : Milestone.values()) {
      if (schedule.size() < points) schedule.add(new KillPoint(m, 0));
    }
    // Start-up time varies most from run to run, so the writing is timed from the partial's
    // appearance, and a little past the rename.
    long startUp = fullRun.partialNanos();
    long writing = (long) ((fullRun.renamedNanos() - fullRun.partialNanos()) * 1.1);
    int timed = points - schedule.size();
    int early = timed / 4;
    for (int i = 0; i < early; i++) {
      schedule.add(new KillPoint(Milestone.START, (long) (startUp * (i + 0.5) / early)));
    }
    int late = timed - early;
    for (int i = 0; i < late; i++) {
      schedule.add(new KillPoint(Milestone.PARTIAL_CREATED, (long) (writing * (i + 0.5) / late)));
    }
    return schedule;
  }

  private static void killAtPoints(
      Path dir, String outName, Reference reference, List<KillPoint> schedule) throws Exception {
    Files.createDirectories(dir);
    Path out = dir.resolve(outName);
    long began = System.nanoTime();
    Tally tally = new Tally();
    for (KillPoint point : schedule) {
      Set<Path> before = partialsOf(out);
      assertTrue(before.size() <= 1, () -> "at most one partial at a time: " + before);
      Process child = startMerge(out, dir.resolve("child.log"));
      waitFor(point, child, out, reference);
      child.destroyForcibly();
      int exit = awaitExit(child, dir.resolve("child.log"));
      String where = point.name() + ": ";
      Set<Path> after = partialsOf(out);
      Set<Path> own = new HashSet<>();
      for (Path p : after) if (ownedBy(p, child.pid())) own.add(p);
      Set<Path> foreign = new HashSet<>(after);
      foreign.removeAll(own);
      assertTrue(before.containsAll(foreign), () -> where + "partials of unknown runs: " + after);
      assertTrue(own.size() <= 1, () -> where + "one partial per run: " + own);
      if (!own.isEmpty() || Files.exists(out)) {
        // The run got as far as creating its own output: earlier partials must be gone by then.
        assertTrue(foreign.isEmpty(), () -> where + "stale partial not removed: " + foreign);
      }
      for (Path p : before) if (!after.contains(p)) tally.partialsCleaned++;
      if (exit == 0) {
        tally.completedFirst++;
        assertTrue(Files.exists(out), where + "exit 0 without an output");
      } else {
        assertEquals(EXIT_SIGKILL, exit, () -> where + "unexpected exit; log:\n" + log(dir));
        tally.killedMidRun++;
      }
      assertOnlyOutputAndPartials(dir, out);
      if (Files.exists(out)) {
        assertEquals(
            reference.digests(), digests(out), where + "a renamed output must be complete");
        deleteTree(out); // the next run writes it afresh
      }
    }

    Set<Path> before = partialsOf(out);
    Process last = startMerge(out, dir.resolve("child.log"));
    assertEquals(0, awaitExit(last, dir.resolve("child.log")), () -> "final run; " + log(dir));
    for (Path p : before) if (!Files.exists(p)) tally.partialsCleaned++;
    assertEquals(Set.of(), partialsOf(out), "no partial after a complete run");
    assertOnlyOutputAndPartials(dir, out);
    assertEquals(reference.digests(), digests(out), "the final output");
    System.out.printf(
        Locale.ROOT,
        "KillTest %s: %d kill points (%d killed mid-run, %d had finished), %d stale partials"
            + " cleaned, full run %.2f s (partial at %.2f s, renamed at %.2f s), %.1f s in all%n",
        outName,
        schedule.size(),
        tally.killedMidRun,
        tally.completedFirst,
        tally.partialsCleaned,
        fullRun.exitNanos() / 1e9,
        fullRun.partialNanos() / 1e9,
        fullRun.renamedNanos() / 1e9,
        (System.nanoTime() - began) / 1e9);
  }

  /** Sends SIGTERM or SIGINT once the merge is writing tensors, and checks that nothing remains. */
  private static void stopMidMerge(Path dir, String outName, String signal) throws Exception {
    Files.createDirectories(dir);
    Path out = dir.resolve(outName);
    Path log = dir.resolve("child.log");
    Process child = startMerge(out, log);
    waitFor(new KillPoint(Milestone.FIRST_BYTES, 0), child, out, null);
    assumeTrue(child.isAlive(), "the merge finished before it could be stopped");
    boolean ignored = signalIgnored(child.pid(), signal);
    if (ignored) child.destroyForcibly();
    assumeTrue(!ignored, "SIG" + signal + " is ignored in this process tree (inherited)");
    if (signal.equals("TERM")) {
      child.destroy();
    } else {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(child.pid()))
              .redirectErrorStream(true)
              .start();
      assertEquals(0, kill.waitFor(), "kill -" + signal);
    }
    int exit = awaitExit(child, log);
    assertNotEquals(0, exit, () -> "the merge should have been stopped; " + log(dir));
    assertNotEquals(EXIT_SIGKILL, exit);
    assertEquals(Set.of(), partialsOf(out), "SIG" + signal + " must remove the partial");
    assertFalse(Files.exists(out), "SIG" + signal + " mid-merge must not produce " + out);
  }

  /** Polls until the kill point is reached or the child has exited. */
  private static void waitFor(KillPoint point, Process child, Path out, Reference reference)
      throws IOException, InterruptedException {
    long pid = child.pid();
    BooleanSupplier reached =
        switch (point.milestone()) {
          case START -> () -> true;
          case PARTIAL_CREATED -> () -> ownPartial(out, pid) != null;
          case FIRST_BYTES -> () -> bytesIn(ownPartial(out, pid)) > 0;
          case HALF_WRITTEN -> () -> bytesIn(ownPartial(out, pid)) >= reference.bytes() / 2;
          case COMPLETE_UNDER_TEMPORARY_NAME ->
              () -> completeUnderTemporaryName(out, pid, reference);
          case RENAMED -> () -> Files.exists(out);
        };
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(CHILD_TIMEOUT_SECONDS);
    while (!reached.getAsBoolean() && child.isAlive() && System.nanoTime() < giveUp) {
      Thread.sleep(0, 200_000);
    }
    long deadline = System.nanoTime() + point.delayNanos();
    while (System.nanoTime() < deadline && child.isAlive()) Thread.sleep(0, 200_000);
  }

  /**
   * Whether the run's partial holds the whole output under its final names (a model directory with
   * every file of the reference, or a GGUF file of the reference's size): the moment before the
   * rename.
   */
  private static boolean completeUnderTemporaryName(Path out, long pid, Reference reference) {
    Path partial = ownPartial(out, pid);
    if (partial == null) return false;
    if (!Files.isDirectory(partial)) return bytesIn(partial) == reference.bytes();
    for (String name : reference.digests().keySet())
      if (!Files.exists(partial.resolve(name))) return false;
    return true;
  }

  private static Timeline measureFullRun(Path out, Reference reference) throws Exception {
    Path log = out.resolveSibling(out.getFileName() + ".log");
    long start = System.nanoTime();
    Process child = startMerge(out, log);
    long partial = -1;
    long renamed = -1;
    long giveUp = start + TimeUnit.SECONDS.toNanos(CHILD_TIMEOUT_SECONDS);
    while (child.isAlive() && System.nanoTime() < giveUp) {
      if (partial < 0 && ownPartial(out, child.pid()) != null) partial = System.nanoTime() - start;
      if (renamed < 0 && Files.exists(out)) renamed = System.nanoTime() - start;
      Thread.sleep(0, 200_000);
    }
    assertEquals(0, awaitExit(child, log), () -> "measured run: " + read(log));
    long exit = System.nanoTime() - start;
    assertEquals(
        reference.digests(), digests(out), "a child's merge must equal the in-process one");
    deleteTree(out);
    // A phase too short for the poll to see lies at its neighbour's time.
    if (renamed < 0) renamed = exit;
    if (partial < 0) partial = renamed;
    return new Timeline(partial, renamed, exit);
  }

  /**
   * Starts {@code amalgam merge CONFIG OUT} in a child JVM with this JVM's class path (tests run on
   * the class path; the cli module has no module descriptor) and the amalgam.* system properties
   * (the native library's location).
   */
  private static Process startMerge(Path out, Path log) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Flags that shorten the start-up only; the merge is the same program.
    command.addAll(List.of("-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    for (String key : System.getProperties().stringPropertyNames()) {
      if (key.startsWith("amalgam.")) command.add("-D" + key + "=" + System.getProperty(key));
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path")));
    command.addAll(
        List.of(Main.class.getName(), "merge", config.toString(), out.toString(), "--no-progress"));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  private static int awaitExit(Process child, Path log) throws Exception {
    if (!child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      child.destroyForcibly().waitFor();
      fail("the merge did not end in " + CHILD_TIMEOUT_SECONDS + " s; log:\n" + read(log));
    }
    return child.exitValue();
  }

  /**
   * Whether the child ignores the signal (an ignored SIGINT is inherited from a background shell).
   */
  private static boolean signalIgnored(long pid, String signal) throws IOException {
    int number = signal.equals("INT") ? 2 : 15;
    Path status = Path.of("/proc/" + pid + "/status");
    if (!Files.exists(status)) return false;
    for (String line : Files.readAllLines(status, StandardCharsets.UTF_8)) {
      if (line.startsWith("SigIgn:")) {
        long mask = Long.parseUnsignedLong(line.substring(7).strip(), 16);
        return (mask & (1L << (number - 1))) != 0;
      }
    }
    return false;
  }

  /** The partials of {@code out} that exist now: {@code .OUT.amalgam-partial-*} beside it. */
  private static Set<Path> partialsOf(Path out) throws IOException {
    String prefix = "." + out.getFileName() + ".amalgam-partial-";
    try (Stream<Path> s = Files.list(out.getParent())) {
      Set<Path> found = new HashSet<>();
      s.filter(p -> p.getFileName().toString().startsWith(prefix)).forEach(found::add);
      return found;
    }
  }

  private static boolean ownedBy(Path partial, long pid) {
    String name = partial.getFileName().toString();
    String tag = name.substring(name.indexOf(".amalgam-partial-") + ".amalgam-partial-".length());
    return tag.startsWith(Long.toHexString(pid) + "-");
  }

  private static Path ownPartial(Path out, long pid) {
    try {
      for (Path p : partialsOf(out)) if (ownedBy(p, pid)) return p;
    } catch (IOException e) {
      // the directory is changing under the poll; try again next time
    }
    return null;
  }

  /** Bytes under a file or directory, 0 for null or a path that vanishes while counted. */
  private static long bytesIn(Path path) {
    if (path == null) return 0;
    try (Stream<Path> s = Files.walk(path)) {
      return s.mapToLong(
              p -> {
                try {
                  return Files.isRegularFile(p) ? Files.size(p) : 0;
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** Fails if the directory holds anything but OUT, its partials and the child's log. */
  private static void assertOnlyOutputAndPartials(Path dir, Path out) throws IOException {
    String partialPrefix = "." + out.getFileName() + ".amalgam-partial-";
    try (Stream<Path> s = Files.list(dir)) {
      List<String> strays =
          s.map(p -> p.getFileName().toString())
              .filter(
                  n ->
                      !n.equals(out.getFileName().toString())
                          && !n.startsWith(partialPrefix)
                          && !n.equals("child.log"))
              .toList();
      assertEquals(List.of(), strays, "nothing else beside the output");
    }
  }

  /** SHA-256 of every file under {@code root} by relative path (a file alone: key ""). */
  static Map<String, String> digests(Path root) throws IOException {
    Map<String, String> digests = new TreeMap<>();
    if (Files.isRegularFile(root)) {
      digests.put("", sha256(root));
      return digests;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.filter(Files::isRegularFile).toList())
        digests.put(root.relativize(p).toString(), sha256(p));
    }
    return digests;
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) md.update(buffer, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  private static String log(Path dir) {
    return read(dir.resolve("child.log"));
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
