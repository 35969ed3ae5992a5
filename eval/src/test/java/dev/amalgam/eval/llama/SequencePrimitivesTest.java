package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bridge's generation primitives on stories260K: greedy decoding against the scorer's exact
 * logits, independent sequences in one context, KV prefix copies, grammars and bad input.
 */
class SequencePrimitivesTest {
  private static final String LILY = "Once upon a time, there was a little girl named Lily.";
  private static final String TOM = "Tom had a big red ball and he liked to";

  /** Greedy continuation of each prompt, all prompts decoded side by side in one context. */
  private static List<int[]> greedyTogether(NativeModel model, List<int[]> prompts, int steps) {
    int n = prompts.size();
    try (SequenceContext context = SequenceContext.create(model, 256 * n, 256, n, 2)) {
      List<TokenSampler> samplers = new ArrayList<>();
      List<int[]> out = new ArrayList<>();
      try {
        int total = 0;
        for (int[] p : prompts) total += p.length;
        int[] tokens = new int[total];
        int[] positions = new int[total];
        int[] seq = new int[total];
        byte[] outputs = new byte[total];
        int[] rows = new int[n];
        int k = 0;
        for (int s = 0; s < n; s++) {
          int[] p = prompts.get(s);
          for (int i = 0; i < p.length; i++, k++) {
            tokens[k] = p[i];
            positions[k] = i;
            seq[k] = s;
            outputs[k] = (byte) (i == p.length - 1 ? 1 : 0);
            if (i == p.length - 1) rows[s] = k;
          }
          samplers.add(TokenSampler.create(model, 0f, 42, null));
          out.add(new int[steps]);
        }
        context.decode(tokens, positions, seq, outputs, total);
        for (int step = 0; step < steps; step++) {
          int[] next = new int[n];
          int[] pos = new int[n];
          int[] ids = new int[n];
          byte[] all = new byte[n];
          for (int s = 0; s < n; s++) {
            next[s] = samplers.get(s).sample(context, rows[s]);
            out.get(s)[step] = next[s];
            pos[s] = prompts.get(s).length + step;
            ids[s] = s;
            all[s] = 1;
            rows[s] = s;
          }
          context.decode(next, pos, ids, all, n);
        }
        return out;
      } finally {
        samplers.forEach(TokenSampler::close);
      }
    }
  }

  @Test
  void greedyTokensAreTheScorersArgmaxAndSequencesAreIndependent() {
    Path file = TestAssets.stories260K();
    try (NativeModel model = NativeModel.load(file, 0, false)) {
      int[] lily = model.tokenize(LILY);
      int[] tom = model.tokenize(TOM);
      int[] aloneLily = greedyTogether(model, List.of(lily), 12).get(0);
      int[] aloneTom = greedyTogether(model, List.of(tom), 12).get(0);
      List<int[]> together = greedyTogether(model, List.of(lily, tom), 12);
      assertTrue(Arrays.equals(aloneLily, together.get(0)), "sequence 0 as alone");
      assertTrue(Arrays.equals(aloneTom, together.get(1)), "sequence 1 as alone");
      // Every greedy token is a most likely token of the scorer's exact log-probabilities.
      StringBuilder text = new StringBuilder();
      for (int t : aloneLily) text.append(new String(model.piece(t), StandardCharsets.UTF_8));
      try (LlamaScorer scorer =
          LlamaScorer.open(file, ScorerOptions.builder().threads(2).build())) {
        ContinuationScore score = scorer.continuationLogLikelihood(LILY, text.toString());
        assertEquals(aloneLily.length, score.tokens(), text.toString());
        assertTrue(score.greedy(), "greedy tokens are the argmax: " + text);
      }
    }
  }

  @Test
  void aCopiedPrefixContinuesAsTheWholePrompt() {
    try (NativeModel model = NativeModel.load(TestAssets.stories260K(), 0, false);
        SequenceContext context = SequenceContext.create(model, 512, 256, 2, 2);
        TokenSampler whole = TokenSampler.create(model, 0f, 1, null);
        TokenSampler copied = TokenSampler.create(model, 0f, 1, null)) {
      int[] prompt = model.tokenize(LILY + " She");
      int n = prompt.length;
      // Sequence 0: the whole prompt. Sequence 1: a copy of the first n - 3 positions, then the
      // rest.
      int[] positions = new int[n];
      int[] seq0 = new int[n];
      byte[] last = new byte[n];
      for (int i = 0; i < n; i++) positions[i] = i;
      last[n - 1] = 1;
      context.decode(prompt, positions, seq0, last, n);
      int a = whole.sample(context, n - 1);
      context.copy(0, 1, 0, n - 3);
      int[] rest = Arrays.copyOfRange(prompt, n - 3, n);
      context.decode(
          rest, new int[] {n - 3, n - 2, n - 1}, new int[] {1, 1, 1}, new byte[] {0, 0, 1}, 3);
      int b = copied.sample(context, 2);
      assertEquals(a, b);
      context.remove(1, 0, -1);
      context.clear();
    }
  }

