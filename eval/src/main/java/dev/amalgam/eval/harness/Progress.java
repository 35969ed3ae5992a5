package dev.amalgam.eval.harness;

/**
 * Progress of one model's examples, shown by the CLI (a progress bar on a terminal, else a line per
 * N examples).
 */
public interface Progress {
  /** Reports nothing. */
  Progress NONE =
      new Progress() {
        @Override
        public void start(String label, int total) {}

        @Override
        public void step(int done, long generatedTokens, double tokensPerSecond) {}

        @Override
        public void finish() {}
      };

  /** A model's run starts; {@code total} examples follow. */
  void start(String label, int total);

  /**
   * {@code done} examples are finished.
   *
   * @param generatedTokens tokens generated so far (0 for log-likelihood scoring)
   * @param tokensPerSecond generated tokens per second of generation time so far (0 when unknown)
   */
  void step(int done, long generatedTokens, double tokensPerSecond);

  /** A one-line note about the run (for example how many sequences generate in parallel). */
  default void note(String line) {}

  /** The run ended (also after a failure). */
  void finish();
}
