package dev.amalgam.merge.plan;

import java.util.Locale;

/**
 * What a merge does when an input or the output holds NaN or infinite values (the kernels count
 * them as they stream): {@code --on-nonfinite} on the command line.
 */
public enum NonFinitePolicy {
  /** Fail at the first affected tensor, before anything is committed. */
  ERROR,
  /** Merge, and list each affected tensor with its input and the counts (the default). */
  WARN,
  /** Merge without counting. */
  IGNORE;

  /** The policy for its lower-case name ({@code error}, {@code warn}, {@code ignore}). */
  public static NonFinitePolicy parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "'" + name + "' is not a non-finite policy; use error, warn or ignore", e);
    }
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
