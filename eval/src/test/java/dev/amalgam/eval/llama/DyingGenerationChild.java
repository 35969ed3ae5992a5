package dev.amalgam.eval.llama;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A stand-in generation child that streams two results and then dies like a crashed native library.
 */
public final class DyingGenerationChild {
  private DyingGenerationChild() {}

  /** Streams results for requests 0 and 1, then halts with exit code 134 (as SIGABRT would). */
  public static void main(String[] args) throws Exception {
    System.in.readAllBytes();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    out.println(LlamaGeneration.LOADED_PREFIX + "{\"millis\":1}");
    for (int i = 0; i < 2; i++) {
      out.println(
          LlamaGeneration.ITEM_PREFIX
              + "{\"index\":"
              + i
              + ",\"text\":\" text "
              + i
              + "\",\"prompt\":\"p\","
              + "\"millis\":5,\"promptTokens\":3,\"generatedTokens\":2}");
    }
    System.err.println("GGML_ASSERT failed (simulated)");
    Runtime.getRuntime().halt(134);
  }
}
