package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.eval.metrics.MeteorTokenization;
import dev.amalgam.eval.score.MetricSuite;
import dev.amalgam.eval.score.ScoreOptions;
import dev.amalgam.eval.score.ScoreOptions.Metric;
import dev.amalgam.eval.score.TextScores;
import dev.amalgam.eval.text.CsvReader;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The golden MTS-Dialog set (400 pairs scored offline by the reference implementations) through the
 * metric suite's Java API and through {@code amalgam score}: every per-row ROUGE (with and without
 * stemming), sentence BLEU and METEOR (both tokenizations) to 1e-6, corpus BLEU and its signature;
 * these need the external golden data. The command's table, intervals, BERTScore and bad-input
 * errors are checked on small files written here.
 */
class ScoreCommandTest {
  private static final double TOLERANCE = 1e-6;
  private static final String[] ROUGE = {"rouge1", "rouge2", "rougeL", "rougeLsum"};
  private static Path input;
  private static CsvReader.Table golden;
  private static JsonNode summary;
  private static List<String> references;
  private static List<String> predictions;
  @TempDir Path tmp;

  /** The golden file and its inputs (external data), loaded by the tests that compare with them. */
  private static void loadGolden() throws IOException {
    if (golden != null) return;
    input =
        TestAssets.externalData(
            "mts-dialog/Correlation-Study/MTS-Dialog-Automatic-Summaries-ValidationSet.csv");
    Path goldenDir = TestAssets.externalData("golden");
    CsvReader.Table table = CsvReader.read(input);
    references = table.column("Reference Summary");
    predictions = table.column("Automatic Summary");
    golden = CsvReader.read(goldenDir.resolve("mts_dialog_val_autosummaries_metrics.csv"));
    summary =
        new ObjectMapper()
            .readTree(goldenDir.resolve("mts_dialog_val_autosummaries_summary.json").toFile());
  }

  private static double golden(int row, String column) {
    return Double.parseDouble(golden.rows().get(row).get(golden.columnIndex(column)));
  }

  private static void assertColumn(String column, java.util.function.IntToDoubleFunction actual) {
    List<String> bad = new ArrayList<>();
    for (int row = 0; row < golden.rows().size(); row++) {
      double diff = Math.abs(golden(row, column) - actual.applyAsDouble(row));
      if (!(diff <= TOLERANCE))
        bad.add("row " + row + ": " + actual.applyAsDouble(row) + " vs " + golden(row, column));
    }
    assertEquals(
        List.of(),
        bad.subList(0, Math.min(5, bad.size())),
        column + ": " + bad.size() + " of 400 differ");
  }

  @Test
  void javaApiEqualsTheReferenceOnEveryRow() throws IOException {
    loadGolden();
    ScoreOptions base =
        ScoreOptions.builder()
            .metrics(EnumSet.of(Metric.ROUGE, Metric.BLEU, Metric.METEOR))
            .build();
    for (boolean stem : new boolean[] {false, true}) {
      for (MeteorTokenization tok : MeteorTokenization.values()) {
        ScoreOptions options = base.toBuilder().stem(stem).meteorTokenization(tok).build();
        try (MetricSuite suite = MetricSuite.create(options, w -> {})) {
          TextScores s = suite.score(predictions, references);
          assertEquals(400, s.size());
          for (String type : ROUGE) {
            String suffix = stem ? "_stem" : "_nostem";
            assertColumn(type + "_f" + suffix, i -> s.perExample(i).get(type + "_f"));
            if (!stem) {
              assertColumn(type + "_p" + suffix, i -> s.perExample(i).get(type + "_p"));
              assertColumn(type + "_r" + suffix, i -> s.perExample(i).get(type + "_r"));
            }
          }
          assertColumn("sentence_bleu_sacrebleu", i -> s.perExample(i).get("sentence_bleu"));
          assertColumn(
              tok == MeteorTokenization.WHITESPACE
                  ? "meteor_nltk_whitespace"
                  : "meteor_nltk_treebank_preserve_line",
              i -> s.perExample(i).get("meteor"));
          Map<String, Double> corpus = s.aggregate(IntStream.range(0, 400).toArray());
          assertEquals(
              summary.get("corpus_bleu_sacrebleu_default").asDouble(),
              corpus.get("bleu"),
              TOLERANCE);
          assertEquals(summary.get("corpus_bleu_signature").asText(), s.signatures().get("bleu"));
          assertEquals(
              summary.get("means").get("rougeL_f" + (stem ? "_stem" : "_nostem")).asDouble(),
              corpus.get("rougeL"),
              TOLERANCE);
          // no BERTScore, so the default composite (which needs it) is not reported
          assertFalse(corpus.containsKey("composite"));
        }
      }
    }
  }

