package dev.amalgam.eval.llama;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Continuous batching over one model load (docs/formats.md §8.5): up to N sequences share one
 * llama.cpp context, each with its own KV-cache sequence id; every step decodes one batch that
 * holds the next token of every generating sequence and as many prompt tokens of newly started ones
 * as fit; a finished sequence frees its slot and the next request takes it. A new prompt that
 * starts like a prompt already in the cache (few-shot prompts share their examples) copies that
 * prefix from the other sequence's cache instead of decoding it again.
 *
 * <p>Results reach the listener in request order. Not thread-safe; one call owns everything it
 * creates and frees it before returning.
 */
final class BatchedGenerator {
  /** Most sequences the automatic choice picks. */
  static final int MAX_AUTO_PARALLEL = 16;

  /** Most sequences one context holds (AMALGAM_LLAMA_MAX_SEQUENCES). */
  static final int MAX_PARALLEL = 64;

  private static final int MAX_BATCH = 2048;

  /** How many sequences run side by side, and why. */
  record Plan(int parallel, String reason) {}

  /**
   * A finished run: the results in request order, the sequences used, and how many prompt tokens
   * were decoded and how many were taken from a cached prefix instead.
   */
  record Outcome(
      List<GenerationResult> results,
      int parallel,
      long promptTokensDecoded,
      long promptTokensShared) {}

  /** One request made ready: its final prompt text, tokens and token budget. */
  record Prepared(GenerationRequest request, String prompt, int[] tokens, int budget) {}

  private final NativeModel model;
  private final SequenceContext context;
  private final List<Prepared> prepared;
  private final int contextSize;
  private final boolean addsBos;
  private long decodedPrompt;
  private long sharedPrompt;

  private BatchedGenerator(
      NativeModel model, SequenceContext context, List<Prepared> prepared, int contextSize) {
    this.model = model;
    this.context = context;
    this.prepared = prepared;
    this.contextSize = contextSize;
    this.addsBos = model.addsBos();
  }

  /**
   * Generates every request with one model load.
   *
   * @param parallel sequences side by side; 0 picks them from the context size and the memory
   * @param timeout the longest wait for the next result ({@code idle}) or for the whole run
   */
  static Outcome run(
      Path gguf,
      List<GenerationRequest> requests,
      int parallel,
      Duration timeout,
      boolean idle,
      LlamaGeneration.Listener listener) {
    if (parallel < 0 || parallel > MAX_PARALLEL) {
      throw new LlamaBridgeException(
          Reason.BAD_ARGUMENT,
          "parallel sequences must be 0 (automatic) to " + MAX_PARALLEL + ", got " + parallel);
    }
    GenerationRequest first = requests.get(0);
    long loadStart = System.nanoTime();
    long deadline = loadStart + timeout.toNanos();
    try (NativeModel model = NativeModel.load(gguf, first.gpuLayers(), false)) {
      listener.loaded((System.nanoTime() - loadStart) / 1_000_000);
      List<Prepared> prepared = prepare(model, requests);
      Plan plan =
          parallel > 0
              ? new Plan(Math.min(parallel, requests.size()), "as asked")
              : automatic(model, first.contextSize(), prepared);
      listener.parallel(plan.parallel(), plan.reason());
      int cells = Math.multiplyExact(plan.parallel(), first.contextSize());
      int batch = Math.min(cells, MAX_BATCH);
      try (SequenceContext context =
          SequenceContext.create(model, cells, batch, plan.parallel(), first.threads())) {
        return new BatchedGenerator(model, context, prepared, first.contextSize())
            .generate(
                gguf,
                timeout,
                idle,
                idle ? System.nanoTime() + timeout.toNanos() : deadline,
                listener);
      }
    }
  }

  /**
   * The automatic number of sequences, the smallest of three bounds:
   *
   * <ul>
   *   <li>memory: each sequence costs its KV cache (F16, the context size) and its share of
   *       llama.cpp's attention scores for a 512-token ubatch (F32, heads x context); a quarter of
   *       the available memory is used;
   *   <li>work: the sequences share one KV cache, and a token attends over the cells of all of them
   *       (masked), so N sequences of L tokens add about N x L x 2 x layers x width multiply-adds
   *       per token; N is kept where that stays below the weights' 2 x parameters;
   *   <li>{@value #MAX_AUTO_PARALLEL}, and the number of requests.
   * </ul>
   */
  static Plan automatic(NativeModel model, int contextSize, List<Prepared> prepared) {
    long perSequence =
        Math.max(1, (model.kvBytesPerToken() + 512L * model.heads() * 4L) * (long) contextSize);
    long available = availableMemory();
    long byMemory = Math.max(1, available / 4 / perSequence);
    long tokens = 0;
    for (Prepared p : prepared) tokens += p.tokens().length + p.budget();
    long meanLength = Math.max(1, tokens / Math.max(1, prepared.size()));
    long byWork =
        Math.max(1, 2L * model.parameters() / (meanLength * model.attentionWorkPerPosition()));
    long n = Math.min(Math.min(byMemory, byWork), Math.min(MAX_AUTO_PARALLEL, prepared.size()));
    return new Plan(
        (int) Math.max(1, n),
        String.format(
            "automatic: memory allows %d (%.1f MiB per %d-token sequence, %d MiB available), the"
                + " shared cache's attention allows %d (sequences of about %d tokens), at most %d and"
                + " the %d requests",
            byMemory,
            perSequence / 1048576.0,
            contextSize,
            available / 1048576,
            byWork,
            meanLength,
            MAX_AUTO_PARALLEL,
            prepared.size()));
  }

