package dev.amalgam.cli;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as users write them. mergekit's suffixes k, m, b (= 1e3, 1e6, 1e9: "5B" is five
 * billion bytes) are accepted, as are KB/MB/GB/TB (decimal) and KiB/MiB/GiB/TiB (binary); a plain
 * number is bytes.
 */
final class Sizes {
  private static final Pattern SIZE =
      Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([a-zA-Z]*)\\s*");

  private Sizes() {}

  static long parse(String text) {
    Matcher m = SIZE.matcher(text);
    if (!m.matches())
      throw new IllegalArgumentException("not a size: '" + text + "' (examples: 5B, 500M, 2GiB)");
    BigDecimal number = new BigDecimal(m.group(1));
    long multiplier;
    switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "":
        multiplier = 1;
        break;
      case "k":
      case "kb":
        multiplier = 1_000L;
        break;
      case "m":
      case "mb":
        multiplier = 1_000_000L;
        break;
      case "b":
      case "g":
      case "gb":
        multiplier = 1_000_000_000L;
        break;
      case "t":
      case "tb":
        multiplier = 1_000_000_000_000L;
        break;
      case "kib":
        multiplier = 1L << 10;
        break;
      case "mib":
        multiplier = 1L << 20;
        break;
      case "gib":
        multiplier = 1L << 30;
        break;
      case "tib":
        multiplier = 1L << 40;
        break;
      default:
        throw new IllegalArgumentException(
            "unknown size unit '"
                + m.group(2)
                + "' in '"
                + text
                + "' (use k, m, b as mergekit does, or KB/MB/GB, KiB/MiB/GiB)");
    }
    BigDecimal bytes = number.multiply(BigDecimal.valueOf(multiplier));
    if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      throw new IllegalArgumentException("size too large: '" + text + "'");
    }
    return bytes.longValue();
  }

  /** "1.67 GB" style, decimal units. */
  static String format(long bytes) {
    if (bytes < 1_000) return bytes + " B";
    if (bytes < 1_000_000) return String.format(Locale.ROOT, "%.1f kB", bytes / 1e3);
    if (bytes < 1_000_000_000) return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
  }
}
