package dev.amalgam.bench;

import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the end-to-end benchmark pair of docs/performance.md §5.2: two Llama-shaped bf16 models of
 * about 1.67 GB each (16 layers, hidden 2048, intermediate 5632, vocab 32000, 32 heads / 4 KV
 * heads, untied lm_head), the second equal to the first plus 10% noise (cosine about 0.995), so the
 * matrices take SLERP's spherical path, each with a synthetic Llama-3-style tokenizer so that it
 * also converts and merges to GGUF.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar dev.amalgam.bench.GenerateModels DIR_A
 * DIR_B [LAYERS [DIR_C]]} (default 16 layers; 32 gives a ~3.3 GB pair with the same largest tensor,
 * for memory scaling; DIR_C adds a third model, A plus other 10% noise, for the three-input TIES
 * and DARE benchmark).
 */
public final class GenerateModels {
  private GenerateModels() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2 || args.length > 4) {
      System.err.println("usage: GenerateModels DIR_A DIR_B [LAYERS [DIR_C]]");
      System.exit(2);
    }
    // SHAPE=8b: Llama-3.1-8B's shape (32 layers, hidden 4096, intermediate 14336, vocab 128256), 16
    // GB each
    SyntheticLlama.Shape b =
        "8b".equalsIgnoreCase(System.getenv("SHAPE"))
            ? new SyntheticLlama.Shape(32, 4096, 14336, 128256, 32, 8, false)
            : SyntheticLlama.Shape.benchmark();
    int layers = args.length >= 3 ? Integer.parseInt(args[2]) : b.layers();
    SyntheticLlama.Shape shape =
        new SyntheticLlama.Shape(
            layers, b.hidden(), b.intermediate(), b.vocab(), b.heads(), b.kvHeads(), false);
    // A, then B = A + 10% noise, then (optionally) C = A + 10% other noise: a base and two
    // fine-tunes
    String[] dirs =
        args.length == 4
            ? new String[] {args[0], args[1], args[3]}
            : new String[] {args[0], args[1]};
    for (int i = 0; i < dirs.length; i++) {
      Path dir = Path.of(dirs[i]);
      if (Files.isRegularFile(dir.resolve("model.safetensors"))
          && Files.isRegularFile(dir.resolve("config.json"))
          && Files.isRegularFile(dir.resolve("tokenizer.json"))) {
        System.err.println("keeping existing " + dir);
        continue;
      }
      long start = System.nanoTime();
      SyntheticLlama.write(dir, shape, DType.BF16, 1, i == 0 ? 0 : 0.1, 1L + i, 5_000_000_000L);
      SyntheticTokenizers.writeLlama3(
          dir, shape.vocab()); // so the models also convert and merge to GGUF
      System.err.printf("wrote %s in %.1f s%n", dir, (System.nanoTime() - start) / 1e9);
    }
  }
}
