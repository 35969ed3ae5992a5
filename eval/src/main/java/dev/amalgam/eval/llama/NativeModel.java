package dev.amalgam.eval.llama;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.eval.llama.jni.LlamaNative;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A loaded model of the bridge: tokenizer, token pieces, end-of-generation tokens and chat
 * templates. Validates every argument before the native call; {@link #close()} frees the model and
 * is idempotent. Not thread-safe: one engine owns it.
 */
final class NativeModel implements AutoCloseable {
  private final Path file;
  private long handle;
  private final int vocabSize;
  private final int bosToken;
  private final boolean addsBos;
  private final int[] shape;
  private final long parameters;
  private final byte[][] pieces;
  private final byte[] eog;
  // Contexts and samplers made from this model: llama.cpp's point into the model, so they are freed
  // before it (a context used or freed after its model aborts the JVM inside llama.cpp).
  private final Set<AutoCloseable> dependents = new LinkedHashSet<>();
  private String bosText;

  private NativeModel(Path file, long handle, int[] info, int[] shape, long parameters) {
    this.file = file;
    this.handle = handle;
    this.vocabSize = info[0];
    this.bosToken = info[1];
    this.addsBos = info[2] != 0;
    this.shape = shape;
    this.parameters = parameters;
    this.pieces = new byte[vocabSize][];
    this.eog = new byte[vocabSize];
  }

  /**
   * Loads a GGUF model.
   *
   * @throws LlamaBridgeException MODEL_NOT_FOUND, MODEL_LOAD_FAILED, LIBRARY_UNAVAILABLE
   */
  static NativeModel load(Path gguf, int gpuLayers, boolean verbose) {
    Objects.requireNonNull(gguf, "gguf");
    if (gpuLayers < 0) {
      throw new LlamaBridgeException(Reason.BAD_ARGUMENT, "gpu layers must be >= 0");
    }
    if (!Files.isRegularFile(gguf)) {
      throw new LlamaBridgeException(Reason.MODEL_NOT_FOUND, gguf + ": no such model file");
    }
    LlamaLibrary.ensureOpen(verbose);
    long[] out = new long[1];
    NativeCalls.check(
        LlamaNative.amalgam_llama_load_model(
            LlamaLibrary.cString(gguf.toAbsolutePath().toString()), gpuLayers, 0, out),
        Reason.MODEL_LOAD_FAILED,
        gguf);
    try {
      int[] info = new int[3];
      NativeCalls.check(
          LlamaNative.amalgam_llama_model_info(out[0], info), Reason.NATIVE_ERROR, gguf);
      int[] shape = new int[5];
      NativeCalls.check(
          LlamaNative.amalgam_llama_model_shape(out[0], shape), Reason.NATIVE_ERROR, gguf);
      long[] parameters = new long[1];
      long[] bytes = new long[1];
      NativeCalls.check(
          LlamaNative.amalgam_llama_model_size(out[0], parameters, bytes),
          Reason.NATIVE_ERROR,
          gguf);
      return new NativeModel(gguf, out[0], info, shape, parameters[0]);
    } catch (RuntimeException e) {
      LlamaNative.amalgam_llama_free_model(out[0]);
      throw e;
    }
  }

  Path file() {
    return file;
  }

  long handle() {
    ensureOpen();
    return handle;
  }

  int vocabSize() {
    return vocabSize;
  }

  /** Bytes of KV cache one token takes in an F16 cache: K and V of every layer. */
  long kvBytesPerToken() {
    long layers = shape[0];
    long embd = shape[1];
    long heads = Math.max(1, shape[2]);
    long kvHeads = shape[3] > 0 ? shape[3] : heads;
    return 2L * layers * (embd / heads) * kvHeads * 2L;
  }

  /** Parameter count. */
  long parameters() {
    return parameters;
  }

  /** Multiply-adds per token of attention over one cached position: K and V of every layer. */
  long attentionWorkPerPosition() {
    return 2L * Math.max(1, shape[0]) * Math.max(1, shape[1]);
  }

  /** Attention heads. */
  int heads() {
    return Math.max(1, shape[2]);
  }

  /** Tokenizes as java-llama.cpp's completion does: BOS when the vocabulary adds it, specials. */
  int[] tokenize(String text) {
    Objects.requireNonNull(text, "text");
    ensureOpen();
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int[] tokens = new int[Math.max(8, bytes.length + 2)];
    int[] count = new int[1];
    int status =
        LlamaNative.amalgam_llama_tokenize(
            handle, bytes, bytes.length, 1, 1, tokens, tokens.length, count);
    if (status == NativeCalls.ERR_BUFFER_TOO_SMALL) {
      tokens = new int[count[0]];
      status =
          LlamaNative.amalgam_llama_tokenize(
              handle, bytes, bytes.length, 1, 1, tokens, tokens.length, count);
    }
    NativeCalls.check(status, Reason.NATIVE_ERROR, file);
    return Arrays.copyOf(tokens, count[0]);
  }

  /** The UTF-8 bytes a token renders as (control tokens render as nothing); cached. */
  byte[] piece(int token) {
    checkToken(token);
    byte[] cached = pieces[token];
    if (cached != null) return cached;
    byte[] buffer = new byte[32];
    int[] length = new int[1];
    int status =
        LlamaNative.amalgam_llama_token_piece(handle, token, 0, buffer, buffer.length, length);
    if (status == NativeCalls.ERR_BUFFER_TOO_SMALL) {
      buffer = new byte[length[0]];
      status =
          LlamaNative.amalgam_llama_token_piece(handle, token, 0, buffer, buffer.length, length);
    }
    NativeCalls.check(status, Reason.NATIVE_ERROR, file);
    cached = Arrays.copyOf(buffer, length[0]);
    pieces[token] = cached;
    return cached;
  }

  /** Whether a token ends generation (end of sequence, end of turn); cached. */
  boolean isEndOfGeneration(int token) {
    checkToken(token);
    if (eog[token] == 0) {
      int[] out = new int[1];
      NativeCalls.check(
          LlamaNative.amalgam_llama_token_is_eog(handle, token, out), Reason.NATIVE_ERROR, file);
      eog[token] = (byte) (out[0] != 0 ? 2 : 1);
    }
    return eog[token] == 2;
  }

  /** Whether tokenizing prepends BOS. */
  boolean addsBos() {
    return addsBos && bosToken >= 0;
  }

  /** The text of the BOS token if tokenizing prepends it, else the empty string; read once. */
  String bosTextIfAdded() {
    ensureOpen();
    if (bosText == null) bosText = addsBos() ? readBosText() : "";
    return bosText;
  }

  private String readBosText() {
    byte[] buffer = new byte[256];
    int[] length = new int[1];
    int status =
        LlamaNative.amalgam_llama_token_text(handle, bosToken, buffer, buffer.length, length);
    if (status == NativeCalls.ERR_BUFFER_TOO_SMALL) {
      buffer = new byte[length[0]];
      status =
          LlamaNative.amalgam_llama_token_text(handle, bosToken, buffer, buffer.length, length);
    }
    NativeCalls.check(status, Reason.NATIVE_ERROR, file);
    return new String(buffer, 0, length[0], StandardCharsets.UTF_8);
  }

  /**
   * The prompt of a one-message user chat, formatted as java-llama.cpp 4.2.0 does: with the model's
   * template, or ChatML when the model has none, and the assistant turn opened.
   *
   * @throws LlamaBridgeException BAD_ARGUMENT when llama.cpp does not support the model's template
   */
  String chatPrompt(List<String[]> messages) {
    ensureOpen();
    byte[] buffer = new byte[4096];
    int[] length = new int[1];
    int status = LlamaNative.amalgam_llama_chat_template(handle, buffer, buffer.length, length);
    if (status == NativeCalls.ERR_BUFFER_TOO_SMALL) {
      buffer = new byte[length[0]];
      status = LlamaNative.amalgam_llama_chat_template(handle, buffer, buffer.length, length);
    }
    NativeCalls.check(status, Reason.NATIVE_ERROR, file);
    String template =
        length[0] < 0 ? "chatml" : new String(buffer, 0, length[0], StandardCharsets.UTF_8);
    StringBuilder packed = new StringBuilder();
    for (String[] message : messages) {
      for (String part : message) {
        if (part.indexOf('\0') >= 0) {
          throw new LlamaBridgeException(
              Reason.BAD_ARGUMENT, "a chat message holds a NUL character");
        }
        packed.append(part).append('\0');
      }
    }
    byte[] tmpl = LlamaLibrary.cString(template);
    byte[] packedBytes = packed.toString().getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[Math.max(256, packedBytes.length * 2 + 256)];
    status =
        LlamaNative.amalgam_llama_chat_apply(
            tmpl, packedBytes, messages.size(), 1, out, out.length, length);
    if (status == NativeCalls.ERR_BUFFER_TOO_SMALL) {
      out = new byte[length[0]];
      status =
          LlamaNative.amalgam_llama_chat_apply(
              tmpl, packedBytes, messages.size(), 1, out, out.length, length);
    }
    NativeCalls.check(
        status,
        status == NativeCalls.ERR_TEMPLATE ? Reason.BAD_ARGUMENT : Reason.NATIVE_ERROR,
        file);
    return new String(out, 0, length[0], StandardCharsets.UTF_8);
  }

  private void checkToken(int token) {
    ensureOpen();
    if (token < 0 || token >= vocabSize) {
      throw new LlamaBridgeException(
          Reason.BAD_ARGUMENT, file + ": token " + token + " outside [0, " + vocabSize + ")");
    }
  }

  private void ensureOpen() {
    if (handle == 0) throw new LlamaBridgeException(Reason.CLOSED, file + ": model was closed");
  }

  /** Records a context or sampler of this model, which {@link #close()} then closes first. */
  synchronized void adopt(AutoCloseable dependent) {
    ensureOpen();
    dependents.add(dependent);
  }

  /** Forgets a dependent that closed itself. */
  synchronized void release(AutoCloseable dependent) {
    dependents.remove(dependent);
  }

  /** Closes this model's open contexts and samplers, then frees it; idempotent. */
  @Override
  public void close() {
    List<AutoCloseable> open;
    synchronized (this) {
      open = new ArrayList<>(dependents);
    }
    for (AutoCloseable dependent : open) {
      try {
        dependent.close();
      } catch (Exception e) {
        throw new IllegalStateException("closing a dependent of " + file, e);
      }
    }
    synchronized (this) {
      if (handle != 0) {
        LlamaNative.amalgam_llama_free_model(handle);
        handle = 0;
      }
    }
  }
}
