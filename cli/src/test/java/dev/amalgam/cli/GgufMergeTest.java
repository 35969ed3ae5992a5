package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.convert.GgufFixtures;
import dev.amalgam.convert.ModelConverter;
import dev.amalgam.eval.llama.LlamaScorer;
import dev.amalgam.eval.llama.PerplexityResult;
import dev.amalgam.eval.llama.ScorerOptions;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.merge.plan.MergePlanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code amalgam merge} with GGUF inputs and outputs, end to end through the CLI: identities that
 * must hold bit for bit (a model with its copy, with its own HF conversion in either role, t = 0),
 * a perturbed partner that must change llama.cpp's log-probabilities, perplexity of merged files, a
 * direct GGUF merge equal to an HF merge converted afterwards, and the errors that must stop a
 * merge before it writes anything.
 */
class GgufMergeTest {
  static final String LILY = "Once upon a time there was a little girl named Lily.";

  @TempDir Path tmp;

  private Path slerp(String name, Path base, Path other, double t) throws IOException {
    return CliHarness.config(
        tmp,
        name,
        "merge_method: slerp\nbase_model: "
            + base
            + "\nmodels:\n  - model: "
            + other
            + "\nparameters:\n  t: "
            + t
            + "\n");
  }

  private static void merge(String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "merge";
    System.arraycopy(args, 0, all, 1, args.length);
    all[args.length + 1] = "--no-progress";
    all[args.length + 2] = "--no-fsync";
    CliHarness.run(all).assertOk();
  }

  private static ModelConverter.Options convertOptions() {
    return ModelConverter.Options.builder().sync(false).threads(2).build();
  }

  private static PerplexityResult perplexity(LlamaScorer scorer) {
    PerplexityResult p = scorer.perplexity(GgufFixtures.STORY.repeat(4), 64);
    assertTrue(p.chunks() >= 2, "at least two windows: " + p);
    assertTrue(Double.isFinite(p.perplexity()) && p.perplexity() >= 1, "perplexity " + p);
    return p;
  }

  @Test
  void slerpWithACopyReproducesTheModelInBothFormats() throws IOException {
    Path stories = GgufFixtures.stories();
    Path copy = Files.copy(stories, tmp.resolve("copy.gguf"));
    Path config = slerp("copy.yml", stories, copy, 0.3);
    Path gguf = tmp.resolve("merged.gguf");
    merge(config.toString(), gguf.toString());
    GgufFixtures.assertSameTensors(stories, gguf);
    try (GgufFile f = GgufFile.open(gguf)) {
      assertTrue(f.metadata().getString(MergePlanner.CONFIG_KEY).orElseThrow().contains("slerp"));
      assertEquals(0L, f.metadata().getLong("general.file_type").orElseThrow());
      assertEquals(
          512, f.metadata().get("tokenizer.ggml.tokens").orElseThrow().length(), "tokenizer kept");
    }

    Path hf = tmp.resolve("merged-hf");
    merge(config.toString(), hf.toString());
    Path converted = tmp.resolve("stories-hf");
    ModelConverter.convert(stories, converted, convertOptions());
    GgufFixtures.assertSameHfTensors(converted, hf);
    assertTrue(Files.isRegularFile(hf.resolve("tokenizer.model")));
    assertTrue(Files.isRegularFile(hf.resolve("config.json")));

    try (LlamaScorer original =
            LlamaScorer.open(stories, ScorerOptions.builder().threads(2).build());
        LlamaScorer merged = LlamaScorer.open(gguf, ScorerOptions.builder().threads(2).build())) {
      assertEquals(perplexity(original).perplexity(), perplexity(merged).perplexity(), 0.0);
    }
    GgufFixtures.assertNoPartialFiles(tmp);
  }

  @Test
  void aPerturbedPartnerChangesTheLogProbsAndTZeroIsTheBase() throws IOException {
    Path stories = GgufFixtures.stories();
    Path noisy = GgufFixtures.perturbedCopy(stories, tmp.resolve("noisy.gguf"), 7, 0.3);
    Path half = tmp.resolve("half.gguf");
    merge(slerp("half.yml", stories, noisy, 0.5).toString(), half.toString());
    Path zero = tmp.resolve("zero.gguf");
    merge(slerp("zero.yml", stories, noisy, 0.0).toString(), zero.toString());
    GgufFixtures.assertSameTensors(stories, zero);

    try (GgufFile s = GgufFile.open(stories);
        GgufFile h = GgufFile.open(half)) {
      for (GgufTensorInfo t : s.tensors()) {
        boolean same =
            java.util.Arrays.equals(
                GgufFixtures.bytes(s, t.name()), GgufFixtures.bytes(h, t.name()));
        assertEquals(t.rank() == 1, same, t.name() + ": only the perturbed 2-D tensors change");
      }
    }
    try (LlamaScorer base = LlamaScorer.open(stories, ScorerOptions.builder().threads(2).build());
        LlamaScorer merged = LlamaScorer.open(half, ScorerOptions.builder().threads(2).build());
        LlamaScorer partner = LlamaScorer.open(noisy, ScorerOptions.builder().threads(2).build())) {
      double[] a = base.tokenLogProbs(LILY);
      double[] b = merged.tokenLogProbs(LILY);
      GgufFixtures.assertLogProbs(b);
      double maxDiff = 0;
      for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      assertTrue(
          maxDiff > 1e-2,
          "merging with a 30% perturbed copy must move the log-probs; max diff " + maxDiff);
      PerplexityResult pBase = perplexity(base);
      PerplexityResult pMerged = perplexity(merged);
      PerplexityResult pPartner = perplexity(partner);
      assertTrue(pMerged.perplexity() != pBase.perplexity(), pMerged + " vs " + pBase);
      assertTrue(
          pPartner.perplexity() > pBase.perplexity(), "noise hurts: " + pPartner + " vs " + pBase);
    }
  }

