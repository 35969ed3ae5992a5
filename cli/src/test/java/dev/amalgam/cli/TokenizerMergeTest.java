package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.config;
import static dev.amalgam.cli.CliHarness.floats;
import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.convert.GgufToTokenizer;
import dev.amalgam.convert.TokenizerKeys;
import dev.amalgam.convert.TokenizerToGguf;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufValueType;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tokenizer_source and the tokenizer: block with differing vocabularies: every output row is
 * checked against the documented rule (own row, the single holder's row, the base's row, the mean,
 * zeros, padding mean) computed here in plain Java from the input tensors.
 */
class TokenizerMergeTest {
  private static final int BASE_TOKENS = 300;
  private static final int HIDDEN = 64;
  private static final String[] EMBEDS = {"model.embed_tokens.weight", "lm_head.weight"};

  @TempDir Path tmp;
  private Path a;
  private Path b;
  private Path c;
  private String[] baseTokens;

  /** A model with the base vocabulary plus {@code extras} appended as user-defined tokens. */
  private Path model(String name, long seed, List<String> extras) throws Exception {
    GgufMetadata m = SyntheticTokenizers.llama3Metadata(BASE_TOKENS);
    String[] tokens = m.get(TokenizerKeys.TOKENS).orElseThrow().asStrings();
    baseTokens = tokens;
    long[] types = m.get(TokenizerKeys.TOKEN_TYPE).orElseThrow().asLongs();
    List<String> all = new ArrayList<>(Arrays.asList(tokens));
    all.addAll(extras);
    long[] allTypes = Arrays.copyOf(types, all.size());
    Arrays.fill(allTypes, types.length, all.size(), TokenizerKeys.TYPE_USER_DEFINED);
    m.put(TokenizerKeys.TOKENS, GgufValue.strings(all.toArray(String[]::new)));
    m.put(TokenizerKeys.TOKEN_TYPE, GgufValue.integers(GgufValueType.INT32, allTypes));
    Path dir = tmp.resolve(name);
    SyntheticLlama.write(
        dir,
        new SyntheticLlama.Shape(2, HIDDEN, 96, all.size(), 4, 2, false),
        DType.F32,
        seed,
        0,
        0,
        5_000_000_000L);
    GgufToTokenizer.write(m, Path.of(name), dir);
    return dir;
  }

  private static List<String> extras(int from, int to) {
    List<String> e = new ArrayList<>();
    for (int i = from; i < to; i++) e.add("<extra_" + i + ">");
    return e;
  }

  @BeforeEach
  void models() throws Exception {
    a = model("a", 1, List.of());
    b = model("b", 2, extras(0, 8));
    c = model("c", 3, extras(4, 12));
  }

  private Path merge(String tokenizerYaml, String... extraArgs) throws Exception {
    Path cfg =
        config(
            tmp,
            "m.yml",
            "merge_method: linear\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n    parameters: {weight: 0.5}\n  - model: "
                + b
                + "\n    parameters: {weight: 0.25}\n  - model: "
                + c
                + "\n    parameters: {weight: 0.25}\n"
                + tokenizerYaml);
    Path out = tmp.resolve("out");
    List<String> args =
        new ArrayList<>(List.of("merge", cfg.toString(), out.toString(), "--no-progress"));
    args.addAll(List.of(extraArgs));
    run(args.toArray(String[]::new)).assertOk();
    return out;
  }

  private static float[] row(float[] matrix, int r) {
    return Arrays.copyOfRange(matrix, r * HIDDEN, (r + 1) * HIDDEN);
  }

  private static float[] mean(float[]... rows) {
    float[] m = new float[HIDDEN];
    for (float[] r : rows) for (int i = 0; i < HIDDEN; i++) m[i] += r[i];
    for (int i = 0; i < HIDDEN; i++) m[i] /= rows.length;
    return m;
  }