  @Test
  void cliEqualsTheReferenceOnEveryRowAndWritesPerExampleLines() throws IOException {
    loadGolden();
    Path perExample = tmp.resolve("rows.jsonl");
    CliHarness.Run r =
        run(
            "score",
            "--data",
            input.toString(),
            "--pred",
            "Automatic Summary",
            "--ref",
            "Reference Summary",
            "--metrics",
            "rouge,bleu,meteor",
            "--meteor-tokenizer",
            "whitespace",
            "--per-example",
            perExample.toString(),
            "--json",
            "--composite",
            "rougeL,bleu,meteor");
    r.assertOk();
    JsonNode corpus = new ObjectMapper().readTree(r.out());
    assertEquals(400, corpus.get("count").asInt());
    assertEquals(
        summary.get("corpus_bleu_sacrebleu_default").asDouble(),
        corpus.get("bleu").asDouble(),
        TOLERANCE);
    assertEquals(
        summary.get("corpus_bleu_signature").asText(), corpus.get("bleu_signature").asText());
    for (String key : new String[] {"rouge1", "rouge2", "rougeL", "rougeLsum"}) {
      assertEquals(
          summary.get("means").get(key + "_f_nostem").asDouble(),
          corpus.get(key).asDouble(),
          TOLERANCE);
    }
    assertEquals(
        summary.get("means").get("sentence_bleu_sacrebleu").asDouble(),
        corpus.get("sentence_bleu").asDouble(),
        TOLERANCE);
    assertEquals(
        summary.get("means").get("meteor_nltk_whitespace").asDouble(),
        corpus.get("meteor").asDouble(),
        TOLERANCE);
    double composite =
        (100 * corpus.get("rougeL").asDouble()
                + corpus.get("bleu").asDouble()
                + 100 * corpus.get("meteor").asDouble())
            / 3;
    assertEquals(composite, corpus.get("composite").asDouble(), 1e-9);
    assertEquals("mean(100*rougeL, bleu, 100*meteor)", corpus.get("composite_definition").asText());
    assertTrue(corpus.has("bleu_hf"));

    List<String> lines = Files.readAllLines(perExample, StandardCharsets.UTF_8);
    assertEquals(400, lines.size());
    List<JsonNode> rows = new ArrayList<>();
    for (String line : lines) rows.add(new ObjectMapper().readTree(line));
    for (int i = 0; i < 400; i++) assertEquals(i, rows.get(i).get("index").asInt());
    for (String type : ROUGE) {
      for (String part : new String[] {"p", "r", "f"}) {
        assertColumn(
            type + "_" + part + "_nostem", i -> rows.get(i).get(type + "_" + part).asDouble());
      }
    }
    assertColumn("sentence_bleu_sacrebleu", i -> rows.get(i).get("sentence_bleu").asDouble());
    assertColumn("meteor_nltk_whitespace", i -> rows.get(i).get("meteor").asDouble());

    CliHarness.Run stemmed =
        run(
            "score",
            "--data",
            input.toString(),
            "--pred",
            "Automatic Summary",
            "--ref",
            "Reference Summary",
            "--metrics",
            "rouge",
            "--stem",
            "--json");
    stemmed.assertOk();
    assertEquals(
        summary.get("means").get("rougeL_f_stem").asDouble(),
        new ObjectMapper().readTree(stemmed.out()).get("rougeL").asDouble(),
        TOLERANCE);
  }

  @Test
  void tableOutputAndBootstrapIntervals() throws IOException {
    Path data = tmp.resolve("pairs.jsonl");
    Files.writeString(
        data,
        "{\"p\": \"the cat sat on the mat\", \"r\": \"a cat was sitting on the mat\"}\n"
            + "{\"p\": \"no fever\", \"r\": \"patient denies fever\"}\n\n"
            + "{\"p\": \"chest pain\", \"r\": \"chest pain for two days\"}\n");
    CliHarness.Run r =
        run(
            "score",
            "--data",
            data.toString(),
            "--pred",
            "p",
            "--ref",
            "r",
            "--metrics",
            "rouge,bleu,meteor",
            "--ci");
    r.assertOk();
    assertTrue(r.out().contains("3 examples scored"), r.out());
    assertTrue(r.out().contains("BLEU = "), r.out());
    assertTrue(r.out().contains("nltk3.8|wn3.0"), r.out());
    assertTrue(
        r.out().matches("(?s).*rougeL\\s+\\d\\.\\d{4}\\s+\\[\\d\\.\\d{4}, \\d\\.\\d{4}\\].*"),
        r.out());
  }

