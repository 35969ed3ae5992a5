package dev.amalgam.eval.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.eval.llama.jni.LlamaNative;
import dev.amalgam.testing.TestAssets;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Java entry that reaches the llama bridge, driven with bad arguments on stories260K: freed
 * models, contexts and samplers, out-of-range tokens, positions, sequences and rows, bad sizes and
 * sampler settings. Each must throw LlamaBridgeException with a reason and a message, never reach
 * native code with a dangling handle or crash the JVM. Each test names the native functions it
 * drives in {@link Drives}; {@link #everyNativeFunctionHasABoundaryCase} fails when LlamaNative
 * gains a native method that no test drives. SequencePrimitivesTest and LlamaScorerTest hold the
 * working-path tests.
 */
class BridgeBoundaryTest {
  /** The native functions of LlamaNative that a test drives with bad arguments. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  @interface Drives {
    String[] value();
  }

  private static void rejects(Reason reason, String mentions, Executable call) {
    LlamaBridgeException e = assertThrows(LlamaBridgeException.class, call, mentions);
    assertEquals(reason, e.reason(), e.getMessage());
    assertTrue(
        e.getMessage().contains(mentions), "'" + e.getMessage() + "' lacks '" + mentions + "'");
  }

  @Test
  void everyNativeFunctionHasABoundaryCase() {
    Set<String> natives = new TreeSet<>();
    for (Method m : LlamaNative.class.getDeclaredMethods()) {
      if (Modifier.isNative(m.getModifiers())) natives.add(m.getName());
    }
    Set<String> driven = new TreeSet<>();
    for (Method m : BridgeBoundaryTest.class.getDeclaredMethods()) {
      Drives d = m.getAnnotation(Drives.class);
      if (d != null) driven.addAll(Arrays.asList(d.value()));
    }
    Set<String> missing = new TreeSet<>(natives);
    missing.removeAll(driven);
    assertTrue(missing.isEmpty(), "native functions without a boundary case: " + missing);
    Set<String> stale = new TreeSet<>(driven);
    stale.removeAll(natives);
    assertTrue(stale.isEmpty(), "boundary cases of functions that are gone: " + stale);
  }

  @Test
  @Drives({
    "amalgam_llama_abi_version",
    "amalgam_llama_open_library",
    "amalgam_llama_library_description",
    "amalgam_llama_status_message",
    "amalgam_llama_last_error"
  })
  void libraryAndStatusCalls() {
    String description = LlamaLibrary.describe();
    assertTrue(description.contains("llama.cpp"), description);
    assertEquals("unknown status", LlamaNative.amalgam_llama_status_message(Integer.MIN_VALUE));
    // The bridge refuses an empty path itself and says why on the calling thread.
    assertEquals(
        NativeCalls.ERR_ARGUMENT, LlamaNative.amalgam_llama_open_library(new byte[] {0}, 0));
    assertTrue(NativeCalls.detail(NativeCalls.ERR_ARGUMENT).contains("empty"));
    // A second, different library in the same process is refused by Java before native code.
    rejects(
        Reason.LIBRARY_UNAVAILABLE,
        "one llama.cpp library per process",
        () -> {
          String before = System.getProperty(LlamaLibrary.LIBRARY_PROPERTY);
          System.setProperty(LlamaLibrary.LIBRARY_PROPERTY, "/nonexistent/libllama.so");
          try {
            LlamaLibrary.describe();
          } finally {
            if (before == null) System.clearProperty(LlamaLibrary.LIBRARY_PROPERTY);
            else System.setProperty(LlamaLibrary.LIBRARY_PROPERTY, before);
          }
        });
  }

  @Test
  @Drives({
    "amalgam_llama_load_model",
    "amalgam_llama_free_model",
    "amalgam_llama_model_info",
    "amalgam_llama_model_shape",
    "amalgam_llama_model_size"
  })
  void modelLoading(@TempDir Path dir) throws Exception {
    Path file = TestAssets.stories260K();
    rejects(Reason.BAD_ARGUMENT, "gpu layers", () -> NativeModel.load(file, -1, false));
    rejects(
        Reason.MODEL_NOT_FOUND,
        "no such model",
        () -> NativeModel.load(dir.resolve("x"), 0, false));
    Path garbage = Files.write(dir.resolve("garbage.gguf"), new byte[] {'G', 'G', 'U', 'F', 9});
    LlamaBridgeException e =
        assertThrows(LlamaBridgeException.class, () -> NativeModel.load(garbage, 0, false));
    assertEquals(Reason.MODEL_LOAD_FAILED, e.reason(), e.getMessage());
    NativeModel model = NativeModel.load(file, 0, false);
    model.close();
    model.close(); // idempotent: the handle is freed once
    rejects(Reason.CLOSED, "model was closed", model::handle);
  }

  @Test
  @Drives({
    "amalgam_llama_tokenize",
    "amalgam_llama_token_text",
    "amalgam_llama_token_piece",
    "amalgam_llama_token_is_eog",
    "amalgam_llama_chat_template",
    "amalgam_llama_chat_apply"
  })
  void tokensOfAModel() {
    NativeModel model = NativeModel.load(TestAssets.stories260K(), 0, false);
    int vocab = model.vocabSize();
    try (model) {
      assertThrows(NullPointerException.class, () -> model.tokenize(null));
      for (int bad : new int[] {-1, vocab, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
        rejects(Reason.BAD_ARGUMENT, "token " + bad, () -> model.piece(bad));
        rejects(Reason.BAD_ARGUMENT, "token " + bad, () -> model.isEndOfGeneration(bad));
      }
      rejects(
          Reason.BAD_ARGUMENT,
          "NUL",
          () -> model.chatPrompt(List.<String[]>of(new String[] {"user", "a\0b"})));
      assertTrue(model.tokenize("Once upon a time").length > 1);
      model.bosTextIfAdded();
    }
    rejects(Reason.CLOSED, "model was closed", () -> model.tokenize("a"));
    rejects(Reason.CLOSED, "model was closed", () -> model.piece(1));
    rejects(Reason.CLOSED, "model was closed", () -> model.isEndOfGeneration(1));
    rejects(
        Reason.CLOSED,
        "model was closed",
        () -> model.chatPrompt(List.<String[]>of(new String[] {"user", "hi"})));
  }

  @Test
  @Drives({
    "amalgam_llama_new_context",
    "amalgam_llama_free_context",
    "amalgam_llama_context_info",
    "amalgam_llama_decode",
    "amalgam_llama_kv_clear",
    "amalgam_llama_kv_seq_rm",
    "amalgam_llama_kv_seq_cp"
  })
  void contexts() {
    try (NativeModel model = NativeModel.load(TestAssets.stories260K(), 0, false)) {
      rejects(Reason.BAD_ARGUMENT, "sequences", () -> SequenceContext.create(model, 64, 32, 0, 1));
      rejects(Reason.BAD_ARGUMENT, "sequences", () -> SequenceContext.create(model, 64, 32, 65, 1));
      rejects(Reason.BAD_ARGUMENT, "threads", () -> SequenceContext.create(model, 0, 32, 1, 1));
      rejects(Reason.BAD_ARGUMENT, "threads", () -> SequenceContext.create(model, 64, 32, 1, 0));
      SequenceContext context = SequenceContext.create(model, 64, 16, 2, 1);
      int vocab = model.vocabSize();
      int batch = context.batchSize();
      int[] tokens = {1, 2, 3};
      int[] positions = {0, 1, 2};
      int[] seqs = {0, 0, 0};
      byte[] outputs = {0, 0, 1};
      rejects(
          Reason.BAD_ARGUMENT, "1 to", () -> context.decode(tokens, positions, seqs, outputs, 0));
      rejects(
          Reason.BAD_ARGUMENT,
          "1 to",
          () -> context.decode(tokens, positions, seqs, outputs, batch + 1));
      rejects(
          Reason.BAD_ARGUMENT,
          "shorter than 4",
          () -> context.decode(new int[4], positions, seqs, new byte[4], 4));
      rejects(
          Reason.BAD_ARGUMENT,
          "token " + vocab,
          () -> context.decode(new int[] {1, vocab, 3}, positions, seqs, outputs, 3));
      rejects(
          Reason.BAD_ARGUMENT,
          "token -1",
          () -> context.decode(new int[] {-1, 2, 3}, positions, seqs, outputs, 3));
      rejects(
          Reason.TEXT_TOO_LONG,
          "position -1",
          () -> context.decode(tokens, new int[] {0, -1, 2}, seqs, outputs, 3));
      rejects(
          Reason.TEXT_TOO_LONG,
          "position " + Integer.MAX_VALUE,
          () -> context.decode(tokens, new int[] {0, 1, Integer.MAX_VALUE}, seqs, outputs, 3));
      rejects(
          Reason.BAD_ARGUMENT,
          "sequence 2",
          () -> context.decode(tokens, positions, new int[] {0, 2, 0}, outputs, 3));
      rejects(Reason.BAD_ARGUMENT, "sequence -1", () -> context.remove(-1, 0, -1));
      rejects(Reason.BAD_ARGUMENT, "bad position range", () -> context.remove(0, -1, 5));
      rejects(Reason.BAD_ARGUMENT, "bad position range", () -> context.remove(0, 5, 2));
      rejects(Reason.BAD_ARGUMENT, "sequence 2", () -> context.copy(0, 2, 0, -1));
      rejects(Reason.BAD_ARGUMENT, "onto itself", () -> context.copy(1, 1, 0, -1));
      context.decode(tokens, positions, seqs, outputs, 3);
      context.copy(0, 1, 0, -1);
      context.remove(1, 1, -1);
      context.clear();
      context.close();
      context.close(); // idempotent
      rejects(
          Reason.CLOSED,
          "context was closed",
          () -> context.decode(tokens, positions, seqs, outputs, 3));
      rejects(Reason.CLOSED, "context was closed", context::clear);
      rejects(Reason.CLOSED, "context was closed", () -> context.remove(0, 0, -1));
      rejects(Reason.CLOSED, "context was closed", () -> context.copy(0, 1, 0, -1));
    }
  }

  @Test
  @Drives({"amalgam_llama_new_sampler", "amalgam_llama_free_sampler", "amalgam_llama_sample"})
  void samplers() {
    try (NativeModel model = NativeModel.load(TestAssets.stories260K(), 0, false);
        SequenceContext context = SequenceContext.create(model, 64, 16, 1, 1)) {
      for (float t : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
        rejects(Reason.BAD_ARGUMENT, "temperature", () -> TokenSampler.create(model, t, 1, null));
      }
      rejects(Reason.BAD_ARGUMENT, "non-blank", () -> TokenSampler.create(model, 1f, 1, " "));
      rejects(
          Reason.BAD_ARGUMENT, "NUL", () -> TokenSampler.create(model, 1f, 1, "root ::= \"a\0\""));
      LlamaBridgeException e =
          assertThrows(
              LlamaBridgeException.class, () -> TokenSampler.create(model, 1f, 1, "root ::= ("));
      assertEquals(Reason.BAD_ARGUMENT, e.reason(), e.getMessage());
      TokenSampler sampler = TokenSampler.create(model, 0.8f, Integer.MIN_VALUE, null);
      context.decode(new int[] {1, 2}, new int[] {0, 1}, new int[] {0, 0}, new byte[] {0, 1}, 2);
      rejects(Reason.BAD_ARGUMENT, "row -1", () -> sampler.sample(context, -1));
      rejects(
          Reason.BAD_ARGUMENT,
          "row " + context.batchSize(),
          () -> sampler.sample(context, context.batchSize()));
      // Row 0 was decoded without logits: the bridge refuses it with its own reason.
      e = assertThrows(LlamaBridgeException.class, () -> sampler.sample(context, 0));
      assertEquals(Reason.NATIVE_ERROR, e.reason(), e.getMessage());
      int token = sampler.sample(context, 1);
      assertTrue(token >= 0 && token < model.vocabSize());
      sampler.close();
      sampler.close(); // idempotent
      rejects(Reason.CLOSED, "sampler was closed", () -> sampler.sample(context, 1));
    }
  }

  @Test
  @Drives({"amalgam_llama_score", "amalgam_llama_score_shared_prefix"})
  void scorer() {
    LlamaScorer scorer = LlamaScorer.open(TestAssets.stories260K(), ScorerOptions.defaults());
    try (scorer) {
      int vocab = scorer.vocabSize();
      rejects(Reason.BAD_ARGUMENT, "" + vocab, () -> scorer.tokenLogProbs(new int[] {1, vocab}));
      rejects(Reason.BAD_ARGUMENT, "-1", () -> scorer.tokenLogProbs(new int[] {1, -1}));
      LlamaBridgeException tooShort =
          assertThrows(LlamaBridgeException.class, () -> scorer.tokenLogProbs(new int[] {1}));
      assertEquals(Reason.TEXT_TOO_SHORT, tooShort.reason(), tooShort.getMessage());
      LlamaBridgeException tooLong =
          assertThrows(
              LlamaBridgeException.class,
              () -> scorer.tokenLogProbs(new int[scorer.maxSequenceLength() + 1]));
      assertEquals(Reason.TEXT_TOO_LONG, tooLong.reason(), tooLong.getMessage());
      assertTrue(scorer.continuationLogLikelihood("Once upon", " a time").logLikelihood() < 0);
    }
    rejects(Reason.CLOSED, "closed", () -> scorer.tokenLogProbs(new int[] {1, 2}));
    rejects(Reason.CLOSED, "closed", () -> scorer.continuationLogLikelihood("Once", " upon"));
  }

  @Test
  void closingAModelClosesItsContextsAndSamplersFirst() {
    // Regression: a context decoded after its model was freed aborted the JVM in llama.cpp.
    NativeModel model = NativeModel.load(TestAssets.stories260K(), 0, false);
    SequenceContext context = SequenceContext.create(model, 64, 16, 1, 1);
    TokenSampler sampler = TokenSampler.create(model, 0f, 1, null);
    model.close();
    rejects(
        Reason.CLOSED,
        "context was closed",
        () -> context.decode(new int[] {1}, new int[] {0}, new int[] {0}, new byte[] {1}, 1));
    rejects(Reason.CLOSED, "sampler was closed", () -> sampler.sample(context, 0));
    rejects(Reason.CLOSED, "context was closed", context::clear);
    rejects(Reason.CLOSED, "model was closed", () -> SequenceContext.create(model, 64, 16, 1, 1));
    rejects(Reason.CLOSED, "model was closed", () -> TokenSampler.create(model, 0f, 1, null));
    sampler.close();
    context.close();
  }
}
