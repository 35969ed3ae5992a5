package dev.amalgam.eval.ifeval;

/** One instruction of a prompt, built from its kwargs: decides whether a response follows it. */
@FunctionalInterface
interface Instruction {
  /**
   * The reference's {@code check_following(response)} (without the non-empty test the evaluator
   * adds).
   */
  boolean isFollowed(String response);
}