  @Test
  void ggufMergedWithItsOwnHfConversionIsTheModelInEveryDirection() throws IOException {
    Path stories = GgufFixtures.stories();
    Path hf = tmp.resolve("stories-hf");
    ModelConverter.convert(stories, hf, convertOptions());

    Path ggufBase = slerp("gguf-base.yml", stories, hf, 0.5);
    Path hfBase = slerp("hf-base.yml", hf, stories, 0.5);
    Path a = tmp.resolve("a.gguf");
    merge(ggufBase.toString(), a.toString());
    GgufFixtures.assertSameTensors(stories, a);
    Path b = tmp.resolve("b.gguf");
    merge(hfBase.toString(), b.toString(), "--out-format", "gguf");
    GgufFixtures.assertSameTensors(stories, b);
    Path c = tmp.resolve("c-hf");
    merge(ggufBase.toString(), c.toString());
    GgufFixtures.assertSameHfTensors(hf, c);
    Path d = tmp.resolve("d-hf");
    merge(hfBase.toString(), d.toString(), "--out-format", "hf");
    GgufFixtures.assertSameHfTensors(hf, d);

    try (LlamaScorer original =
            LlamaScorer.open(stories, ScorerOptions.builder().threads(2).build());
        LlamaScorer fromHfDonor = LlamaScorer.open(b, ScorerOptions.builder().threads(2).build())) {
      assertArrayEquals(
          original.tokenLogProbs(LILY),
          fromHfDonor.tokenLogProbs(LILY),
          0.0,
          "metadata and tokenizer rebuilt from the HF donor behave as the original");
      perplexity(fromHfDonor);
    }
  }

  @Test
  void q8OutputOfAMergeQuantizesLikeConvert() throws IOException {
    Path stories = GgufFixtures.stories();
    Path copy = Files.copy(stories, tmp.resolve("copy.gguf"));
    Path merged = tmp.resolve("merged-q8.gguf");
    CliHarness.Run run =
        CliHarness.run(
            "merge",
            slerp("q8.yml", stories, copy, 0.5).toString(),
            merged.toString(),
            "--out-type",
            "q8_0",
            "--no-progress",
            "--no-fsync");
    run.assertOk();
    assertEquals(1, run.err().lines().filter(l -> l.contains("written as F16")).count(), run.err());
    Path converted = tmp.resolve("converted-q8.gguf");
    ModelConverter.convert(
        stories,
        converted,
        convertOptions().toBuilder().type(java.util.Optional.of(GgmlType.Q8_0)).build());
    GgufFixtures.assertSameTensors(converted, merged);
    try (LlamaScorer scorer =
        LlamaScorer.open(merged, ScorerOptions.builder().threads(2).build())) {
      perplexity(scorer);
    }
  }

  @Test
  void quantizedInputsAreDequantizedAndRequantizeToTheSameBytes() throws IOException {
    Path stories = GgufFixtures.stories();
    Path q8 = tmp.resolve("q8.gguf");
    ModelConverter.convert(
        stories,
        q8,
        convertOptions().toBuilder().type(java.util.Optional.of(GgmlType.Q8_0)).build());
    Path q8copy = Files.copy(q8, tmp.resolve("q8-copy.gguf"));
    Path config = slerp("q8in.yml", q8, q8copy, 0.5);
    Path requantized = tmp.resolve("requantized.gguf");
    merge(config.toString(), requantized.toString(), "--out-type", "q8_0");
    GgufFixtures.assertSameTensors(q8, requantized);
    Path plain = tmp.resolve("plain.gguf");
    CliHarness.Run run =
        CliHarness.run("merge", config.toString(), plain.toString(), "--no-progress", "--no-fsync");
    run.assertOk();
    assertTrue(
        run.err().contains("is quantized (Q8_0)") && run.err().contains("--out-type q8_0"),
        run.err());
    try (GgufFile quantized = GgufFile.open(q8);
        GgufFile f = GgufFile.open(plain)) {
      for (GgufTensorInfo t : quantized.tensors()) {
        GgmlType expected = t.type().isQuantized() ? GgmlType.F32 : t.type();
        assertEquals(
            expected,
            f.tensor(t.name()).orElseThrow().type(),
            t.name() + ": merged in the dequantized type");
        assertArrayEquals(
            GgufFixtures.floats(quantized, t.name()),
            GgufFixtures.floats(f, t.name()),
            0f,
            t.name());
      }
    }
  }

