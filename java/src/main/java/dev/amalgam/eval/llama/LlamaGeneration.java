package dev.amalgam.eval.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Text generation through java-llama.cpp 4.2.0, one child JVM per model load.
 *
 * <p>Why a child: the binding's native worker thread keeps the JVM alive and {@code close()} leaks the server context
 * (about 30 MB and a thread per load; formats.md section 6.4), so evaluating many merged models in one JVM would grow
 * without bound. The child ({@link GenerationChild}) runs {@code java -cp <this class path>}, reads the requests as
 * JSON on stdin, writes one JSON result line on stdout and calls {@code System.exit}. It gets a private
 * {@code de.kherud.llama.tmpdir} (so concurrent children never share or delete each other's extracted library) and
 * inherits {@code -Dde.kherud.llama.lib.path}. Several prompts share one model load via {@link #generateAll}.
 */
public final class LlamaGeneration {
  /** Default time limit of one child process. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

  static final String RESULT_PREFIX = "amalgam-generation-result ";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STDERR_LIMIT = 4000;

  private LlamaGeneration() {}

  /** Generates one completion with {@link #DEFAULT_TIMEOUT}. */
  public static GenerationResult generate(Path gguf, GenerationRequest request) {
    return generateAll(gguf, List.of(request), DEFAULT_TIMEOUT).get(0);
  }

  /** Generates several completions with one model load and {@link #DEFAULT_TIMEOUT}; results in request order. */
  public static List<GenerationResult> generateAll(Path gguf, List<GenerationRequest> requests) {
    return generateAll(gguf, requests, DEFAULT_TIMEOUT);
  }

  /**
   * Generates several completions with one model load; results in request order.
   *
   * @param requests at least one; gpuLayers, contextSize and threads must be equal in all (one model load)
   * @param timeout the child is killed after this long
   * @throws LlamaBridgeException MODEL_NOT_FOUND, MODEL_LOAD_FAILED (a file llama.cpp refuses), BAD_ARGUMENT,
   *     GENERATION_FAILED (a crash or other failure of the child, with its stderr), TIMEOUT, LIBRARY_UNAVAILABLE
   *     (chat mode needs the bridge to learn the BOS text)
   */
  public static List<GenerationResult> generateAll(Path gguf, List<GenerationRequest> requests, Duration timeout) {
    Objects.requireNonNull(gguf, "gguf");
    Objects.requireNonNull(requests, "requests");
    Objects.requireNonNull(timeout, "timeout");
    if (requests.isEmpty()) throw new LlamaBridgeException(Reason.BAD_ARGUMENT, "no generation requests");
    GenerationRequest first = requests.get(0);
    for (GenerationRequest r : requests) {
      if (!first.sameModelSettings(r)) {
        throw new LlamaBridgeException(Reason.BAD_ARGUMENT,
            "requests of one model load must share gpuLayers, contextSize and threads");
      }
    }
    if (!Files.isRegularFile(gguf)) {
      throw new LlamaBridgeException(Reason.MODEL_NOT_FOUND, gguf + ": no such model file");
    }
    String bosText = requests.stream().anyMatch(GenerationRequest::chat) ? LlamaScorer.bosTextIfAdded(gguf, false) : "";
    String input = requestJson(gguf, requests, bosText);
    Path tmp;
    try {
      tmp = Files.createTempDirectory("amalgam-generation-");
    } catch (IOException e) {
      throw new LlamaBridgeException(Reason.GENERATION_FAILED, "cannot create a temporary directory: " + e, e);
    }
    try {
      return run(gguf, tmp, input, requests.size(), timeout);
    } finally {
      deleteTree(tmp);
    }
  }

  private static String requestJson(Path gguf, List<GenerationRequest> requests, String bosText) {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", gguf.toAbsolutePath().toString());
    root.put("bosText", bosText);
    GenerationRequest first = requests.get(0);
    root.put("gpuLayers", first.gpuLayers());
    root.put("contextSize", first.contextSize());
    root.put("threads", first.threads());
    ArrayNode list = root.putArray("requests");
    for (GenerationRequest r : requests) {
      ObjectNode n = list.addObject();
      n.put("prompt", r.prompt());
      n.put("chat", r.chat());
      n.put("maxTokens", r.maxTokens());
      n.put("temperature", r.temperature());
      n.put("seed", r.seed());
    }
    return root.toString();
  }

  private static List<GenerationResult> run(Path gguf, Path tmp, String input, int expected, Duration timeout) {
    List<String> command = new ArrayList<>();
    command.add(javaBinary());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Dde.kherud.llama.tmpdir=" + tmp);
    String libPath = System.getProperty(LlamaLibrary.LIB_PATH_PROPERTY);
    if (libPath != null && !libPath.isBlank()) command.add("-D" + LlamaLibrary.LIB_PATH_PROPERTY + "=" + libPath);
    command.add(GenerationChild.class.getName());
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw new LlamaBridgeException(Reason.GENERATION_FAILED, "cannot start " + command.get(0) + ": " + e, e);
    }
    Drain stdout = new Drain(process.getInputStream());
    Drain stderr = new Drain(process.getErrorStream());
    try (OutputStream in = process.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // The child died before reading: its exit code and stderr below say why.
    }
    boolean finished;
    try {
      finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new LlamaBridgeException(Reason.GENERATION_FAILED, "interrupted while generating with " + gguf, e);
    }
    if (!finished) {
      process.destroyForcibly();
      throw new LlamaBridgeException(Reason.TIMEOUT,
          gguf + ": generation did not finish within " + timeout.toSeconds() + " s; child killed");
    }
    String out = stdout.text();
    String err = stderr.text();
    JsonNode result = null;
    for (String line : out.split("\n")) {
      if (line.startsWith(RESULT_PREFIX)) {
        try {
          result = JSON.readTree(line.substring(RESULT_PREFIX.length()));
        } catch (IOException e) {
          throw new LlamaBridgeException(Reason.GENERATION_FAILED, "unreadable result from the child: " + line, e);
        }
      }
    }
    int exit = process.exitValue();
    if (result != null && result.hasNonNull("error")) {
      if (Reason.MODEL_LOAD_FAILED.name().equals(result.path("reason").asText())) {
        throw new LlamaBridgeException(Reason.MODEL_LOAD_FAILED, gguf + ": " + result.get("error").asText());
      }
      throw new LlamaBridgeException(Reason.GENERATION_FAILED,
          gguf + ": " + result.get("error").asText() + tail(err));
    }
    if (exit != 0 || result == null || !result.has("results") || result.get("results").size() != expected) {
      throw new LlamaBridgeException(Reason.GENERATION_FAILED,
          gguf + ": generation child exited with " + exit + (result == null ? " and no result" : "") + tail(err));
    }
    List<GenerationResult> results = new ArrayList<>();
    for (JsonNode n : result.get("results")) {
      results.add(new GenerationResult(n.get("text").asText(), n.get("prompt").asText(), n.get("millis").asLong()));
    }
    return List.copyOf(results);
  }

  private static String tail(String stderr) {
    String s = stderr.strip();
    if (s.isEmpty()) return "";
    if (s.length() > STDERR_LIMIT) s = "..." + s.substring(s.length() - STDERR_LIMIT);
    return "; child stderr:\n" + s;
  }

  private static String javaBinary() {
    return ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException ignored) {
          // best effort: a leftover file in a private temp directory
        }
      });
    } catch (IOException | UncheckedIOException ignored) {
      // best effort
    }
  }

  /** Reads a child stream to the end on its own thread, so neither pipe can fill up and block the child. */
  private static final class Drain {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final Thread thread;

    Drain(InputStream in) {
      thread = new Thread(() -> {
        try (in) {
          in.transferTo(buffer);
        } catch (IOException ignored) {
          // the process is gone; keep what was read
        }
      }, "amalgam-generation-drain");
      thread.setDaemon(true);
      thread.start();
    }

    String text() {
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (buffer) {
        return buffer.toString(StandardCharsets.UTF_8);
      }
    }
  }
}
