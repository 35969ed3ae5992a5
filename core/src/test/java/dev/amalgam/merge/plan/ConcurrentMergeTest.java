package dev.amalgam.merge.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Independent merges at the same time in one JVM, all reading the same input files (and sharing the
 * process-wide read-buffer pool): each output must be byte-identical to the same merge run alone.
 */
class ConcurrentMergeTest {
  private static final long SEED = 42;
  private static final SyntheticLlama.Shape SHAPE =
      new SyntheticLlama.Shape(4, 256, 688, 2048, 8, 4, false);

  /** Each method runs this many times at once, so identical merges race too. */
  private static final int COPIES = 2;

  @TempDir static Path tmp;
  static Map<String, String> configs;

  @BeforeAll
  static void generate() throws IOException {
    Path base = model("base", 0, 0);
    Path a = model("a", 0.4, 2);
    Path b = model("b", 0.4, 3);
    configs = new LinkedHashMap<>();
    configs.put(
        "linear",
        "merge_method: linear\nmodels:\n"
            + weighted(a, 0.3)
            + weighted(b, 0.7)
            + "dtype: bfloat16\n");
    configs.put(
        "slerp",
        "merge_method: slerp\nbase_model: "
            + base
            + "\nmodels:\n  - model: "
            + base
            + "\n  - model: "
            + a
            + "\nparameters:\n  t: 0.3\ndtype: bfloat16\n");
    for (String method : List.of("ties", "dare_ties")) {
      configs.put(
          method,
          "merge_method: "
              + method
              + "\nbase_model: "
              + base
              + "\nmodels:\n"
              + dense(a, 0.6)
              + dense(b, 0.4)
              + "dtype: bfloat16\n");
    }
  }

  private static Path model(String name, double noise, long variant) throws IOException {
    Path dir = tmp.resolve(name);
    SyntheticLlama.write(dir, SHAPE, DType.BF16, 5, noise, variant, 5_000_000_000L);
    return dir;
  }

  private static String weighted(Path model, double weight) {
    return "  - model: " + model + "\n    parameters:\n      weight: " + weight + "\n";
  }

  private static String dense(Path model, double weight) {
    return "  - model: "
        + model
        + "\n    parameters:\n      weight: "
        + weight
        + "\n      density: 0.5\n";
  }

  @Test
  void concurrentMergesOfSharedInputsEqualTheSameMergesAlone() throws Exception {
    Map<String, Map<String, String>> alone = new TreeMap<>();
    for (String method : configs.keySet()) {
      alone.put(method, digests(merge(method, tmp.resolve("alone").resolve(method))));
    }

    ExecutorService pool = Executors.newFixedThreadPool(configs.size() * COPIES);
    CountDownLatch start = new CountDownLatch(1);
    Map<String, Future<Path>> together = new LinkedHashMap<>();
    try {
      for (int copy = 0; copy < COPIES; copy++) {
        for (String method : configs.keySet()) {
          // Same file name as alone: the model card names the output.
          Path out = tmp.resolve("together-" + copy).resolve(method);
          together.put(
              method + "#" + copy,
              pool.submit(
                  (Callable<Path>)
                      () -> {
                        start.await();
                        return merge(method, out);
                      }));
        }
      }
      start.countDown();
      for (Map.Entry<String, Future<Path>> e : together.entrySet()) {
        String method = e.getKey().substring(0, e.getKey().indexOf('#'));
        Path out = e.getValue().get(120, TimeUnit.SECONDS);
        assertEquals(alone.get(method), digests(out), e.getKey() + " run with the others");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static Path merge(String method, Path out) throws IOException, InterruptedException {
    Files.createDirectories(out.getParent());
    try (MergePlan plan =
        MergePlanner.plan(
            ConfigReader.parse(configs.get(method), method + ".yml", tmp), OutputSpec.hf(), SEED)) {
      MergeExecutor.execute(
          plan,
          out,
          MergeOptions.builder()
              .threads(2)
              .sync(false)
              .warnings(
                  WarningListener.collectingInto(new ArrayList<>())) // no tokenizers: expected
              .build());
    }
    return out;
  }

  /** SHA-256 of every file under {@code root}, by relative path. */
  private static Map<String, String> digests(Path root) throws IOException {
    Map<String, String> digests = new TreeMap<>();
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = new ArrayList<>(s.filter(Files::isRegularFile).toList());
    }
    for (Path p : files) digests.put(root.relativize(p).toString(), sha256(p));
    return digests;
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) md.update(buffer, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
