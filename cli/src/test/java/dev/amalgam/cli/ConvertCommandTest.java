package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.convert.GgufFixtures;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code amalgam convert} through the CLI: a working run, and every kind of bad input ending in one
 * line on stderr, exit code 2, and no output or hidden partial file.
 */
class ConvertCommandTest {
  @TempDir Path tmp;

  private static CliHarness.Run convert(String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "convert";
    System.arraycopy(args, 0, all, 1, args.length);
    all[args.length + 1] = "--no-progress";
    all[args.length + 2] = "--no-fsync";
    return CliHarness.run(all);
  }

  private void assertNothingWritten(Path out) throws IOException {
    CliHarness.assertNoOutput(out);
    GgufFixtures.assertNoPartialFiles(tmp);
  }

  @Test
  void convertsAndReports() throws IOException {
    Path stories = GgufFixtures.stories();
    Path out = tmp.resolve("s.gguf");
    CliHarness.Run run = convert(stories.toString(), out.toString(), "--type", "q8_0");
    run.assertOk();
    assertTrue(run.out().startsWith("converted 48 tensors GGUF -> GGUF"), run.out());
    assertEquals(1, run.err().lines().count(), "one warning: " + run.err());
    assertTrue(run.err().startsWith("amalgam: warning: 5 tensors written as F16"), run.err());
    try (GgufFile f = GgufFile.open(out)) {
      assertEquals(GgmlType.Q8_0, f.tensor("blk.0.ffn_up.weight").orElseThrow().type());
    }
  }

  @Test
  void aMissingSourceIsRejected() throws IOException {
    Path out = tmp.resolve("out.gguf");
    convert(tmp.resolve("nowhere.gguf").toString(), out.toString())
        .assertInvalid("no such file", "nowhere.gguf");
    assertNothingWritten(out);
  }

  @Test
  void aTruncatedGgufIsRejectedWithItsName() throws IOException {
    Path stories = GgufFixtures.stories();
    byte[] all = Files.readAllBytes(stories);
    Path truncated = tmp.resolve("truncated.gguf");
    Files.write(truncated, java.util.Arrays.copyOf(all, all.length / 2));
    Path out = tmp.resolve("out.gguf");
    convert(truncated.toString(), out.toString()).assertInvalid("truncated.gguf");
    assertNothingWritten(out);
    Path hf = tmp.resolve("out-hf");
    convert(truncated.toString(), hf.toString()).assertInvalid("truncated.gguf");
    assertNothingWritten(hf);
    // Cut inside the header: the tensor infos are incomplete.
    Path header = tmp.resolve("header.gguf");
    Files.write(header, java.util.Arrays.copyOf(all, 9000));
    convert(header.toString(), out.toString(), "--type", "f16").assertInvalid("header.gguf");
    assertNothingWritten(out);
  }

  @Test
  void anHfDirectoryWithoutTokenizerCannotBecomeGguf() throws IOException {
    Path model = GgufFixtures.writeLlama3Checkpoint(tmp.resolve("no-tokenizer"), 5, 0);
    Files.delete(model.resolve("tokenizer.json"));
    Files.delete(model.resolve("tokenizer_config.json"));
    Path out = tmp.resolve("out.gguf");
    convert(model.toString(), out.toString()).assertInvalid("no-tokenizer", "tokenizer");
    assertNothingWritten(out);
  }

  @Test
  void quantizedTypesNeedAGgufOutput() throws IOException {
    Path stories = GgufFixtures.stories();
    Path out = tmp.resolve("hf-out");
    convert(stories.toString(), out.toString(), "--type", "q8_0").assertInvalid("q8_0", ".gguf");
    assertNothingWritten(out);
    convert(stories.toString(), tmp.resolve("x.gguf").toString(), "--type", "q4_k")
        .assertInvalid("q4_k");
    assertNothingWritten(tmp.resolve("x.gguf"));
  }