  @Test
  void directGgufMergeEqualsTheHfMergeConvertedAfterwards() throws IOException {
    Path a = GgufFixtures.writeLlama3Checkpoint(tmp.resolve("a"), 21, 0);
    Path b = GgufFixtures.writeLlama3Checkpoint(tmp.resolve("b"), 21, 0.6);
    Path config = slerp("llama3.yml", a, b, 0.4);
    Path direct = tmp.resolve("direct.out");
    merge(config.toString(), direct.toString(), "--out-format", "gguf", "--out-type", "bf16");
    Path hf = tmp.resolve("merged-hf");
    merge(config.toString(), hf.toString());
    Path converted = tmp.resolve("converted.gguf");
    ModelConverter.convert(
        hf,
        converted,
        convertOptions().toBuilder().type(java.util.Optional.of(GgmlType.BF16)).build());
    GgufFixtures.assertSameTensors(converted, direct);
    try (GgufFile f = GgufFile.open(direct)) {
      assertTrue(f.tensor("rope_freqs.weight").isPresent());
      assertEquals(32L, f.metadata().getLong("general.file_type").orElseThrow());
      assertEquals("gpt2", f.metadata().getString("tokenizer.ggml.model").orElseThrow());
    }
    try (LlamaScorer scorer =
        LlamaScorer.open(direct, ScorerOptions.builder().threads(2).contextSize(128).build())) {
      GgufFixtures.assertLogProbs(scorer.tokenLogProbs(LILY));
    }
  }

  @Test
  void outTypeWithoutAGgufOutputIsRejected() throws IOException {
    Path stories = GgufFixtures.stories();
    Path copy = Files.copy(stories, tmp.resolve("copy.gguf"));
    Path out = tmp.resolve("out");
    CliHarness.run(
            "merge",
            slerp("x.yml", stories, copy, 0.5).toString(),
            out.toString(),
            "--out-type",
            "bf16")
        .assertInvalid("--out-type", "gguf");
    CliHarness.assertNoOutput(out);
    CliHarness.run(
            "merge",
            slerp("y.yml", stories, copy, 0.5).toString(),
            out.toString(),
            "--out-format",
            "hf",
            "--out-type",
            "f16")
        .assertInvalid("--out-type");
    CliHarness.run(
            "merge",
            slerp("z.yml", stories, copy, 0.5).toString(),
            tmp.resolve("o.gguf").toString(),
            "--out-type",
            "q4_0")
        .assertInvalid("q4_0");
    CliHarness.assertNoOutput(tmp.resolve("o.gguf"));
  }

  @Test
  void anHfDonorWithoutTokenizerCannotMakeAGgufFile() throws IOException {
    Path a = GgufFixtures.writeLlama3Checkpoint(tmp.resolve("with-tokenizer"), 3, 0);
    Path bare = GgufFixtures.writeLlama3Checkpoint(tmp.resolve("bare-donor"), 3, 0.2);
    Files.delete(bare.resolve("tokenizer.json"));
    Files.delete(bare.resolve("tokenizer_config.json"));
    Path out = tmp.resolve("out.gguf");
    CliHarness.run(
            "merge", slerp("bare.yml", bare, a, 0.5).toString(), out.toString(), "--no-progress")
        .assertInvalid("bare-donor", "base_model");
    CliHarness.assertNoOutput(out);
    GgufFixtures.assertNoPartialFiles(tmp);
  }

  @Test
  void anExistingGgufOutputIsKeptWithoutForce() throws IOException {
    Path stories = GgufFixtures.stories();
    Path copy = Files.copy(stories, tmp.resolve("copy.gguf"));
    Path out = tmp.resolve("existing.gguf");
    Files.writeString(out, "keep me");
    CliHarness.run(
            "merge", slerp("e.yml", stories, copy, 0.5).toString(), out.toString(), "--no-progress")
        .assertInvalid("existing.gguf", "--force");
    assertEquals("keep me", Files.readString(out));
    GgufFixtures.assertNoPartialFiles(tmp);
    merge(tmp.resolve("e.yml").toString(), out.toString(), "--force");
    GgufFixtures.assertSameTensors(stories, out);
    assertFalse(
        Files.readString(out, java.nio.charset.StandardCharsets.ISO_8859_1).startsWith("keep"));
  }
}
