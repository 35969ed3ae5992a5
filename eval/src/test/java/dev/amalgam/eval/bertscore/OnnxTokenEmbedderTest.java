package dev.amalgam.eval.bertscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled all-MiniLM-L6-v2 encoder (loaded once) and user encoders built as tiny ONNX files.
 */
class OnnxTokenEmbedderTest {
  private static OnnxTokenEmbedder minilm;

  @BeforeAll
  static void load() {
    minilm = OnnxTokenEmbedder.openDefault(EmbedderOptions.builder().intraOpThreads(2).build());
  }

  @AfterAll
  static void close() {
    minilm.close();
  }

  @Test
  void helloWorldMatchesTheReferenceEncoder() {
    TokenEmbedding e = minilm.embed(List.of("hello world")).get(0);
    assertArrayEquals(new int[] {101, 7592, 2088, 102}, e.ids());
    assertArrayEquals(new boolean[] {true, false, false, true}, e.special());
    assertEquals(384, e.vectors()[0].length);
    assertEquals(0.17644, e.vectors()[0][0], 1e-4);
    assertEquals(0.03937, e.vectors()[0][1], 1e-4);
    assertEquals(0.07790, e.vectors()[0][2], 1e-4);
    assertFalse(e.truncated());
    assertEquals("all-MiniLM-L6-v2", minilm.modelName());
    assertEquals(6, minilm.layer());
    assertEquals(512, minilm.maxLength());
  }

  @Test
  void sameTextSameFloatsWhateverTheBatch() {
    String text =
        "The patient reports chest pain radiating to the left arm since yesterday evening.";
    float[][] alone = minilm.embed(List.of(text)).get(0).vectors();
    float[][] again = minilm.embed(List.of(text)).get(0).vectors();
    List<String> batch = new ArrayList<>();
    batch.add(words(150));
    batch.add("short");
    batch.add(text);
    for (int i = 0; i < 8; i++) {
      batch.add(words(5 + 6 * i));
    }
    List<TokenEmbedding> mixed = minilm.embed(batch);
    assertArrayEquals(alone, again);
    assertArrayEquals(
        alone, mixed.get(2).vectors(), "padding and batch composition changed the vectors");
    assertEquals(batch.size(), mixed.size());
    assertArrayEquals(minilm.embed(List.of("short")).get(0).vectors(), mixed.get(1).vectors());
  }

  @Test
  void longTextKeepsTheFirst512TokensAndIsReported() {
    String text = words(2000);
    TokenEmbedding e = minilm.embed(List.of(text)).get(0);
    assertEquals(512, e.length());
    assertTrue(e.truncated());
    assertEquals(101, e.ids()[0]);
    assertEquals(102, e.ids()[511]);
    TokenEmbedding head = minilm.embed(List.of(words(40))).get(0);
    for (int i = 0; i < head.length() - 1; i++) {
      assertEquals(head.ids()[i], e.ids()[i], "token " + i);
    }
    // Exactly 512 tokens is not truncation; 513 is.
    assertFalse(minilm.embed(List.of("hello ".repeat(510))).get(0).truncated());
    assertTrue(minilm.embed(List.of("hello ".repeat(511))).get(0).truncated());

    int[] reported = new int[3];
    BertScoreOptions options =
        BertScoreOptions.builder()
            .truncationListener(
                (n, m, max) -> {
                  reported[0] = n;
                  reported[1] = m;
                  reported[2] = max;
                })
            .build();
    new BertScorer(minilm, options).score(List.of(text), List.of("a short reference"));
    assertArrayEquals(new int[] {1, 2, 512}, reported);
  }

  @Test
  void sanityIdenticalParaphraseAndUnrelated() {
    BertScorer scorer = new BertScorer(minilm, BertScoreOptions.defaults());
    String reference = "The patient has had a fever and a dry cough for three days.";
    List<BertScore> s =
        scorer.score(
            List.of(
                reference,
                "For three days the patient has been febrile with a dry cough.",
                "The quarterly invoice must be paid before the end of the month."),
            List.of(reference, reference, reference));
    assertEquals(1.0, s.get(0).precision(), 1e-6);
    assertEquals(1.0, s.get(0).recall(), 1e-6);
    assertEquals(1.0, s.get(0).f(), 1e-6);
    assertTrue(
        s.get(1).f() > s.get(2).f() + 0.05, "paraphrase " + s.get(1) + " vs unrelated " + s.get(2));
    assertEquals("all-MiniLM-L6-v2_L6_no-idf_version=0.3.12(onnx)", scorer.hash());
    BertScore empty = scorer.score(List.of(""), List.of(reference)).get(0);
    assertEquals(new BertScore(0.0, 0.0, 0.0), empty);
  }

