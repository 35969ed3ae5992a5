package dev.amalgam.eval.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Text generation through java-llama.cpp 4.2.0, one child JVM per model load.
 *
 * <p>Why a child: the binding's native worker thread keeps the JVM alive and {@code close()} leaks
 * the server context (about 30 MB and a thread per load; docs/formats.md §6.4), so evaluating many
 * merged models in one JVM would grow without bound. The child ({@link GenerationChild}) runs
 * {@code java -cp <this class path>}, reads the requests as JSON on stdin, writes one JSON result
 * line on stdout and calls {@code System.exit}. It gets a private {@code de.kherud.llama.tmpdir}
 * (so concurrent children never share or delete each other's extracted library) and inherits {@code
 * -Dde.kherud.llama.lib.path}. Several prompts share one model load via {@link #generateAll}, and
 * {@link #generateStreaming} reports each result as the child streams it (protocol in {@link
 * GenerationChild}).
 */
public final class LlamaGeneration {
  /** Default time limit of one child process. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

  static final String RESULT_PREFIX = "amalgam-generation-result ";
  static final String ITEM_PREFIX = "amalgam-generation-item ";
  static final String LOADED_PREFIX = "amalgam-generation-loaded ";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STDERR_LIMIT = 4000;

  private LlamaGeneration() {}

  /** Generates one completion with {@link #DEFAULT_TIMEOUT}. */
  public static GenerationResult generate(Path gguf, GenerationRequest request) {
    return generateAll(gguf, List.of(request), DEFAULT_TIMEOUT).get(0);
  }

  /**
   * Generates several completions with one model load and {@link #DEFAULT_TIMEOUT}; results in
   * request order.
   */
  public static List<GenerationResult> generateAll(Path gguf, List<GenerationRequest> requests) {
    return generateAll(gguf, requests, DEFAULT_TIMEOUT);
  }

  /**
   * Generates several completions with one model load; results in request order.
   *
   * @param requests at least one; gpuLayers, contextSize and threads must be equal in all (one
   *     model load)
   * @param timeout the child is killed when the whole run takes longer
   * @throws LlamaBridgeException MODEL_NOT_FOUND, MODEL_LOAD_FAILED (a file llama.cpp refuses),
   *     BAD_ARGUMENT, TEXT_TOO_LONG (a prompt fills the context), GENERATION_FAILED (a crash or
   *     other failure of the child, with its stderr), TIMEOUT, LIBRARY_UNAVAILABLE (chat mode needs
   *     the bridge to learn the BOS text)
   */
  public static List<GenerationResult> generateAll(
      Path gguf, List<GenerationRequest> requests, Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return run(gguf, requests, timeout, false, Listener.NONE, GenerationChild.class.getName());
  }

  /**
   * Generates several completions with one model load and hands each result to {@code listener} as
   * soon as the child has produced it (the child streams one line per request), so callers can show
   * progress and tokens/s.
   *
   * @param idleTimeout the child is killed when it loads or generates for longer than this without
   *     a result
   * @return all results in request order (the same objects the listener saw)
   * @throws LlamaBridgeException as {@link #generateAll(Path, List, Duration)}; a child that dies
   *     after k results gives GENERATION_FAILED naming the model and request k. An exception thrown
   *     by the listener stops the child and is rethrown unchanged.
   */
  public static List<GenerationResult> generateStreaming(
      Path gguf, List<GenerationRequest> requests, Duration idleTimeout, Listener listener) {
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(listener, "listener");
    return run(gguf, requests, idleTimeout, true, listener, GenerationChild.class.getName());
  }

  /** Receives the streamed events of {@link #generateStreaming}, on the calling thread. */
  public interface Listener {
    /** A listener that ignores every event. */
    Listener NONE =
        new Listener() {
          @Override
          public void loaded(long millis) {}

          @Override
          public void result(int index, GenerationResult result) {}
        };

    /**
     * The child has loaded the model, which took {@code millis} inside the child (JVM start not
     * included).
     */
    void loaded(long millis);

    /** Request {@code index} is done. */
    void result(int index, GenerationResult result);
  }

  /** The run with a replaceable child main class: tests use a child that dies on purpose. */
  static List<GenerationResult> run(
      Path gguf,
      List<GenerationRequest> requests,
      Duration timeout,
      boolean idle,
      Listener listener,
      String childMainClass) {
    Objects.requireNonNull(gguf, "gguf");
    Objects.requireNonNull(requests, "requests");
    if (requests.isEmpty())
      throw new LlamaBridgeException(Reason.BAD_ARGUMENT, "no generation requests");
    GenerationRequest first = requests.get(0);
    for (GenerationRequest r : requests) {
      if (!first.sameModelSettings(r)) {
        throw new LlamaBridgeException(
            Reason.BAD_ARGUMENT,
            "requests of one model load must share gpuLayers, contextSize and threads");
      }
    }
    if (!Files.isRegularFile(gguf)) {
      throw new LlamaBridgeException(Reason.MODEL_NOT_FOUND, gguf + ": no such model file");
    }
    String bosText =
        requests.stream().anyMatch(GenerationRequest::chat)
            ? LlamaScorer.bosTextIfAdded(gguf, false)
            : "";
    String input = requestJson(gguf, requests, bosText);
    Path tmp;
    try {
      tmp = Files.createTempDirectory("amalgam-generation-");
    } catch (IOException e) {
      throw new LlamaBridgeException(
          Reason.GENERATION_FAILED, "cannot create a temporary directory: " + e, e);
    }
    try {
      return runChild(gguf, tmp, input, requests.size(), timeout, idle, listener, childMainClass);
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
      if (r.grammar() != null) n.put("grammar", r.grammar());
    }
    return root.toString();
  }

