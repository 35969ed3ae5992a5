package dev.amalgam.bench;

import dev.amalgam.synthetic.PerturbedGguf;
import java.nio.file.Path;

/**
 * Writes a perturbed copy of a GGUF model, as the demo does (every matrix plus seeded noise of 0.3
 * times its RMS, seed 7): {@code java -cp benchmarks/target/benchmarks.jar
 * dev.amalgam.bench.PerturbGguf SRC.gguf DST.gguf}.
 */
public final class PerturbGguf {
  private PerturbGguf() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: PerturbGguf SRC.gguf DST.gguf");
      System.exit(2);
    }
    PerturbedGguf.write(Path.of(args[0]), Path.of(args[1]), 0.3, 7);
  }
}