  /** Checks output rows against 0.5*a + 0.25*b + 0.25*c of the expected per-model rows. */
  private static void assertRow(
      float[] got, int r, float[] ra, float[] rb, float[] rc, String what) {
    for (int i = 0; i < HIDDEN; i++) {
      double want = 0.5 * ra[i] + 0.25 * rb[i] + 0.25 * rc[i];
      assertEquals(
          want,
          got[r * HIDDEN + i],
          1e-5 * (1 + Math.abs(want)),
          what + " row " + r + "[" + i + "]");
    }
  }

  private List<String> tokensOf(Path dir) throws Exception {
    return Arrays.asList(
        TokenizerToGguf.fromDirectory(dir, OptionalLong.empty())
            .metadata()
            .get(TokenizerKeys.TOKENS)
            .orElseThrow()
            .asStrings());
  }

  private long vocabSize(Path out) throws Exception {
    return new ObjectMapper()
        .readTree(out.resolve("config.json").toFile())
        .get("vocab_size")
        .asLong();
  }

  @Test
  void aUnionWorksWithSlicesAsWithModels() throws Exception {
    String weights = "parameters: {weight: 0.5}";
    Path viaModels =
        config(
            tmp,
            "models.yml",
            "merge_method: linear\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n    "
                + weights
                + "\n  - model: "
                + b
                + "\n    "
                + weights
                + "\ntokenizer_source: union\n");
    Path viaSlices =
        config(
            tmp,
            "slices.yml",
            "merge_method: linear\nbase_model: "
                + a
                + "\nslices:\n  - sources:\n"
                + "      - model: "
                + a
                + "\n        layer_range: [0, 2]\n        "
                + weights
                + "\n"
                + "      - model: "
                + b
                + "\n        layer_range: [0, 2]\n        "
                + weights
                + "\ntokenizer_source: union\n");
    Path m = tmp.resolve("via-models");
    Path sl = tmp.resolve("via-slices");
    run("merge", viaModels.toString(), m.toString(), "--no-progress").assertOk();
    run("merge", viaSlices.toString(), sl.toString(), "--no-progress").assertOk();
    for (String name : EMBEDS) assertArrayEquals(floats(m, name), floats(sl, name), 0f, name);
    assertArrayEquals(
        floats(m, "model.layers.1.mlp.up_proj.weight"),
        floats(sl, "model.layers.1.mlp.up_proj.weight"),
        0f);
    assertEquals(
        BASE_TOKENS + 8,
        new ObjectMapper().readTree(sl.resolve("config.json").toFile()).get("vocab_size").asInt());
    assertEquals(
        Files.readString(m.resolve("tokenizer.json")),
        Files.readString(sl.resolve("tokenizer.json")));
  }

  @Test
  void unionLaysEveryRowOutByTheDocumentedRule() throws Exception {
    Path out = merge("tokenizer_source: union\n");
    assertEquals(BASE_TOKENS + 12, vocabSize(out));
    List<String> expected = new ArrayList<>(Arrays.asList(baseTokens));
    expected.addAll(extras(0, 12));
    assertEquals(expected, tokensOf(out));
    for (String name : EMBEDS) {
      float[] xa = floats(a, name);
      float[] xb = floats(b, name);
      float[] xc = floats(c, name);
      float[] got = floats(out, name);
      assertEquals((BASE_TOKENS + 12) * HIDDEN, got.length, name);
      for (int r = 0; r < BASE_TOKENS; r++)
        assertRow(got, r, row(xa, r), row(xb, r), row(xc, r), name + " own");
      for (int e = 0; e < 12; e++) {
        int r = BASE_TOKENS + e;
        float[] fromB = e < 8 ? row(xb, BASE_TOKENS + e) : null;
        float[] fromC = e >= 4 ? row(xc, BASE_TOKENS + e - 4) : null;
        if (e < 4) {
          assertRow(got, r, fromB, fromB, fromB, name + " only b has it"); // a and c take b's row
        } else if (e < 8) {
          assertRow(
              got,
              r,
              mean(fromB, fromC),
              fromB,
              fromC,
              name + " mean of b and c"); // the base lacks it
        } else {
          assertRow(got, r, fromC, fromC, fromC, name + " only c has it");
        }
      }
    }
  }

