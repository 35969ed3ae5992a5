package dev.amalgam.kernels;

import java.util.Locale;

/**
 * Where a merge's kernels run, as a user asks for it: {@code cpu}, {@code cuda} (the first usable
 * CUDA device), {@code cuda:N} (device N) or {@code auto} (a usable CUDA device if there is one,
 * else the CPU). {@link Kernels#forDevice} resolves it.
 *
 * @param kind CPU, CUDA or AUTO
 * @param index the CUDA device's index, or -1 for "any" (always -1 for CPU and AUTO)
 */
public record Device(Kind kind, int index) {
  /** The CPU: native kernels at the best ISA, else the Java kernels. */
  public static final Device CPU = new Device(Kind.CPU, -1);

  /** A usable CUDA device if there is one, else the CPU. */
  public static final Device AUTO = new Device(Kind.AUTO, -1);

  /** The first usable CUDA device, or an error. */
  public static final Device CUDA = new Device(Kind.CUDA, -1);

  /** What was asked for. */
  public enum Kind {
    /** The CPU. */
    CPU,
    /** A CUDA device; failing if none is usable. */
    CUDA,
    /** A CUDA device when one is usable, else the CPU. */
    AUTO
  }

  /** Validates the index. */
  public Device {
    java.util.Objects.requireNonNull(kind, "kind");
    if (index < -1 || (kind != Kind.CUDA && index != -1)) {
      throw new IllegalArgumentException("bad device index " + index + " for " + kind);
    }
  }

  /** CUDA device {@code index}. */
  public static Device cuda(int index) {
    if (index < 0) throw new IllegalArgumentException("CUDA device index must be >= 0: " + index);
    return new Device(Kind.CUDA, index);
  }

  /**
   * Parses {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the accepted forms
   */
  public static Device parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    switch (t) {
      case "cpu":
        return CPU;
      case "auto":
        return AUTO;
      case "cuda":
        return CUDA;
      default:
        if (t.startsWith("cuda:")) {
          String n = t.substring(5);
          if (!n.isEmpty() && n.length() <= 3 && n.chars().allMatch(Character::isDigit)) {
            return cuda(Integer.parseInt(n));
          }
        }
        throw new IllegalArgumentException(
            "unknown device '" + text + "': expected cpu, cuda, cuda:N (N = 0, 1, ...) or auto");
    }
  }

  /** The form {@link #parse} reads: "cpu", "cuda", "cuda:1", "auto". */
  @Override
  public String toString() {
    return switch (kind) {
      case CPU -> "cpu";
      case AUTO -> "auto";
      case CUDA -> index < 0 ? "cuda" : "cuda:" + index;
    };
  }
}
