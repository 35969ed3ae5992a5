package dev.amalgam.io.safetensors;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import dev.amalgam.io.AtomicFileWriter;
import dev.amalgam.io.AtomicFiles;
import dev.amalgam.io.TensorSink;
import dev.amalgam.tensor.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Streams a model directory: the tensors split over one or more safetensors shards, plus {@code
 * model.safetensors.index.json} when there are several.
 *
 * <p>Sharding follows mergekit and huggingface_hub: tensors are taken in the given order and
 * appended to the current shard unless that would push the shard's data over {@code maxShardBytes}
 * and the shard already holds a tensor; then a new shard starts. A tensor larger than the limit
 * thus gets a shard of its own. Shards are named {@code model-00001-of-00003.safetensors} (1-based,
 * 5 digits), or {@code model.safetensors} when there is only one. The index is {@code {"metadata":
 * {"total_size": <bytes of all tensors>}, "weight_map": {<tensor>: <shard>}}}, pretty-printed with
 * the tensors in order.
 *
 * <p>Writing uses the {@link SafetensorsWriter} protocol across shards: {@link #beginTensor} for
 * every tensor in the planned order, {@link #write} any number of times, then {@link #finish()}.
 * Shards are written to temporary files and renamed into place only by {@code finish()}, all
 * together, before the index; {@link #close()} without a successful {@code finish()} removes
 * everything this writer wrote. A single-shard save deletes a {@code model.safetensors.index.json}
 * left by an earlier sharded save in the same directory, since readers prefer the index; other
 * files are left alone.
 *
 * <p>Not thread-safe: one thread writes.
 */
public final class ShardedSafetensorsWriter implements Closeable, TensorSink {
  /**
   * One planned shard.
   *
   * @param fileName the shard's file name inside the model directory
   * @param tensors its tensors, in the order they are written
   * @param dataBytes the bytes of tensor data it holds, header excluded
   */
  public record Shard(String fileName, List<TensorInfo> tensors, long dataBytes) {
    /** Copies the tensor list. */
    public Shard {
      tensors = List.copyOf(tensors);
    }
  }

  private final Path dir;
  private final boolean createdDir;
  private final List<Shard> shards;
  private final Map<String, String> metadata;
  private final List<TensorInfo> order = new ArrayList<>();
  private final int[] shardOf; // shard index of each tensor in order
  private final List<SafetensorsWriter> writers = new ArrayList<>();
  private boolean sync = true;
  private boolean finished;
  private boolean closed;
  private int next; // index in order of the next tensor to begin

  private ShardedSafetensorsWriter(
      Path dir, boolean createdDir, List<Shard> shards, Map<String, String> metadata) {
    this.dir = dir;
    this.createdDir = createdDir;
    this.shards = shards;
    this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata)); // caller's order
    for (Shard s : shards) order.addAll(s.tensors());
    this.shardOf = new int[order.size()];
    int i = 0;
    for (int s = 0; s < shards.size(); s++) {
      for (int k = 0; k < shards.get(s).tensors().size(); k++) shardOf[i++] = s;
    }
  }

  /**
   * Splits tensors into shards (see the class description). An empty list gives one empty shard.
   *
   * @param maxShardBytes the most tensor bytes a shard may hold unless a single tensor is larger;
   *     positive
   * @throws IllegalArgumentException if {@code maxShardBytes} is not positive
   */
  public static List<Shard> plan(List<TensorInfo> tensors, long maxShardBytes) {
    if (maxShardBytes <= 0)
      throw new IllegalArgumentException("maxShardBytes must be positive: " + maxShardBytes);
    List<List<TensorInfo>> groups = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    List<TensorInfo> current = new ArrayList<>();
    long bytes = 0;
    for (TensorInfo t : tensors) {
      if (!current.isEmpty()
          && t.byteSize() > maxShardBytes - bytes) { // bytes + size > max, without overflow
        groups.add(current);
        sizes.add(bytes);
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(t);
      bytes = Math.addExact(bytes, t.byteSize());
    }
    groups.add(current);
    sizes.add(bytes);
    int n = groups.size();
    List<Shard> shards = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String name =
          n == 1
              ? SafetensorsModel.SINGLE_FILE
              : String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, n);
      shards.add(new Shard(name, groups.get(i), sizes.get(i)));
    }
    return Collections.unmodifiableList(shards);
  }

  /**
   * Plans the shards and prepares to write them into {@code dir}, which is created if missing. Each
   * shard's temporary file is created when its first tensor begins.
   *
   * @param metadata {@code __metadata__} of every shard; {@code "format": "pt"} is added unless a
   *     format is given
   * @throws IllegalArgumentException as {@link #plan} and {@link SafetensorsWriter#create} do,
   *     checked for every shard before anything is written
   * @throws IOException if the directory cannot be created
   */
  public static ShardedSafetensorsWriter open(
      Path dir, List<TensorInfo> tensors, long maxShardBytes, Map<String, String> metadata)
      throws IOException {
    List<Shard> shards = plan(tensors, maxShardBytes);
    Set<String> names = new HashSet<>();
    for (TensorInfo t : tensors) {
      if (!names.add(t.name()))
        throw new IllegalArgumentException("tensor '" + t.name() + "' is listed twice");
    }
    for (Shard s : shards)
      SafetensorsWriter.header(s.tensors(), metadata); // validates names, sizes, metadata
    boolean created = !Files.exists(dir);
    Files.createDirectories(dir);
    return new ShardedSafetensorsWriter(dir, created, shards, metadata);
  }

  /** The model directory. */
  public Path directory() {
    return dir;
  }

  /** The planned shards, in order. Read-only. */
  public List<Shard> shards() {
    return shards;
  }

  /** Bytes of tensor data in all shards: the index's {@code total_size}. */
  public long totalBytes() {
    long total = 0;
    for (Shard s : shards) total = Math.addExact(total, s.dataBytes());
    return total;
  }

  /** As {@link SafetensorsWriter#setSync}, for every shard and the index. */
  public void setSync(boolean sync) {
    this.sync = sync;
    for (SafetensorsWriter w : writers) w.setSync(sync);
  }

  /**
   * Starts the next tensor, which must be the next one in the order given to {@link #open}; when it
   * opens a new shard, the previous shard's data is completed and closed.
   *
   * @throws IllegalStateException as {@link SafetensorsWriter#beginTensor} does
   * @throws IOException if a shard cannot be completed or created
   */
  public void beginTensor(String name) throws IOException {
    ensureOpen();
    if (next == order.size()) {
      throw new IllegalStateException(
          dir
              + ": all "
              + order.size()
              + " planned tensors are written; '"
              + name
              + "' is not planned");
    }
    String expected = order.get(next).name();
    if (!expected.equals(name)) {
      throw new IllegalStateException(
          dir
              + ": expected tensor '"
              + expected
              + "' next in the planned order, got '"
              + name
              + "'");
    }
    current(shardOf[next]).beginTensor(name);
    next++;
  }

  /**
   * Appends bytes to the current tensor; see {@link SafetensorsWriter#write}.
   *
   * @throws IllegalStateException if no tensor is begun or the bytes would overrun it
   * @throws IOException if writing fails
   */
  public void write(ByteBuffer src) throws IOException {
    ensureOpen();
    if (writers.isEmpty()) throw new IllegalStateException(dir + ": write before beginTensor");
    writers.get(writers.size() - 1).write(src);
  }

  /**
   * Completes the last shard, renames every shard into place, then writes the index (two or more
   * shards) or deletes a stale one (one shard).
   *
   * @throws IllegalStateException if a tensor is missing or incomplete
   * @throws IOException if syncing, renaming or writing the index fails; {@link #close()} then
   *     removes what was written
   */
  public void finish() throws IOException {
    ensureOpen();
    if (next < order.size()) {
      throw new IllegalStateException(
          dir
              + ": tensor '"
              + order.get(next).name()
              + "' and "
              + (order.size() - next - 1)
              + " more were never written");
    }
    current(shards.size() - 1).finishData(); // creates the one empty shard of an empty model
    for (SafetensorsWriter w : writers) w.commit();
    Path index = dir.resolve(SafetensorsModel.INDEX_FILE);
    if (shards.size() > 1) {
      writeIndex(index); // with sync, its directory sync makes the shards' renames durable too
    } else {
      Files.deleteIfExists(index);
      if (sync) AtomicFiles.syncDirectory(index);
    }
    finished = true;
  }

  /**
   * Without a successful {@link #finish()}: deletes every shard and temporary file this writer
   * created (and the directory, if this writer created it and it is empty). After {@code finish()}:
   * does nothing.
   */
  @Override
  public void close() throws IOException {
    if (finished || closed) return;
    closed = true;
    IOException failure = null;
    for (SafetensorsWriter w : writers) {
      try {
        if (w.committed()) Files.deleteIfExists(w.file());
        else w.close();
      } catch (IOException e) {
        failure = add(failure, e);
      }
    }
    try {
      if (createdDir) {
        try (var entries = Files.list(dir)) {
          if (entries.findAny().isEmpty()) Files.delete(dir);
        }
      }
    } catch (IOException e) {
      failure = add(failure, e);
    }
    if (failure != null) throw failure;
  }

  /**
   * The writer of shard {@code s}, creating it (and completing the previous shard) when it is new.
   */
  private SafetensorsWriter current(int s) throws IOException {
    if (s < writers.size()) return writers.get(s);
    if (s != writers.size()) throw new IllegalStateException("shard " + s + " opened out of order");
    if (!writers.isEmpty()) writers.get(writers.size() - 1).finishData();
    Shard shard = shards.get(s);
    SafetensorsWriter w =
        SafetensorsWriter.create(dir.resolve(shard.fileName()), shard.tensors(), metadata);
    w.setSync(sync);
    writers.add(w);
    return w;
  }

  private void writeIndex(Path index) throws IOException {
    // huggingface_hub writes json.dumps(indent=2): two-space indent, "key": value, a final newline.
    DefaultPrettyPrinter pretty =
        new DefaultPrettyPrinter(
                Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"));
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    try (JsonGenerator g = SafetensorsHeader.JSON.createGenerator(json).setPrettyPrinter(pretty)) {
      g.writeStartObject();
      g.writeObjectFieldStart("metadata");
      g.writeNumberField("total_size", totalBytes());
      g.writeEndObject();
      g.writeObjectFieldStart("weight_map");
      for (int i = 0; i < order.size(); i++) {
        g.writeStringField(order.get(i).name(), shards.get(shardOf[i]).fileName());
      }
      g.writeEndObject();
      g.writeEndObject();
    }
    json.write('\n');
    try (AtomicFileWriter out =
        AtomicFileWriter.create(index, AtomicFileWriter.Temporary.FIXED, true)) {
      out.setSync(sync);
      out.write(ByteBuffer.wrap(json.toByteArray()));
      out.finish(json.size());
    }
  }

  private void ensureOpen() {
    if (finished) throw new IllegalStateException(dir + ": writer is finished");
    if (closed) throw new IllegalStateException(dir + ": writer is closed");
  }

  private static IOException add(IOException first, IOException next) {
    if (first == null) return next;
    first.addSuppressed(next);
    return first;
  }

  @Override
  public String toString() {
    return "ShardedSafetensorsWriter["
        + dir
        + ", "
        + shards.size()
        + " shards, "
        + next
        + "/"
        + order.size()
        + " tensors begun]";
  }
}
