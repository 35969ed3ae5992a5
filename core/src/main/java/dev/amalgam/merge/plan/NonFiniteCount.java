package dev.amalgam.merge.plan;

import java.util.Locale;

/**
 * Non-finite values one tensor of a merge met: in one input, or in the output the merge computed.
 *
 * @param tensor the output tensor's name
 * @param source the input as configured (its model reference), or {@link #OUTPUT}
 * @param nans NaN values
 * @param infinities infinite values, either sign
 */
public record NonFiniteCount(String tensor, String source, long nans, long infinities) {
  /** The {@link #source()} of counts in the merged output. */
  public static final String OUTPUT = "(output)";

  /** Every non-finite value counted. */
  public long total() {
    return nans + infinities;
  }

  /** For example {@code "tensor 'w': model-b holds 10 NaN and 20 infinite values"}. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "tensor '%s': %s %s %d NaN and %d infinite values",
        tensor,
        source.equals(OUTPUT) ? "the merged output" : source,
        source.equals(OUTPUT) ? "has" : "holds",
        nans,
        infinities);
  }
}