  @Test
  void bertScoreAndTheDefaultCompositeThroughTheCli() throws IOException {
    Path data = tmp.resolve("pairs.csv");
    Files.writeString(
        data,
        "pred,ref\n\"Patient reports chest pain, no fever.\",\"The patient has chest pain but "
            + "no fever.\"\nHello world,Hello world\n");
    CliHarness.Run r =
        run("score", "--data", data.toString(), "--pred", "pred", "--ref", "ref", "--json");
    r.assertOk();
    JsonNode n = new ObjectMapper().readTree(r.out());
    assertEquals(
        "all-MiniLM-L6-v2_L6_no-idf_version=0.3.12(onnx)",
        n.get("signatures").get("bertscore").asText());
    assertTrue(
        n.get("bertscore_f").asDouble() > 0.8 && n.get("bertscore_f").asDouble() <= 1.0 + 1e-6,
        r.out());
    double expected =
        (100 * n.get("rougeL").asDouble()
                + n.get("bleu").asDouble()
                + 100 * n.get("meteor").asDouble()
                + 100 * n.get("bertscore_f").asDouble())
            / 4;
    assertEquals(expected, n.get("composite").asDouble(), 1e-9);
    assertEquals(
        "mean(100*rougeL, bleu, 100*meteor, 100*bertscore_f)",
        n.get("composite_definition").asText());
  }

  @Test
  void badInputExitsTwoWithOneLine() throws IOException {
    Path csv = tmp.resolve("x.csv");
    Files.writeString(csv, "a,b\n1,2\n");
    Path jsonl = tmp.resolve("x.jsonl");
    Files.writeString(jsonl, "{\"a\": \"x\", \"b\": \"y\"}\n{\"a\": 3, \"b\": \"y\"}\n");
    Path broken = tmp.resolve("broken.jsonl");
    Files.writeString(broken, "{\"a\": \"x\"\n");
    Path txt = tmp.resolve("x.txt");
    Files.writeString(txt, "a");
    Object[][] cases = {
      {new String[] {"--data", csv.toString(), "--pred", "a", "--ref", "c"}, "no column 'c'"},
      {
        new String[] {"--data", jsonl.toString(), "--pred", "a", "--ref", "b"},
        "line 2: field 'a' is number"
      },
      {
        new String[] {"--data", broken.toString(), "--pred", "a", "--ref", "b"},
        "line 1: not valid JSON"
      },
      {new String[] {"--data", txt.toString(), "--pred", "a", "--ref", "b"}, "unknown data format"},
      {
        new String[] {"--data", tmp.resolve("none.csv").toString(), "--pred", "a", "--ref", "b"},
        "none.csv"
      },
      {
        new String[] {
          "--data", csv.toString(), "--pred", "a", "--ref", "b", "--metrics", "rouge,cider"
        },
        "unknown metric 'cider'"
      },
      {
        new String[] {
          "--data", csv.toString(), "--pred", "a", "--ref", "b", "--meteor-tokenizer", "punkt"
        },
        "--meteor-tokenizer must be whitespace or treebank"
      },
      {
        new String[] {
          "--data", csv.toString(), "--pred", "a", "--ref", "b", "--composite", "rougeX"
        },
        "unknown component 'rougeX'"
      },
      {
        new String[] {
          "--data", csv.toString(), "--pred", "a", "--ref", "b", "--bertscore-model", csv.toString()
        },
        "needs both its ONNX model and its tokenizer.json"
      }
    };
    for (Object[] c : cases) {
      String[] args = (String[]) c[0];
      String[] full = new String[args.length + 1];
      full[0] = "score";
      System.arraycopy(args, 0, full, 1, args.length);
      CliHarness.Run r = run(full);
      assertEquals(Main.EXIT_INVALID, r.exitCode(), String.join(" ", full) + "\n" + r.err());
      assertTrue(r.err().contains((String) c[1]), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
    }
  }
}