  @Test
  void grammarsConstrainAndUnknownSymbolsAreRefusedWithLlamasReason() {
    try (NativeModel model = NativeModel.load(TestAssets.stories260K(), 0, false)) {
      LlamaBridgeException e =
          assertThrows(
              LlamaBridgeException.class,
              () -> TokenSampler.create(model, 0f, 1, "root ::= \"a\" | undefined-rule"));
      assertEquals(Reason.BAD_ARGUMENT, e.reason());
      assertTrue(e.getMessage().contains("undefined-rule"), e.getMessage());
      for (String bad : List.of("root ::= (", "start ::= \"x\"", "root ::= [a-", "::=")) {
        assertEquals(
            Reason.BAD_ARGUMENT,
            assertThrows(LlamaBridgeException.class, () -> TokenSampler.create(model, 0f, 1, bad))
                .reason(),
            bad);
      }
      GenerationResult r =
          LlamaGeneration.generate(
              model.file(),
              GenerationRequest.builder()
                  .prompt("Is the sky blue?")
                  .grammar("root ::= \"yes\" | \"no\" | \"maybe\"")
                  .maxTokens(8)
                  .threads(2)
                  .contextSize(128)
                  .build());
      assertTrue(List.of("yes", "no", "maybe").contains(r.text()), r.text());
    }
  }

  @Test
  void badInputIsAJavaExceptionWithAReason(@TempDir Path dir) throws IOException {
    try (NativeModel model = NativeModel.load(TestAssets.stories260K(), 0, false)) {
      int vocab = model.vocabSize();
      SequenceContext context = SequenceContext.create(model, 64, 32, 2, 1);
      TokenSampler sampler = TokenSampler.create(model, 0f, 1, null);
      int[] one = {1};
      int[] zero = {0};
      byte[] out = {1};
      assertEquals(
          Reason.BAD_ARGUMENT,
          assertThrows(
                  LlamaBridgeException.class,
                  () -> context.decode(new int[] {vocab}, zero, zero, out, 1))
              .reason());
      assertEquals(
          Reason.BAD_ARGUMENT,
          assertThrows(
                  LlamaBridgeException.class,
                  () -> context.decode(new int[] {-1}, zero, zero, out, 1))
              .reason());
      assertEquals(
          Reason.TEXT_TOO_LONG,
          assertThrows(
                  LlamaBridgeException.class,
                  () -> context.decode(one, new int[] {64}, zero, out, 1))
              .reason());
      assertEquals(
          Reason.BAD_ARGUMENT,
          assertThrows(
                  LlamaBridgeException.class,
                  () -> context.decode(one, zero, new int[] {2}, out, 1))
              .reason());
      int over = context.batchSize() + 1;
      int[] many = new int[over];
      assertEquals(
          Reason.BAD_ARGUMENT,
          assertThrows(
                  LlamaBridgeException.class,
                  () -> context.decode(many, new int[over], new int[over], new byte[over], over))
              .reason());
      // No decode yet: no logits to sample from.
      assertEquals(
          Reason.NATIVE_ERROR,
          assertThrows(LlamaBridgeException.class, () -> sampler.sample(context, 0)).reason());
      assertThrows(LlamaBridgeException.class, () -> context.copy(0, 0, 0, 1));
      assertThrows(LlamaBridgeException.class, () -> context.remove(5, 0, 1));
      assertThrows(LlamaBridgeException.class, () -> model.piece(vocab));
      context.close();
      context.close();
      sampler.close();
      assertEquals(
          Reason.CLOSED,
          assertThrows(LlamaBridgeException.class, () -> context.decode(one, zero, zero, out, 1))
              .reason());
      assertEquals(
          Reason.CLOSED,
          assertThrows(LlamaBridgeException.class, () -> sampler.sample(context, 0)).reason());
    }
    // A prompt longer than the context, an empty file and a text file named .gguf.
    GenerationRequest longPrompt =
        GenerationRequest.builder().prompt(LILY.repeat(20)).contextSize(64).threads(1).build();
    LlamaBridgeException tooLong =
        assertThrows(
            LlamaBridgeException.class,
            () -> LlamaGeneration.generate(TestAssets.stories260K(), longPrompt));
    assertEquals(Reason.TEXT_TOO_LONG, tooLong.reason());
    assertTrue(tooLong.getMessage().contains("context of 64 tokens"), tooLong.getMessage());
    Path empty = Files.createFile(dir.resolve("empty.gguf"));
    Path text = Files.writeString(dir.resolve("notes.gguf"), "these are notes, not a model\n");
    for (Path bad : List.of(empty, text)) {
      LlamaBridgeException e =
          assertThrows(
              LlamaBridgeException.class,
              () ->
                  LlamaGeneration.generate(
                      bad, GenerationRequest.builder().prompt("x").threads(1).build()));
      assertEquals(Reason.MODEL_LOAD_FAILED, e.reason(), bad.toString());
      assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
    }
    LlamaBridgeException parallel =
        assertThrows(
            LlamaBridgeException.class,
            () ->
                LlamaGeneration.generateAll(
                    TestAssets.stories260K(),
                    List.of(longPrompt),
                    65,
                    LlamaGeneration.DEFAULT_TIMEOUT));
    assertEquals(Reason.BAD_ARGUMENT, parallel.reason());
  }
}