  @Test
  void userEncoderFeedsOnlyDeclaredInputs(@TempDir Path dir) throws IOException {
    Path folder = Files.createDirectories(dir.resolve("tiny-encoder").resolve("onnx"));
    Path onnx =
        Files.write(folder.resolve("model.onnx"), TinyOnnx.castModel("last_hidden_state", true));
    Files.writeString(folder.getParent().resolve("config.json"), "{\"num_hidden_layers\": 3}");
    Path tokenizer = defaultTokenizerFile(dir);
    EmbedderOptions fiveTokens = EmbedderOptions.builder().maxLength(5).build();
    try (OnnxTokenEmbedder tiny = OnnxTokenEmbedder.open(onnx, tokenizer, fiveTokens)) {
      assertEquals("tiny-encoder", tiny.modelName());
      assertEquals(3, tiny.layer());
      List<TokenEmbedding> out =
          tiny.embed(List.of("hello world", "hello", "hello world hello world"));
      assertArrayEquals(new float[][] {{101}, {7592}, {2088}, {102}}, out.get(0).vectors());
      assertArrayEquals(new float[][] {{101}, {7592}, {102}}, out.get(1).vectors());
      assertArrayEquals(new int[] {101, 7592, 2088, 7592, 102}, out.get(2).ids());
      assertTrue(out.get(2).truncated());
    }
    BertScoreException e =
        assertThrows(
            BertScoreException.class,
            () ->
                OnnxTokenEmbedder.open(
                    Files.write(
                        dir.resolve("x.onnx"), TinyOnnx.castModel("last_hidden_state", true)),
                    tokenizer,
                    EmbedderOptions.defaults()));
    assertTrue(e.getMessage().contains("layer unknown"), e.getMessage());
  }

  @Test
  void badEncodersAreRefusedNamingTheFile(@TempDir Path dir) throws IOException {
    Path tokenizer = defaultTokenizerFile(dir);
    EmbedderOptions options = EmbedderOptions.builder().layer(1).build();
    Path missing = dir.resolve("missing.onnx");
    BertScoreException e =
        assertThrows(
            BertScoreException.class, () -> OnnxTokenEmbedder.open(missing, tokenizer, options));
    assertEquals(BertScoreException.Reason.FILE_NOT_FOUND, e.reason());
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

    Path pooled =
        Files.write(dir.resolve("pooled.onnx"), TinyOnnx.castModel("sentence_embedding", true));
    e =
        assertThrows(
            BertScoreException.class, () -> OnnxTokenEmbedder.open(pooled, tokenizer, options));
    assertEquals(BertScoreException.Reason.BAD_MODEL, e.reason());
    assertTrue(
        e.getMessage().contains(pooled + ": no output named last_hidden_state"), e.getMessage());

    Path rank2 =
        Files.write(dir.resolve("rank2.onnx"), TinyOnnx.castModel("last_hidden_state", false));
    e =
        assertThrows(
            BertScoreException.class, () -> OnnxTokenEmbedder.open(rank2, tokenizer, options));
    assertTrue(
        e.getMessage().contains("expected a FLOAT tensor [batch, seq, dim]"), e.getMessage());

    Path text = Files.writeString(dir.resolve("notes.onnx"), "not a model");
    e =
        assertThrows(
            BertScoreException.class, () -> OnnxTokenEmbedder.open(text, tokenizer, options));
    assertEquals(BertScoreException.Reason.BAD_MODEL, e.reason());
    assertTrue(e.getMessage().contains(text + ": onnxruntime cannot load it"), e.getMessage());

    Path good =
        Files.write(dir.resolve("good.onnx"), TinyOnnx.castModel("last_hidden_state", true));
    Path badTokenizer = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": 42}");
    e =
        assertThrows(
            BertScoreException.class, () -> OnnxTokenEmbedder.open(good, badTokenizer, options));
    assertEquals(BertScoreException.Reason.BAD_TOKENIZER, e.reason());
    assertTrue(e.getMessage().contains(badTokenizer.toString()), e.getMessage());
    e =
        assertThrows(
            BertScoreException.class,
            () -> OnnxTokenEmbedder.open(good, dir.resolve("none.json"), options));
    assertEquals(BertScoreException.Reason.FILE_NOT_FOUND, e.reason());
  }

  @Test
  void closedEmbedderRefusesWork(@TempDir Path dir) throws IOException {
    Path onnx = Files.write(dir.resolve("m.onnx"), TinyOnnx.castModel("last_hidden_state", true));
    OnnxTokenEmbedder tiny =
        OnnxTokenEmbedder.open(
            onnx, defaultTokenizerFile(dir), EmbedderOptions.builder().layer(1).build());
    assertEquals("m", tiny.modelName());
    tiny.close();
    BertScoreException e = assertThrows(BertScoreException.class, () -> tiny.embed(List.of("x")));
    assertEquals(BertScoreException.Reason.CLOSED, e.reason());
  }

  private static Path defaultTokenizerFile(Path dir) throws IOException {
    Path file = dir.resolve("minilm-tokenizer.json");
    try (InputStream in =
        OnnxTokenEmbedder.class.getResourceAsStream(OnnxTokenEmbedder.DEFAULT_TOKENIZER_RESOURCE)) {
      Files.copy(in, file);
    }
    return file;
  }

  /** n distinct-looking clinical words, several tokens each sometimes. */
  static String words(int n) {
    String[] vocab = {
      "patient",
      "reports",
      "chest",
      "pain",
      "with",
      "nausea",
      "and",
      "mild",
      "fever",
      "denies",
      "shortness",
      "of",
      "breath",
      "hypertension",
      "metformin",
      "daily"
    };
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(vocab[(i * 7 + i / 3) % vocab.length]).append(' ');
    }
    return sb.toString().trim();
  }
}