  private static List<GenerationResult> runChild(
      Path gguf,
      Path tmp,
      String input,
      int expected,
      Duration timeout,
      boolean idle,
      Listener listener,
      String childMainClass) {
    List<String> command = new ArrayList<>();
    command.add(javaBinary());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Dde.kherud.llama.tmpdir=" + tmp);
    String libPath = System.getProperty(LlamaLibrary.LIB_PATH_PROPERTY);
    if (libPath != null && !libPath.isBlank())
      command.add("-D" + LlamaLibrary.LIB_PATH_PROPERTY + "=" + libPath);
    command.add(childMainClass);
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw new LlamaBridgeException(
          Reason.GENERATION_FAILED, "cannot start " + command.get(0) + ": " + e, e);
    }
    try {
      return collect(gguf, process, input, expected, timeout, idle, listener);
    } finally {
      // Whatever happened (listener failure, timeout, interrupt), no child outlives the call.
      if (process.isAlive()) {
        process.destroyForcibly();
        try {
          process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static List<GenerationResult> collect(
      Path gguf,
      Process process,
      String input,
      int expected,
      Duration timeout,
      boolean idle,
      Listener listener) {
    Lines stdout = new Lines(process.getInputStream());
    Drain stderr = new Drain(process.getErrorStream());
    try (OutputStream in = process.getOutputStream()) {
      in.write(input.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // The child died before reading: its exit code and stderr below say why.
    }
    List<GenerationResult> results = new ArrayList<>();
    JsonNode result = null;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String line;
      try {
        line = stdout.lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LlamaBridgeException(
            Reason.GENERATION_FAILED, "interrupted while generating with " + gguf, e);
      }
      if (line == null) {
        throw new LlamaBridgeException(
            Reason.TIMEOUT,
            gguf
                + ": generation "
                + (idle ? "produced no result" : "did not" + " finish")
                + " within "
                + timeout.toSeconds()
                + " s ("
                + results.size()
                + " of "
                + expected
                + " requests done); child killed");
      }
      if (line == Lines.END) break;
      if (idle) deadline = System.nanoTime() + timeout.toNanos();
      if (line.startsWith(LOADED_PREFIX)) {
        listener.loaded(parse(line, LOADED_PREFIX).path("millis").asLong());
      } else if (line.startsWith(ITEM_PREFIX)) {
        JsonNode n = parse(line, ITEM_PREFIX);
        GenerationResult r =
            new GenerationResult(
                n.get("text").asText(),
                n.get("prompt").asText(),
                n.get("millis").asLong(),
                n.path("promptTokens").asInt(-1),
                n.path("generatedTokens").asInt(-1));
        listener.result(results.size(), r);
        results.add(r);
      } else if (line.startsWith(RESULT_PREFIX)) {
        result = parse(line, RESULT_PREFIX);
      }
    }
    int exit;
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
      exit = process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LlamaBridgeException(
          Reason.GENERATION_FAILED, "interrupted while generating with " + gguf, e);
    }
    String err = stderr.text();
    if (result != null && result.hasNonNull("error")) {
      Reason reason = Reason.GENERATION_FAILED;
      String named = result.path("reason").asText();
      if (Reason.MODEL_LOAD_FAILED.name().equals(named)) reason = Reason.MODEL_LOAD_FAILED;
      if (Reason.TEXT_TOO_LONG.name().equals(named)) reason = Reason.TEXT_TOO_LONG;
      throw new LlamaBridgeException(
          reason,
          gguf
              + ": "
              + result.get("error").asText()
              + (reason == Reason.GENERATION_FAILED ? tail(err) : ""));
    }
    if (exit != 0 || result == null || results.size() != expected) {
      String where =
          results.size() < expected
              ? " while generating request "
                  + results.size()
                  + " ("
                  + results.size()
                  + " of "
                  + expected
                  + " done)"
              : "";
      throw new LlamaBridgeException(
          Reason.GENERATION_FAILED,
          gguf
              + ": generation child exited with code "
              + exit
              + where
              + (result == null ? " and no final result" : "")
              + tail(err));
    }
    return List.copyOf(results);
  }

  private static JsonNode parse(String line, String prefix) {
    try {
      return JSON.readTree(line.substring(prefix.length()));
    } catch (IOException e) {
      throw new LlamaBridgeException(
          Reason.GENERATION_FAILED, "unreadable line from the generation child: " + line, e);
    }
  }

  private static String tail(String stderr) {
    String s = stderr.strip();
    if (s.isEmpty()) return "";
    if (s.length() > STDERR_LIMIT) s = "..." + s.substring(s.length() - STDERR_LIMIT);
    return "; child stderr:\n" + s;
  }

  private static String javaBinary() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
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

  /**
   * Reads the child's stdout line by line on its own thread into a queue; {@link #END} marks the
   * end of stream.
   */
  private static final class Lines {
    // A distinct instance, compared by identity, so no line the child prints can be mistaken for
    // it.
    static final String END = new String("end of stream");
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    Lines(InputStream in) {
      Thread thread =
          new Thread(
              () -> {
                try (BufferedReader reader =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                  for (String line = reader.readLine(); line != null; line = reader.readLine())
                    lines.add(line);
                } catch (IOException ignored) {
                  // the process is gone; what was read is queued
                } finally {
                  lines.add(END);
                }
              },
              "amalgam-generation-stdout");
      thread.setDaemon(true);
      thread.start();
    }
  }

  /**
   * Reads a child stream to the end on its own thread, so neither pipe can fill up and block the
   * child.
   */
  private static final class Drain {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final Thread thread;

    Drain(InputStream in) {
      thread =
          new Thread(
              () -> {
                try (in) {
                  in.transferTo(buffer);
                } catch (IOException ignored) {
                  // the process is gone; keep what was read
                }
              },
              "amalgam-generation-drain");
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
