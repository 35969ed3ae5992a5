package dev.amalgam.eval.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.diagnostic.Failure;
import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.eval.bertscore.Baseline;
import dev.amalgam.eval.bertscore.BertScoreException;
import dev.amalgam.eval.bertscore.BertScoreOptions;
import dev.amalgam.eval.bertscore.EmbedderOptions;
import dev.amalgam.eval.harness.DataException;
import dev.amalgam.eval.ifeval.IfevalException;
import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.LlamaBridgeException;
import dev.amalgam.eval.llama.ScorerOptions;
import dev.amalgam.eval.metrics.MeteorTokenization;
import dev.amalgam.eval.score.ScoreOptions.Metric;
import dev.amalgam.eval.text.CsvReader;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The option records' builders and the evaluation exceptions' failure reasons. */
class OptionBuildersTest {
  @Test
  void buildersStartFromTheDefaultsAndToBuilderCopies() {
    Composite composite =
        Composite.defaults(); // no equals of its own: the same instance on both sides
    assertEquals(
        ScoreOptions.defaults().toBuilder().composite(composite).build(),
        ScoreOptions.builder().composite(composite).build());
    assertEquals(
        Composite.defaults().definition(), ScoreOptions.builder().build().composite().definition());
    assertEquals(ScorerOptions.defaults(), ScorerOptions.builder().build());
    assertEquals(EmbedderOptions.defaults(), EmbedderOptions.builder().build());
    assertEquals(BertScoreOptions.defaults(), BertScoreOptions.builder().build());
    assertEquals(GenerationRequest.of("p"), GenerationRequest.builder().prompt("p").build());

    ScoreOptions score =
        ScoreOptions.builder()
            .metrics(EnumSet.of(Metric.ROUGE))
            .stem(true)
            .meteorTokenization(MeteorTokenization.WHITESPACE)
            .bertScoreEncoder(Path.of("m.onnx"), Path.of("t.json"))
            .bertScoreIdf(true)
            .bertScoreBaseline(Path.of("b.tsv"))
            .bertScoreMaxLength(64)
            .composite(Composite.parse("rougeL:1"))
            .build();
    assertEquals(score, score.toBuilder().build());
    assertEquals(64, score.bertScoreMaxLength());
    ScoreOptions unstemmed = score.toBuilder().stem(false).build();
    assertFalse(unstemmed.stem());
    assertTrue(score.stem(), "toBuilder leaves the original alone");
    assertEquals(score.toBuilder().stem(false).build(), unstemmed);

    ScorerOptions scorer =
        ScorerOptions.builder()
            .contextSize(64)
            .threads(3)
            .gpuLayers(2)
            .f32KvCache(false)
            .verbose(true)
            .build();
    assertEquals(new ScorerOptions(64, 3, 2, false, true), scorer);
    assertEquals(scorer, scorer.toBuilder().build());

    EmbedderOptions embedder =
        EmbedderOptions.builder()
            .maxLength(5)
            .batchSize(2)
            .intraOpThreads(1)
            .modelName("tiny")
            .layer(1)
            .build();
    assertEquals(new EmbedderOptions(5, 2, 1, "tiny", 1), embedder);
    assertEquals(embedder, embedder.toBuilder().build());

    BertScoreOptions.TruncationListener listener = (truncated, total, maxLength) -> {};
    BertScoreOptions bert =
        BertScoreOptions.builder()
            .idf(true)
            .baseline(new Baseline(0.1, 0.2, 0.3))
            .truncationListener(listener)
            .build();
    assertEquals(bert, bert.toBuilder().build());
    assertEquals(
        BertScoreOptions.IGNORE_TRUNCATION,
        BertScoreOptions.builder().truncationListener(null).build().truncationListener());

    GenerationRequest request =
        GenerationRequest.builder()
            .prompt("p")
            .chat(true)
            .maxTokens(5)
            .temperature(0.5f)
            .seed(7)
            .gpuLayers(1)
            .contextSize(128)
            .threads(2)
            .grammar("root ::= \"A\"")
            .build();
    assertEquals(
        new GenerationRequest("p", true, 5, 0.5f, 7, 1, 128, 2, "root ::= \"A\""), request);
    assertEquals(request, request.toBuilder().build());
    assertNotEquals(request, request.toBuilder().prompt("q").build());
  }

  @Test
  void buildValidatesWithTheRecordsMessages() {
    assertEquals(
        "no metric selected",
        assertThrows(
                IllegalArgumentException.class,
                () -> ScoreOptions.builder().metrics(EnumSet.noneOf(Metric.class)).build())
            .getMessage());
    assertEquals(
        "a BERTScore encoder needs both its ONNX model and its tokenizer.json",
        assertThrows(
                IllegalArgumentException.class,
                () -> ScoreOptions.builder().bertScoreEncoder(Path.of("m.onnx"), null).build())
            .getMessage());
    assertEquals(
        "context size must be >= 4, got 0",
        assertThrows(
                LlamaBridgeException.class, () -> ScorerOptions.builder().contextSize(0).build())
            .getMessage());
    assertEquals(
        "batch size must be >= 1, got 0",
        assertThrows(BertScoreException.class, () -> EmbedderOptions.builder().batchSize(0).build())
            .getMessage());
    assertEquals(
        "max tokens must be >= 1, got 0",
        assertThrows(
                LlamaBridgeException.class,
                () -> GenerationRequest.builder().prompt("p").maxTokens(0).build())
            .getMessage());
    assertThrows(NullPointerException.class, () -> GenerationRequest.builder().build());
  }

  @Test
  void evaluationExceptionsAreFailuresWithTheirReason() {
    List<Failure> badInput =
        List.of(
            new IfevalException("x"),
            new DataException("x"),
            new CsvReader.MalformedCsvException("f.csv", 1, 1, "x"),
            new PairFile.BadPairFileException("x"),
            new LlamaBridgeException(LlamaBridgeException.Reason.TEXT_TOO_SHORT, "x"),
            new BertScoreException(BertScoreException.Reason.BAD_BASELINE, "x"));
    for (Failure f : badInput)
      assertEquals(FailureReason.BAD_INPUT, f.failureReason(), f.toString());
    List<Failure> environment =
        List.of(
            new LlamaBridgeException(LlamaBridgeException.Reason.LIBRARY_UNAVAILABLE, "x"),
            new BertScoreException(BertScoreException.Reason.ENCODER_FAILED, "x"));
    for (Failure f : environment)
      assertEquals(FailureReason.ENVIRONMENT, f.failureReason(), f.toString());
    for (LlamaBridgeException.Reason r : LlamaBridgeException.Reason.values()) {
      assertEquals(r.isBadInput(), new LlamaBridgeException(r, "x").isBadInput(), r.name());
    }
    for (BertScoreException.Reason r : BertScoreException.Reason.values()) {
      assertEquals(r.isBadInput(), new BertScoreException(r, "x").isBadInput(), r.name());
    }
  }
}
