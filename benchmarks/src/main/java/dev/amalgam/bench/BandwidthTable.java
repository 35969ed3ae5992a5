package dev.amalgam.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns the JSON results of {@link KernelBench} ({@code -rf json}) into a GB/s table with each
 * kernel's ratio to the bandwidth references of the same run.
 *
 * <p>GB/s = bytes moved per call / mean time, 1 GB = 1e9 bytes, counting reads and writes (the
 * STREAM convention). Per element: lerp 6 bytes, SLERP 10, copy 4 (2 read + 2 written), read 2. The
 * references are the better of the two copies and the better of the two reads. lerp is compared
 * with copy (both read and write); SLERP with the time its traffic would take at reference speed, 4
 * bytes per element at read speed plus 6 at copy speed.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.amalgam.bench.BandwidthTable results.json}
 */
public final class BandwidthTable {
  private static final Map<String, Integer> BYTES_PER_ELEMENT =
      Map.of(
          "lerp",
          6,
          "slerp",
          10,
          "copyNative",
          4,
          "copyBuffer",
          4,
          "readDot3",
          2,
          "readLongSum",
          2);

  /** Column order of the table. */
  private static final String[] COLUMNS = {
    "lerp", "slerp", "copyNative", "copyBuffer", "readDot3", "readLongSum"
  };

  private BandwidthTable() {}

  /** Prints the table for the JSON file named by the first argument. */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: BandwidthTable results.json");
      System.exit(2);
    }
    JsonNode results = new ObjectMapper().readTree(new File(args[0]));
    // (n, threads) -> benchmark -> GB/s
    Map<String, Map<String, Double>> rows = new TreeMap<>();
    for (JsonNode r : results) {
      String name = r.get("benchmark").asText();
      String method = name.substring(name.lastIndexOf('.') + 1);
      Integer perElement = BYTES_PER_ELEMENT.get(method);
      if (perElement == null) continue;
      long n = r.get("params").get("n").asLong();
      int threads = r.get("params").get("threads").asInt();
      double ms = r.get("primaryMetric").get("score").asDouble();
      double gbps = perElement * (double) n / (ms / 1e3) / 1e9;
      String key = String.format(Locale.ROOT, "%12d %2d", n, threads);
      rows.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(method, gbps);
    }
    System.out.println(
        "GB/s (1 GB = 1e9 B, reads + writes); ratios against the same run's references");
    System.out.printf(
        Locale.ROOT,
        "%12s %2s %7s %7s %7s %7s %7s %7s | %10s %10s%n",
        "n",
        "t",
        "lerp",
        "slerp",
        "copyN",
        "copyBB",
        "readDot",
        "readSum",
        "lerp/copy",
        "slerp/flr");
    for (Map.Entry<String, Map<String, Double>> row : rows.entrySet()) {
      Map<String, Double> g = row.getValue();
      double copy = Math.max(g.getOrDefault("copyNative", 0.0), g.getOrDefault("copyBuffer", 0.0));
      double read = Math.max(g.getOrDefault("readDot3", 0.0), g.getOrDefault("readLongSum", 0.0));
      double slerpFloor = 10.0 / (4.0 / read + 6.0 / copy);
      StringBuilder line = new StringBuilder(row.getKey());
      for (String method : COLUMNS) line.append(cell(g.getOrDefault(method, Double.NaN), 7, 1));
      line.append(" |").append(cell(g.getOrDefault("lerp", Double.NaN) / copy, 10, 2));
      line.append(cell(g.getOrDefault("slerp", Double.NaN) / slerpFloor, 10, 2));
      System.out.println(line);
    }
  }

  /** A right-aligned number, or "-" where the benchmarks it needs were not run. */
  private static String cell(double value, int width, int decimals) {
    String text =
        Double.isFinite(value) && value > 0
            ? String.format(Locale.ROOT, "%." + decimals + "f", value)
            : "-";
    return " " + " ".repeat(Math.max(0, width - text.length())) + text;
  }
}