  /** MemAvailable of /proc/meminfo, else the JVM's view of free memory. */
  static long availableMemory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          String[] parts = line.trim().split("\\s+");
          return Long.parseLong(parts[1]) * 1024L;
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // not Linux: fall through
    }
    return Runtime.getRuntime().maxMemory();
  }

  private static List<Prepared> prepare(NativeModel model, List<GenerationRequest> requests) {
    String bosText = null;
    List<Prepared> out = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      GenerationRequest r = requests.get(i);
      String prompt = r.prompt();
      if (r.chat()) {
        if (bosText == null) bosText = model.bosTextIfAdded();
        String templated = model.chatPrompt(List.<String[]>of(new String[] {"user", prompt}));
        // Tokenizing adds BOS itself when the vocabulary does: a template that writes it too would
        // double it.
        prompt =
            !bosText.isEmpty() && templated.startsWith(bosText)
                ? templated.substring(bosText.length())
                : templated;
      }
      int[] tokens = model.tokenize(prompt);
      if (tokens.length == 0) {
        throw new LlamaBridgeException(
            Reason.EMPTY_TEXT,
            model.file() + ": the prompt of request " + i + " has no tokens",
            i,
            null);
      }
      // One sequence of contextSize tokens holds the prompt and the generated tokens: cap the
      // latter so that nothing is ever shifted or truncated silently.
      int room = r.contextSize() - tokens.length;
      if (room < 1) {
        int counted = tokens.length - (model.addsBos() ? 1 : 0);
        throw new LlamaBridgeException(
            Reason.TEXT_TOO_LONG,
            model.file()
                + ": the prompt of request "
                + i
                + " has "
                + counted
                + " tokens, which leaves no room in the context of "
                + r.contextSize()
                + " tokens (raise the context size)",
            i,
            null);
      }
      out.add(new Prepared(r, prompt, tokens, Math.min(r.maxTokens(), room)));
    }
    return out;
  }

  /** One sequence of the context and the request it serves. */
  private final class Slot {
    final int seq;
    final int[] cached = new int[contextSize];
    int cachedLength;
    int request = -1;
    int prefilled;
    int pendingToken = -1;
    int row = -1;
    int generated;
    long start;
    Slot
        waitFor; // a slot that is decoding a prefix of this slot's prompt, which this one will copy
    int waitLength;
    TokenSampler sampler;
    final ByteArrayOutputStream text = new ByteArrayOutputStream();

    Slot(int seq) {
      this.seq = seq;
    }

    boolean busy() {
      return request >= 0;
    }

    Prepared work() {
      return prepared.get(request);
    }
  }

  private Outcome generate(
      Path gguf,
      Duration timeout,
      boolean idle,
      long firstDeadline,
      LlamaGeneration.Listener listener) {
    int total = prepared.size();
    GenerationResult[] results = new GenerationResult[total];
    Deque<Integer> pending = new ArrayDeque<>();
    for (int i = 0; i < total; i++) pending.add(i);
    Slot[] slots = new Slot[context.sequences()];
    for (int s = 0; s < slots.length; s++) slots[s] = new Slot(s);
    int batchSize = context.batchSize();
    int[] tokens = new int[batchSize];
    int[] positions = new int[batchSize];
    int[] seqIds = new int[batchSize];
    byte[] outputs = new byte[batchSize];
    Slot[] owner = new Slot[batchSize];
    int reported = 0;
    long deadline = firstDeadline;
    try {
      while (reported < total) {
        if (Thread.interrupted()) {
          throw new LlamaBridgeException(
              Reason.GENERATION_FAILED, "interrupted while generating with " + gguf);
        }
        if (System.nanoTime() - deadline > 0) {
          throw new LlamaBridgeException(
              Reason.TIMEOUT,
              gguf
                  + ": generation "
                  + (idle ? "produced no result" : "did not finish")
                  + " within "
                  + timeout.toSeconds()
                  + " s ("
                  + reported
                  + " of "
                  + total
                  + " requests done)");
        }
        for (Slot slot : slots) {
          if (slot.busy() && slot.waitFor != null) resume(slot, slots);
        }
        for (Slot slot : slots) {
          if (!slot.busy() && !pending.isEmpty()) start(slot, pending.poll(), slots);
        }
        int prefillBudget = batchSize;
        int n;
        while (true) {
          n = 0;
          int generating = 0;
          for (Slot slot : slots) {
            slot.row = -1;
            if (slot.busy() && slot.pendingToken >= 0 && n < batchSize) {
              tokens[n] = slot.pendingToken;
              positions[n] = slot.cachedLength;
              seqIds[n] = slot.seq;
              outputs[n] = 1;
              owner[n] = slot;
              slot.row = n;
              n++;
              generating++;
            }
          }
          for (Slot slot : slots) {
            if (!slot.busy() || slot.pendingToken >= 0 || slot.waitFor != null) continue;
            int[] prompt = slot.work().tokens();
            int take =
                Math.min(
                    prompt.length - slot.prefilled,
                    Math.min(batchSize - n, prefillBudget - (n - generating)));
            for (int k = 0; k < take; k++) {
              int p = slot.prefilled + k;
              tokens[n] = prompt[p];
              positions[n] = p;
              seqIds[n] = slot.seq;
              outputs[n] = (byte) (p == prompt.length - 1 ? 1 : 0);
              owner[n] = slot;
              if (p == prompt.length - 1) slot.row = n;
              n++;
            }
          }
          if (n == 0) {
            throw new LlamaBridgeException(
                Reason.GENERATION_FAILED, gguf + ": nothing to decode with requests still open");
          }
          if (context.tryDecode(tokens, positions, seqIds, outputs, n)) break;
          // No contiguous room in the KV cache: give up the caches idle sequences keep for prefix
          // reuse, then decode fewer prompt tokens per step (llama-server does the same).
          if (dropIdleCaches(slots)) continue;
          int prefill = n - generating;
          if (prefill > 1) {
            prefillBudget = Math.max(1, prefill / 2);
            continue;
          }
          throw new LlamaBridgeException(
              Reason.TEXT_TOO_LONG,
              gguf
                  + ": the KV cache of "
                  + context.contextSize()
                  + " cells has no room for the next tokens of "
                  + generating
                  + " sequences (raise the context size or lower --parallel)");
        }
        for (int i = 0; i < n; i++) {
          Slot slot = owner[i];
          slot.cached[slot.cachedLength++] = tokens[i];
          if (slot.pendingToken < 0) {
            slot.prefilled++;
            decodedPrompt++;
          }
        }
        for (Slot slot : slots) {
          if (slot.row < 0) continue;
          int token = slot.sampler.sample(context, slot.row);
          if (step(slot, token)) {
            results[slot.request] = finish(slot);
          }
        }
        while (reported < total && results[reported] != null) {
          listener.result(reported, results[reported]);
          reported++;
          if (idle) deadline = System.nanoTime() + timeout.toNanos();
        }
      }
      return new Outcome(List.of(results), slots.length, decodedPrompt, sharedPrompt);
    } finally {
      for (Slot slot : slots) {
        if (slot.sampler != null) slot.sampler.close();
      }
    }
  }

  /**
   * Gives a slot the next request. It reuses the longest prefix of its prompt that any sequence's
   * cache holds; when a slot that is still decoding its prompt will hold a longer one (prompts
   * started together that share few-shot examples), it waits for that slot and copies the prefix
   * then, so the prefix is decoded once. At least two prompt tokens are always decoded, so the
   * first sampled logits come from a batch of several rows, as with a fresh decode of the prompt.
   */
  private void start(Slot slot, int request, Slot[] slots) {
    Prepared work = prepared.get(request);
    slot.request = request;
    slot.pendingToken = -1;
    slot.generated = 0;
    slot.text.reset();
    slot.start = System.nanoTime();
    GenerationRequest r = work.request();
    try {
      slot.sampler = TokenSampler.create(model, r.temperature(), r.seed(), r.grammar());
    } catch (LlamaBridgeException e) {
      throw new LlamaBridgeException(e.reason(), e.getMessage(), request, e);
    }
    int[] prompt = work.tokens();
    int limit = Math.max(0, prompt.length - 2);
    int cached = 0;
    for (Slot other : slots) {
      cached = Math.max(cached, commonPrefix(other.cached, other.cachedLength, prompt, limit));
    }
    Slot donor = null;
    int coming = cached;
    for (Slot other : slots) {
      if (other == slot || !other.busy() || other.waitFor != null || other.pendingToken >= 0) {
        continue;
      }
      int[] theirs = other.work().tokens();
      int length = commonPrefix(theirs, theirs.length, prompt, limit);
      if (length > coming && length > other.cachedLength) {
        coming = length;
        donor = other;
      }
    }
    if (donor != null && coming - cached >= MIN_WAIT_TOKENS) {
      slot.waitFor = donor;
      slot.waitLength = coming;
      // Until it copies, the slot's own old cache must not be mistaken for a prefix it holds.
      context.remove(slot.seq, 0, -1);
      slot.cachedLength = 0;
      return;
    }
    reuse(slot, prompt, limit, slots);
  }

  /** Fewest prompt tokens worth waiting for another slot to decode. */
  private static final int MIN_WAIT_TOKENS = 8;

  /** Lets a waiting slot copy its prefix once the slot it waits for has decoded it. */
  private void resume(Slot slot, Slot[] slots) {
    Slot donor = slot.waitFor;
    int[] prompt = slot.work().tokens();
    int limit = Math.max(0, prompt.length - 2);
    boolean ready =
        commonPrefix(donor.cached, donor.cachedLength, prompt, limit) >= slot.waitLength;
    boolean stalled = !donor.busy() || donor.pendingToken >= 0;
    if (!ready && !stalled) return;
    slot.waitFor = null;
    reuse(slot, prompt, limit, slots);
  }

  /** Takes the longest prefix of the prompt that any sequence's cache holds, then decodes on. */
  private void reuse(Slot slot, int[] prompt, int limit, Slot[] slots) {
    Slot donor = slot;
    int shared = commonPrefix(slot.cached, slot.cachedLength, prompt, limit);
    for (Slot other : slots) {
      if (other == slot) continue;
      int length = commonPrefix(other.cached, other.cachedLength, prompt, limit);
      if (length > shared) {
        shared = length;
        donor = other;
      }
    }
    if (donor == slot) {
      context.remove(slot.seq, shared, -1);
    } else {
      context.remove(slot.seq, 0, -1);
      context.copy(donor.seq, slot.seq, 0, shared);
      System.arraycopy(donor.cached, 0, slot.cached, 0, shared);
    }
    slot.cachedLength = shared;
    slot.prefilled = shared;
    sharedPrompt += shared;
  }

  /** Empties the caches that idle slots keep for prefix reuse; true if any held cells. */
  private boolean dropIdleCaches(Slot[] slots) {
    boolean dropped = false;
    for (Slot slot : slots) {
      if (!slot.busy() && slot.cachedLength > 0) {
        context.remove(slot.seq, 0, -1);
        slot.cachedLength = 0;
        dropped = true;
      }
    }
    return dropped;
  }

  private static int commonPrefix(int[] cached, int cachedLength, int[] prompt, int limit) {
    int n = Math.min(cachedLength, limit);
    int i = 0;
    while (i < n && cached[i] == prompt[i]) i++;
    return i;
  }

  /** Takes a sampled token; true when the sequence is done. */
  private boolean step(Slot slot, int token) {
    slot.pendingToken = -1;
    if (model.isEndOfGeneration(token)) return true;
    byte[] piece = model.piece(token);
    slot.text.write(piece, 0, piece.length);
    slot.generated++;
    List<String> stops = slot.work().request().stop();
    if (!stops.isEmpty() && truncateAtStop(slot.text, stops, piece.length)) return true;
    if (slot.generated >= slot.work().budget()) return true;
    slot.pendingToken = token;
    return false;
  }

  /**
   * Cuts the text before the first stop string that the newest piece completed; true if one did.
   */
  static boolean truncateAtStop(ByteArrayOutputStream text, List<String> stops, int newBytes) {
    byte[] bytes = text.toByteArray();
    int cut = -1;
    for (String stop : stops) {
      byte[] s = stop.getBytes(StandardCharsets.UTF_8);
      int from = Math.max(0, bytes.length - newBytes - s.length + 1);
      for (int i = from; i + s.length <= bytes.length; i++) {
        if (Arrays.equals(bytes, i, i + s.length, s, 0, s.length)) {
          if (cut < 0 || i < cut) cut = i;
          break;
        }
      }
    }
    if (cut < 0) return false;
    text.reset();
    text.write(bytes, 0, cut);
    return true;
  }

  private GenerationResult finish(Slot slot) {
    Prepared work = slot.work();
    GenerationResult result =
        new GenerationResult(
            slot.text.toString(StandardCharsets.UTF_8),
            work.prompt(),
            (System.nanoTime() - slot.start) / 1_000_000,
            work.tokens().length - (addsBos ? 1 : 0),
            slot.generated);
    slot.sampler.close();
    slot.sampler = null;
    slot.waitFor = null;
    slot.request = -1;
    slot.pendingToken = -1;
    return result;
  }
}
