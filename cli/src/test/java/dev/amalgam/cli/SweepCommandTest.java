package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.sweep.SlurmExecutor;
import dev.amalgam.synthetic.PerturbedGguf;
import dev.amalgam.testing.TestAssets;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code amalgam sweep} end to end on stories260K and a perturbed copy: 3 values of t, linear and
 * SLERP, one refinement point, 5 examples of MTS-Dialog and of a tiny IFEval set (16 tokens each).
 * One full run is shared by the tests: its outputs, a rerun that does no work, a run killed between
 * points that resumes to the same results.jsonl, the same sweep through a real Slurm (when one
 * answers), and report.html in headless Chromium (when installed).
 */
class SweepCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Five IFEval-format prompts whose instructions need no external data. */
  private static final String IFEVAL =
      "{\"key\": 1, \"prompt\": \"Write a story about a girl. Do not use any commas.\","
          + " \"instruction_id_list\": [\"punctuation:no_comma\"], \"kwargs\": [{}]}\n"
          + "{\"key\": 2, \"prompt\": \"Tell a story about a dog in lowercase letters only.\","
          + " \"instruction_id_list\": [\"change_case:english_lowercase\"], \"kwargs\": [{}]}\n"
          + "{\"key\": 3, \"prompt\": \"Write about the sun in fewer than 40 words.\","
          + " \"instruction_id_list\": [\"length_constraints:number_words\"],"
          + " \"kwargs\": [{\"relation\": \"less than\", \"num_words\": 40}]}\n"
          + "{\"key\": 4, \"prompt\": \"Write a story that mentions a cat.\","
          + " \"instruction_id_list\": [\"keywords:existence\"], \"kwargs\": [{\"keywords\": [\"cat\"]}]}\n"
          + "{\"key\": 5, \"prompt\": \"Wrap your whole story about a tree in double quotation marks.\","
          + " \"instruction_id_list\": [\"startend:quotation\"], \"kwargs\": [{}]}\n";

  @TempDir static Path dir;
  static Path sweepFile;
  static Path first;
  static CliHarness.Run firstRun;
  static double firstSeconds;

  @BeforeAll
  static void runTheSweepOnce() throws IOException {
    Path perturbed = dir.resolve("perturbed.gguf");
    PerturbedGguf.write(TestAssets.stories260K(), perturbed, 0.3, 7);
    Path ifeval = Files.createDirectories(dir.resolve("ifeval").resolve("data"));
    Files.writeString(ifeval.resolve("input_data.jsonl"), IFEVAL, StandardCharsets.UTF_8);
    sweepFile = dir.resolve("tiny-sweep.yml");
    Files.writeString(
        sweepFile,
        String.join(
            "\n",
            "name: tiny",
            "models:",
            "  - name: clinical",
            "    path: " + TestAssets.stories260K(),
            "  - name: instruct",
            "    path: perturbed.gguf",
            "base: clinical",
            "grid:",
            "  methods: [linear, slerp]",
            "  t: {from: 0.25, to: 0.75, step: 0.25}",
            "  refine: 1",
            "evaluation:",
            "  threads: 1",
            "  ctx: 2048",
            "  metrics: [rouge, bleu, meteor]",
            "  composite: rougeL:1,bleu:1,meteor:1",
            "  bootstrap_samples: 200",
            "  tasks:",
            "    - task: mts-dialog",
            "      data: " + TestAssets.mtsDialogSlice(),
            "      limit: 5",
            "      max_tokens: 16",
            "    - task: ifeval",
            "      data: ifeval",
            "      limit: 5",
            "      max_tokens: 16",
            "output:",
            "  type: f32",
            "recommend:",
            "  tolerance: 0.2",
            "slurm:",
            "  cpus: 1",
            "  mem: 1G",
            "  time: \"00:20:00\"",
            "  poll_seconds: 1",
            "  max_retries: 1",
            ""),
        StandardCharsets.UTF_8);
    first = dir.resolve("first");
    long start = System.nanoTime();
    firstRun = CliHarness.run("sweep", sweepFile.toString(), "--out", first.toString());
    firstSeconds = (System.nanoTime() - start) / 1e9;
  }

  private static List<JsonNode> rows(Path out) throws IOException {
    List<JsonNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("results.jsonl"), StandardCharsets.UTF_8)) {
      rows.add(JSON.readTree(line));
    }
    return rows;
  }

  @Test
  void theSweepWritesEveryOutput() throws IOException {
    firstRun.assertOk();
    // 6 grid merges and 1 refinement point; 9 points x 2 tasks.
    assertTrue(
        firstRun.out().contains("sweep tiny: 9 points; merges run: 7, evaluations run: 18"),
        firstRun.out() + "\n" + firstRun.err());
    assertTrue(firstRun.err().contains("refinement adds 1 points: "), firstRun.err());
    List<JsonNode> rows = rows(first);
    assertEquals(9, rows.size(), "2 inputs, 6 grid points, 1 refined");
    assertEquals("refine", rows.get(8).get("kind").asText());
    assertEquals("input clinical", rows.get(0).get("label").asText());
    assertEquals("input instruct", rows.get(1).get("label").asText());
    assertEquals("linear t=0.25", rows.get(2).get("label").asText());
    assertEquals("slerp t=0.75", rows.get(7).get("label").asText());
    int front = 0;
    int recommended = 0;
    for (JsonNode r : rows) {
      for (String task : List.of("mts-dialog", "ifeval")) {
        JsonNode t = r.at("/tasks/" + task);
        assertEquals(5, t.get("count").asInt(), r.toString());
        assertEquals(64, t.get("eval_key").asText().length());
      }
      assertTrue(r.at("/tasks/mts-dialog/metrics/composite").isNumber(), r.toString());
      assertTrue(r.at("/tasks/ifeval/metrics/prompt_level_strict_acc").isNumber(), r.toString());
      JsonNode clinical = r.at("/objectives/clinical");
      assertEquals(
          r.at("/tasks/mts-dialog/metrics/composite").asDouble(), clinical.get("value").asDouble());
      assertTrue(clinical.get("ci95").get(0).asDouble() <= clinical.get("value").asDouble());
      assertTrue(clinical.get("ci95").get(1).asDouble() >= clinical.get("value").asDouble());
      if (r.get("pareto").asBoolean()) front++;
      if (r.get("recommended").asBoolean()) {
        recommended++;
        assertFalse(
            r.get("kind").asText().equals("input"), "an input model is never the recommendation");
      }
    }
    assertTrue(front >= 1, "the Pareto front has a point");
    assertEquals(
        1, recommended, "every merge is within 0.2 of the instruct model's IFEval accuracy");
    for (String chart : List.of("tradeoff", "metrics")) {
      byte[] png = Files.readAllBytes(first.resolve(chart + ".png"));
      assertArrayEquals(
          new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4), chart);
      BufferedImage image = ImageIO.read(first.resolve(chart + ".png").toFile());
      assertTrue(image.getWidth() >= 1000 && image.getHeight() >= 400, chart);
      assertTrue(png.length > 20_000, chart + ".png has " + png.length + " bytes");
      assertTrue(nonWhiteShare(image) > 0.02, chart + ".png is nearly blank");
      String svg = Files.readString(first.resolve(chart + ".svg"));
      assertTrue(svg.length() > 20_000, chart + ".svg has " + svg.length() + " characters");
      assertTrue(svg.contains("<svg") && svg.strip().endsWith("</svg>"), chart);
      assertSvgParses(first.resolve(chart + ".svg"));
    }
    String report = Files.readString(first.resolve("report.md"));
    assertTrue(
        report.contains("## Recommendation") && report.contains("![trade-off chart](tradeoff.png)"),
        report);
    assertTrue(report.contains("## Pareto front") && report.contains("linear t=0.5"), report);
    String html = Files.readString(first.resolve("report.html"));
    assertEquals(2, html.split("<svg", -1).length - 1, "both charts inline as SVG");
    assertFalse(html.contains("<script"), "no scripts");
    assertFalse(
        java.util.regex.Pattern.compile("(src|href)\\s*=\\s*['\"]?(https?:|//)")
            .matcher(html)
            .find(),
        "nothing fetched from the network");
    assertTrue(Files.isRegularFile(first.resolve("plan.json")));
    // The report's comparison with the clinical model is what amalgam compare prints for it.
    java.util.regex.Matcher example =
        java.util.regex.Pattern.compile("for example: `amalgam compare ([^`]+)`").matcher(report);
    assertTrue(example.find(), report);
    List<String> compare = new ArrayList<>(List.of("compare"));
    compare.addAll(List.of(example.group(1).split(" ")));
    compare.add("--json");
    CliHarness.Run compared = CliHarness.run(compare.toArray(String[]::new));
    compared.assertOk();
    JsonNode composite = JSON.readTree(compared.out()).at("/metrics/composite");
    String row =
        String.format(
            java.util.Locale.ROOT,
            "| mts-dialog | clinical | composite | %.4f | %.4f | %+.4f | [%+.4f, %+.4f] | %.4f |",
            composite.get("a").asDouble(),
            composite.get("b").asDouble(),
            composite.get("delta").asDouble(),
            composite.get("ci95").get(0).asDouble(),
            composite.get("ci95").get(1).asDouble(),
            composite.get("p_value").asDouble());
    assertTrue(report.contains(row), row + "\n" + report);
    // The recommended merge's configuration merges to a model again.
    Path remade = dir.resolve("recommended.gguf");
    CliHarness.run(
            "merge",
            first.resolve("recommended-merge.yml").toString(),
            remade.toString(),
            "--out-type",
            "f32",
            "--no-progress")
        .assertOk();
    assertTrue(Files.size(remade) > 1_000_000);
    try (Stream<Path> merges = Files.list(first.resolve("cache").resolve("merges"))) {
      assertEquals(
          0,
          merges.filter(p -> p.toString().endsWith(".gguf")).count(),
          "merged models are deleted once evaluated");
    }
  }

  @Test
  void aRerunDoesNoWorkAndWritesTheSameResults() throws IOException {
    firstRun.assertOk();
    String before = Files.readString(first.resolve("results.jsonl"));
    long start = System.nanoTime();
    CliHarness.Run again = CliHarness.run("sweep", sweepFile.toString(), "--out", first.toString());
    again.assertOk();
    assertTrue(again.out().contains("merges run: 0, evaluations run: 0"), again.out());
    assertEquals(before, Files.readString(first.resolve("results.jsonl")));
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(seconds < firstSeconds, "rerun " + seconds + " s, first run " + firstSeconds + " s");
  }

  @Test
  void aRunKilledBetweenPointsResumesToTheSameResults() throws Exception {
    firstRun.assertOk();
    Path killed = dir.resolve("killed");
    List<String> command = new ArrayList<>(SweepCommand.launcher());
    command.addAll(List.of("sweep", sweepFile.toString(), "--out", killed.toString()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    int done = 0;
    StringBuilder seen = new StringBuilder();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        seen.append(line).append('\n');
        // Killed (SIGKILL) right after the third point finishes: between grid points.
        if (line.contains(": done in ") && ++done == 3) {
          p.destroyForcibly();
          break;
        }
      }
    } finally {
      p.destroyForcibly();
      p.waitFor(60, TimeUnit.SECONDS);
    }
    assertEquals(3, done, seen.toString());
    assertFalse(Files.exists(killed.resolve("results.jsonl")), "the killed run never finished");
    CliHarness.Run resumed =
        CliHarness.run("sweep", sweepFile.toString(), "--out", killed.toString());
    resumed.assertOk();
    assertFalse(resumed.out().contains("evaluations run: 0,"), resumed.out());
    assertTrue(resumed.err().contains("points to run"), resumed.err());
    assertEquals(
        Files.readString(first.resolve("results.jsonl")),
        Files.readString(killed.resolve("results.jsonl")));
  }

  @Test
  void theDryRunPrintsThePlanAndTheEstimateTimesTheSteps() {
    CliHarness.Run plan =
        CliHarness.run(
            "sweep", sweepFile.toString(), "--out", dir.resolve("planned").toString(), "--dry-run");
    plan.assertOk();
    assertTrue(
        plan.out().contains("merges: 6 (6 to run); evaluations: 16 (16 to run)"), plan.out());
    assertTrue(
        plan.out().contains("slerp t=0.5") && plan.out().contains("input instruct"), plan.out());
    assertTrue(plan.out().contains("refinement: up to 1 more points"), plan.out());
    assertTrue(plan.out().contains("disk: each merge writes about"), plan.out());
    assertFalse(Files.exists(dir.resolve("planned").resolve("results.jsonl")));
    CliHarness.Run cached =
        CliHarness.run("sweep", sweepFile.toString(), "--out", first.toString(), "--dry-run");
    cached.assertOk();
    assertTrue(
        cached.out().contains("merges: 6 (0 to run); evaluations: 16 (0 to run)"), cached.out());
    CliHarness.Run estimate =
        CliHarness.run(
            "sweep",
            sweepFile.toString(),
            "--out",
            dir.resolve("estimated").toString(),
            "--estimate");
    estimate.assertOk();
    assertTrue(estimate.out().contains("merge of linear t=0.25: "), estimate.out());
    assertTrue(
        estimate.out().contains("mts-dialog: ") && estimate.out().contains(" per example"),
        estimate.out());
    assertTrue(
        estimate.out().contains("estimated wall time on this machine: about "), estimate.out());
  }

  @Test
  void onePointRunsAloneFromThePlanOfItsSweepFile() throws IOException {
    firstRun.assertOk();
    String out = first.toString();
    CliHarness.Run one =
        CliHarness.run("sweep", sweepFile.toString(), "--out", out, "--point", "0");
    one.assertOk();
    assertTrue(one.err().contains("[1/9] input clinical: done"), one.err());
    CliHarness.run("sweep", sweepFile.toString(), "--out", out, "--point", "42")
        .assertInvalid("--point 42: the plan has points 0 to 8");
    Path edited = dir.resolve("edited.yml");
    Files.writeString(edited, Files.readString(sweepFile) + "# edited\n");
    CliHarness.run("sweep", edited.toString(), "--out", out, "--point", "1")
        .assertInvalid("plan.json: written for another version of " + edited);
  }

  @Test
  void aBadSweepFileIsOneLineNamingTheYamlPath() throws IOException {
    Path bad = dir.resolve("bad.yml");
    Files.writeString(
        bad,
        Files.readString(sweepFile)
            .replace("t: {from: 0.25, to: 0.75, step: 0.25}", "t: [0.2, x]"));
    CliHarness.run("sweep", bad.toString(), "--dry-run")
        .assertInvalid("bad.yml: grid.t[1]: not a number: x");
    Path unknown = dir.resolve("unknown.yml");
    Files.writeString(unknown, Files.readString(sweepFile).replace("  refine: 1", "  refines: 1"));
    CliHarness.run("sweep", unknown.toString(), "--dry-run")
        .assertInvalid("unknown.yml: grid.refines: unknown key");
  }

  @Test
  void theSameSweepThroughSlurmGivesTheSameResults() throws IOException {
    firstRun.assertOk();
    assumeTrue(
        SlurmExecutor.available(),
        "no Slurm here: sinfo does not answer (.ci/slurm-up.sh starts a one-node cluster)");
    Path slurm = dir.resolve("slurm");
    CliHarness.Run run =
        CliHarness.run(
            "sweep", sweepFile.toString(), "--out", slurm.toString(), "--executor", "slurm");
    run.assertOk();
    assertTrue(run.err().contains("submitted Slurm job array"), run.err());
    assertTrue(run.out().contains("points run as Slurm tasks: 9"), run.out());
    assertEquals(
        Files.readString(first.resolve("results.jsonl")),
        Files.readString(slurm.resolve("results.jsonl")));
    try (Stream<Path> logs = Files.list(slurm.resolve("slurm").resolve("logs"))) {
      assertTrue(logs.count() >= 8, "one log per array task");
    }
  }

  @Test
  void theHtmlReportOpensInHeadlessChromiumWithoutConsoleErrors() throws Exception {
    firstRun.assertOk();
    String chromium =
        Stream.of("chromium", "chromium-browser")
            .map(
                name ->
                    Stream.of(System.getenv("PATH").split(File.pathSeparator))
                        .map(d -> Path.of(d, name)))
            .flatMap(s -> s)
            .filter(Files::isExecutable)
            .map(Path::toString)
            .findFirst()
            .orElse(null);
    assumeTrue(
        chromium != null,
        "no chromium on PATH (Debian: apt-get install chromium); report.html not opened");
    // A page with a deliberate console error shows that the check below can see one.
    Path probe = dir.resolve("probe.html");
    Files.writeString(
        probe,
        "<!DOCTYPE html><html><body><p>probe</p><script>console.error('amalgam-probe-error')</script></body></html>");
    Chromium probed =
        Chromium.open(chromium, probe, dir.resolve("probe.png"), dir.resolve("chromium-probe"));
    assertTrue(
        probed.consoleErrors().stream().anyMatch(l -> l.contains("amalgam-probe-error")),
        probed.log());
    Chromium opened =
        Chromium.open(
            chromium,
            first.resolve("report.html"),
            dir.resolve("report.png"),
            dir.resolve("chromium-report"));
    assertTrue(opened.consoleErrors().isEmpty(), opened.log());
    BufferedImage shot = ImageIO.read(dir.resolve("report.png").toFile());
    assertTrue(shot != null && shot.getWidth() > 0, opened.log());
    assertTrue(nonWhiteShare(shot) > 0.01, "the screenshot is nearly blank");
  }

  /** One headless Chromium run: a screenshot and the console messages it logged. */
  private record Chromium(List<String> consoleErrors, String log) {
    static Chromium open(String binary, Path page, Path screenshot, Path profile) throws Exception {
      Files.createDirectories(profile);
      List<String> command =
          List.of(
              binary,
              "--headless",
              "--no-sandbox",
              "--disable-gpu",
              "--disable-background-networking",
              "--disable-component-update",
              "--disable-sync",
              "--no-first-run",
              "--user-data-dir=" + profile,
              "--enable-logging=stderr",
              "--v=0",
              "--hide-scrollbars",
              "--window-size=1600,1400",
              "--virtual-time-budget=3000",
              "--screenshot=" + screenshot,
              page.toUri().toString());
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish");
      assertTrue(Files.isRegularFile(screenshot), "no screenshot:\n" + log);
      List<String> errors = new ArrayList<>();
      for (String line : log.split("\n")) {
        boolean console = line.contains("CONSOLE") || line.contains("console");
        if (console
            && (line.contains("ERROR")
                || line.toLowerCase().contains("error")
                || line.contains("Uncaught"))) {
          errors.add(line);
        }
      }
      return new Chromium(errors, log);
    }
  }

  private static double nonWhiteShare(BufferedImage image) {
    long nonWhite = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        if ((image.getRGB(x, y) & 0xffffff) != 0xffffff) nonWhite++;
      }
    }
    return nonWhite / (double) ((long) image.getWidth() * image.getHeight());
  }

  private static void assertSvgParses(Path svg) {
    try {
      javax.xml.parsers.DocumentBuilderFactory f =
          javax.xml.parsers.DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      // JFreeSVG names the SVG 1.0 DTD; the check must not fetch it.
      f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
      assertEquals(
          "svg", f.newDocumentBuilder().parse(svg.toFile()).getDocumentElement().getLocalName());
    } catch (Exception e) {
      throw new AssertionError(svg + " is not well-formed XML: " + e.getMessage(), e);
    }
  }
}