  @Test
  void anExistingTargetIsLeftAloneWithoutForce() throws IOException {
    Path stories = GgufFixtures.stories();
    Path out = tmp.resolve("existing.gguf");
    Files.writeString(out, "precious");
    convert(stories.toString(), out.toString(), "--type", "f16")
        .assertInvalid("existing.gguf", "--force");
    assertEquals("precious", Files.readString(out));
    Path dir = Files.createDirectories(tmp.resolve("existing-hf"));
    Files.writeString(dir.resolve("keep.txt"), "x");
    convert(stories.toString(), dir.toString()).assertInvalid("existing-hf", "--force");
    assertEquals(
        List.of("keep.txt"), Files.list(dir).map(p -> p.getFileName().toString()).toList());
    GgufFixtures.assertNoPartialFiles(tmp);

    convert(stories.toString(), out.toString(), "--force").assertOk();
    assertEquals(-1, Files.mismatch(stories, out), "--force replaces it with the byte copy");
  }

  @Test
  void aNonLlamaGgufIsRejectedWithItsArchitecture() throws IOException {
    Path gpt2 = tmp.resolve("gpt2.gguf");
    GgufMetadata metadata =
        new GgufMetadata()
            .put("general.architecture", GgufValue.string("gpt2"))
            .put("gpt2.block_count", GgufValue.uint32(1));
    List<GgufWriter.TensorSpec> specs =
        List.of(
            new GgufWriter.TensorSpec("token_embd.weight", GgmlType.F32, new long[] {4, 8}),
            new GgufWriter.TensorSpec("blk.0.attn_qkv.weight", GgmlType.F32, new long[] {4, 12}));
    try (GgufWriter w = GgufWriter.create(gpt2, metadata, specs)) {
      for (GgufWriter.TensorSpec s : specs) {
        w.beginTensor(s.name());
        w.write(ByteBuffer.allocate((int) (s.ne()[0] * s.ne()[1] * 4)));
        w.endTensor();
      }
      w.finish();
    }
    Path hf = tmp.resolve("out-hf");
    convert(gpt2.toString(), hf.toString()).assertInvalid("gpt2.gguf", "architecture 'gpt2'");
    assertNothingWritten(hf);
    Path out = tmp.resolve("out.gguf");
    convert(gpt2.toString(), out.toString(), "--type", "f16")
        .assertInvalid("gpt2.gguf", "architecture 'gpt2'");
    assertNothingWritten(out);
    convert(gpt2.toString(), out.toString()).assertInvalid("gpt2.gguf", "architecture 'gpt2'");
    assertNothingWritten(out);
  }

  /** stories260K with one metadata key removed (tensors copied unchanged). */
  static Path storiesWithout(Path stories, Path target, String key) throws IOException {
    try (GgufFile src = GgufFile.open(stories)) {
      List<GgufWriter.TensorSpec> specs =
          src.tensors().stream().map(GgufWriter.TensorSpec::of).toList();
      try (GgufWriter w =
          GgufWriter.create(target, new GgufMetadata(src.metadata()).remove(key), specs)) {
        w.setSync(false);
        for (GgufWriter.TensorSpec s : specs) {
          w.beginTensor(s.name());
          w.write(ByteBuffer.wrap(GgufFixtures.bytes(src, s.name())));
          w.endTensor();
        }
        w.finish();
      }
    }
    return target;
  }

  @Test
  void missingHyperparametersAreBadInputForConvertAndMerge() throws IOException {
    Path broken =
        storiesWithout(GgufFixtures.stories(), tmp.resolve("no-blocks.gguf"), "llama.block_count");
    Path hf = tmp.resolve("out-hf");
    convert(broken.toString(), hf.toString()).assertInvalid("no-blocks.gguf", "llama.block_count");
    assertNothingWritten(hf);
    Path config =
        CliHarness.config(
            tmp,
            "m.yml",
            "merge_method: linear\nmodels:\n  - model: "
                + broken
                + "\n    parameters:\n      weight: 1.0\n");
    Path out = tmp.resolve("merged.gguf");
    CliHarness.run("merge", config.toString(), out.toString(), "--no-progress")
        .assertInvalid("no-blocks.gguf", "llama.block_count");
    assertNothingWritten(out);
  }
}