  @Test
  void aNamedModelsVocabularyAndFilesAreUsed() throws Exception {
    Path out = merge("tokenizer_source: " + b + "\n");
    assertEquals(BASE_TOKENS + 8, vocabSize(out));
    assertArrayEquals(
        Files.readAllBytes(b.resolve("tokenizer.json")),
        Files.readAllBytes(out.resolve("tokenizer.json")),
        "b's vocabulary is the output's: its files are copied");
    float[] xa = floats(a, EMBEDS[0]);
    float[] xb = floats(b, EMBEDS[0]);
    float[] xc = floats(c, EMBEDS[0]);
    float[] got = floats(out, EMBEDS[0]);
    for (int e = 0; e < 8; e++) {
      int r = BASE_TOKENS + e;
      float[] fromB = row(xb, r);
      if (e < 4) {
        assertRow(got, r, fromB, fromB, fromB, "only b");
      } else {
        float[] fromC = row(xc, BASE_TOKENS + e - 4);
        assertRow(got, r, mean(fromB, fromC), fromB, fromC, "b and c");
      }
    }
    assertRow(got, 5, row(xa, 5), row(xb, 5), row(xc, 5), "own");
  }

  @Test
  void baseWithTokensEntriesAndPadding() throws Exception {
    String zeroTok = baseTokens[10];
    String forcedTok = baseTokens[11];
    String plainTok = baseTokens[12];
    Path out =
        merge(
            "tokenizer:\n  source: base\n  pad_to_multiple_of: 16\n  tokens:\n"
                + "    "
                + json(zeroTok)
                + ": {source: {kind: zero}, force: true}\n"
                + "    "
                + json(forcedTok)
                + ": {source: {kind: model_token, model: "
                + c
                + ", token: \"<extra_9>\"}, force: true}\n"
                + "    "
                + json(plainTok)
                + ": {source: {kind: model_token, model: "
                + b
                + ", token_id: 301}}\n");
    long padded = 304;
    assertEquals(padded, vocabSize(out));
    assertEquals(
        Arrays.asList(baseTokens), tokensOf(out), "the base's vocabulary (padding is not a token)");
    for (String name : EMBEDS) {
      float[] xa = floats(a, name);
      float[] xb = floats(b, name);
      float[] xc = floats(c, name);
      float[] got = floats(out, name);
      assertEquals(padded * HIDDEN, got.length);
      float[] zero = new float[HIDDEN];
      assertRow(got, 10, zero, zero, zero, name + " forced zero");
      float[] c9 = row(xc, BASE_TOKENS + 5);
      assertRow(got, 11, c9, c9, c9, name + " forced c's <extra_9>");
      assertRow(got, 12, row(xa, 12), row(xb, 12), row(xc, 12), name + " not forced: own rows win");
      // padding rows: the mean of each model's re-laid-out real rows
      float[][] pads = new float[3][];
      float[][] xs = {xa, xb, xc};
      for (int m = 0; m < 3; m++) {
        double[] sum = new double[HIDDEN];
        for (int r = 0; r < BASE_TOKENS; r++) {
          float[] rr = r == 10 ? zero : r == 11 ? c9 : row(xs[m], r);
          for (int i = 0; i < HIDDEN; i++) sum[i] += rr[i];
        }
        pads[m] = new float[HIDDEN];
        for (int i = 0; i < HIDDEN; i++) pads[m][i] = (float) (sum[i] / BASE_TOKENS);
      }
      for (int r = BASE_TOKENS; r < padded; r++)
        assertRow(got, r, pads[0], pads[1], pads[2], name + " padding");
    }
  }

  private static String json(String token) throws Exception {
    return new ObjectMapper().writeValueAsString(token);
  }

  @Test
  void baseWithAnIdenticalVocabularyGivesTodaysOutput() throws Exception {
    Path b2 = model("b2", 5, List.of());
    String models =
        "merge_method: linear\nmodels:\n  - model: "
            + a
            + "\n    parameters: {weight: 0.5}\n"
            + "  - model: "
            + b2
            + "\n    parameters: {weight: 0.5}\n";
    Path plain = tmp.resolve("plain");
    Path based = tmp.resolve("based");
    run("merge", config(tmp, "p.yml", models).toString(), plain.toString(), "--no-progress")
        .assertOk();
    run(
            "merge",
            config(tmp, "q.yml", models + "tokenizer_source: base\n").toString(),
            based.toString(),
            "--no-progress")
        .assertOk();
    for (String f :
        List.of("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json")) {
      assertArrayEquals(
          Files.readAllBytes(plain.resolve(f)), Files.readAllBytes(based.resolve(f)), f);
    }
  }

  private void assertInvalid(String yaml, String... fragments) throws Exception {
    Path cfg =
        config(
            tmp,
            "bad.yml",
            "merge_method: linear\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n  - model: "
                + b
                + "\n"
                + yaml);
    Path out = tmp.resolve("bad-out");
    run("merge", cfg.toString(), out.toString(), "--no-progress").assertInvalid(fragments);
    CliHarness.assertNoOutput(out);
  }

  @Test
  void configErrorsNameTheYamlPath() throws Exception {
    assertInvalid("tokenizer_source: base\ntokenizer: {source: union}\n", "tokenizer", "not both");
    assertInvalid("tokenizer: {sorce: union}\n", "tokenizer.sorce", "unknown key");
    assertInvalid(
        "tokenizer: {pad_to_multiple_of: 0}\n", "tokenizer.pad_to_multiple_of", "positive integer");
    assertInvalid(
        "tokenizer: {tokens: {x: {source: {kind: ones}}}}\n",
        "tokenizer.tokens.x.source.kind",
        "model_token or zero");
    assertInvalid(
        "tokenizer: {tokens: {x: {force: true}}}\n", "tokenizer.tokens.x.source", "required");
    assertInvalid(
        "tokenizer: {tokens: {x: {source: {kind: model_token, model: " + b + ", token_id: -1}}}}\n",
        "tokenizer.tokens.x.source.token_id",
        "non-negative");
    assertInvalid(
        "tokenizer: {tokens: {x: {source: {kind: model_token, model: "
            + b
            + ", token_id: 9999}}}}\n",
        "tokenizer.tokens.x.source.token_id",
        "outside");
    assertInvalid(
        "tokenizer: {tokens: {x: {source: {kind: model_token, model: " + b + ", token: nope}}}}\n",
        "tokenizer.tokens.x.source.token",
        "has no token 'nope'");
    assertInvalid(
        "tokenizer: {tokens: {x: {source: " + c + "}}}\n",
        "tokenizer.tokens.x.source",
        "not one of the models merged");
    assertInvalid(
        "tokenizer_source: " + c + "\n", "tokenizer_source", "not one of the models merged");
    assertInvalid(
        "tokenizer: {tokens: {x: {source: {kind: zero, model: " + b + "}}}}\n",
        "tokenizer.tokens.x.source.model",
        "kind zero takes no model");
  }

  @Test
  void ggufOutputCarriesTheBuiltVocabulary() throws Exception {
    Path cfg =
        config(
            tmp,
            "g.yml",
            "merge_method: linear\nbase_model: "
                + a
                + "\nmodels:\n  - model: "
                + a
                + "\n    parameters: {weight: 0.5}\n  - model: "
                + b
                + "\n    parameters: {weight: 0.5}\n"
                + "tokenizer: {source: union, pad_to_multiple_of: 32}\n");
    Path out = tmp.resolve("out.gguf");
    CliHarness.Run r = run("merge", cfg.toString(), out.toString(), "--no-progress");
    r.assertOk();
    try (dev.amalgam.io.gguf.GgufFile g = dev.amalgam.io.gguf.GgufFile.open(out)) {
      String[] tokens = g.metadata().get(TokenizerKeys.TOKENS).orElseThrow().asStrings();
      assertEquals(320, tokens.length);
      assertEquals("<extra_7>", tokens[307]);
      assertTrue(tokens[308].startsWith("[PAD"), tokens[308]);
      assertEquals(320, g.tensor("token_embd.weight").orElseThrow().ne(1));
    }
  }
}
