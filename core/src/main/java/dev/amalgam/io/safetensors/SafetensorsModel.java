package dev.amalgam.io.safetensors;

import static dev.amalgam.io.FormatException.Reason.BAD_INDEX;
import static dev.amalgam.io.FormatException.Reason.DUPLICATE_NAME;
import static dev.amalgam.io.FormatException.Reason.MISSING_FILE;
import static dev.amalgam.io.FormatException.Reason.UNSUPPORTED_FORMAT;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.FormatException;
import dev.amalgam.io.ModelWeights;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A model's weights in safetensors form: a single file, or a directory holding one file or several
 * shards tied together by {@code model.safetensors.index.json}.
 *
 * <p>{@link #open} on a directory uses, in this order: the index, if present; {@code
 * model.safetensors}; the only {@code *.safetensors} file, if there is exactly one. The index must
 * be a JSON object whose {@code weight_map} maps tensor names to shard file names inside the
 * directory; every shard must exist, the tensors found in the shards must be exactly the {@code
 * weight_map}'s keys, each in the shard the map names, and no tensor may appear in two shards.
 * Every shard's header is opened and validated by {@code open}; shards stay open until {@link
 * #close()}. PyTorch pickle checkpoints ({@code pytorch_model.bin}, {@code *.pt}, {@code *.pth})
 * are refused with advice to convert them.
 *
 * <p>Instances are thread-safe.
 */
public final class SafetensorsModel implements ModelWeights {
  /** The index of a sharded checkpoint. */
  public static final String INDEX_FILE = "model.safetensors.index.json";

  /** The weights file of an unsharded checkpoint. */
  public static final String SINGLE_FILE = "model.safetensors";

  private static final ObjectMapper MAPPER = new ObjectMapper(SafetensorsHeader.JSON);

  private final Path path;
  private final List<SafetensorsFile> shards;
  private final Map<String, SafetensorsFile> shardOf;
  private final List<TensorInfo> tensors;
  private final Map<String, Object> metadata;
  private final long totalBytes;

  private SafetensorsModel(Path path, List<SafetensorsFile> shards, Map<String, Object> metadata) {
    this.path = path;
    this.shards = List.copyOf(shards);
    this.metadata = metadata;
    Map<String, SafetensorsFile> byName = new HashMap<>();
    List<TensorInfo> all = new ArrayList<>();
    long total = 0;
    for (SafetensorsFile f : shards) {
      for (TensorInfo t : f.tensors()) {
        byName.put(t.name(), f);
        all.add(t);
        total = Math.addExact(total, t.byteSize());
      }
    }
    this.shardOf = byName;
    this.tensors = Collections.unmodifiableList(all);
    this.totalBytes = total;
  }

  /**
   * Opens a model directory or a single safetensors file and validates every header (and the
   * index).
   *
   * @throws FormatException if a file or the index breaks a rule, or the directory holds no
   *     safetensors weights
   * @throws NoSuchFileException if {@code path} does not exist
   * @throws IOException if a file cannot be read
   */
  public static SafetensorsModel open(Path path) throws IOException {
    if (Files.isDirectory(path)) return openDirectory(path);
    if (!Files.exists(path)) throw new NoSuchFileException(path.toString());
    String name = String.valueOf(path.getFileName()).toLowerCase(Locale.ROOT);
    if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth")) {
      throw pickle(path, path);
    }
    return new SafetensorsModel(path, List.of(SafetensorsFile.open(path)), Map.of());
  }

  /** The directory or file given to {@link #open}. */
  public Path path() {
    return path;
  }

  /** The safetensors files, in shard order (sorted by file name when indexed). */
  public List<Path> files() {
    return shards.stream().map(SafetensorsFile::path).collect(Collectors.toUnmodifiableList());
  }

  /** The opened shards, in the order of {@link #files()}. */
  public List<SafetensorsFile> shards() {
    return shards;
  }

  /** All tensors, by shard, then by data offset within a shard. Read-only. */
  public List<TensorInfo> tensors() {
    return tensors;
  }

  /** The tensor called {@code name}, if the model has one. */
  public Optional<TensorInfo> tensor(String name) {
    SafetensorsFile f = shardOf.get(name);
    return f == null ? Optional.empty() : f.tensor(name);
  }

  /**
   * Access to the bytes of tensor {@code name}, from the shard that holds it.
   *
   * @throws IllegalArgumentException if the model has no such tensor
   * @throws IllegalStateException if the model has been closed
   */
  public TensorData data(String name) {
    SafetensorsFile f = shardOf.get(name);
    if (f == null) throw new IllegalArgumentException(path + ": no tensor '" + name + "'");
    return f.data(name);
  }

  /**
   * The index's {@code metadata} object as plain Java values (maps, lists, strings, numbers,
   * booleans), e.g. {@code total_size}; empty without an index. Read-only at the top level.
   */
  public Map<String, Object> metadata() {
    return metadata;
  }

  /** Bytes of all tensors: the sum of their element counts times element sizes. */
  public long totalBytes() {
    return totalBytes;
  }

  @Override
  public void checkUnchanged() throws dev.amalgam.io.InputChangedException {
    for (SafetensorsFile f : shards) f.checkUnchanged();
  }

  /** Closes every shard. */
  @Override
  public void close() throws IOException {
    closeAll(shards, null);
  }

  @Override
  public String toString() {
    return path + " (" + shards.size() + " files, " + tensors.size() + " tensors)";
  }

  private static SafetensorsModel openDirectory(Path dir) throws IOException {
    Path index = dir.resolve(INDEX_FILE);
    if (Files.exists(index)) return openIndexed(dir, index);
    Path single = dir.resolve(SINGLE_FILE);
    if (Files.isRegularFile(single))
      return new SafetensorsModel(dir, List.of(SafetensorsFile.open(single)), Map.of());
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
    }
    List<Path> candidates = new ArrayList<>();
    Path pickle = null;
    for (Path f : files) {
      String name = f.getFileName().toString();
      if (name.startsWith(".")) continue; // hidden, e.g. a writer's .partial file
      if (name.endsWith(".safetensors")) candidates.add(f);
      String lower = name.toLowerCase(Locale.ROOT);
      boolean isPickle =
          (lower.startsWith("pytorch_model")
                  && (lower.endsWith(".bin") || lower.endsWith(".bin.index.json")))
              || lower.endsWith(".pt")
              || lower.endsWith(".pth");
      if (isPickle && pickle == null) pickle = f;
    }
    if (candidates.size() == 1) {
      return new SafetensorsModel(dir, List.of(SafetensorsFile.open(candidates.get(0))), Map.of());
    }
    if (candidates.size() > 1) {
      throw new FormatException(
          dir,
          MISSING_FILE,
          null,
          "holds "
              + candidates.size()
              + " .safetensors files ("
              + candidates.stream()
                  .map(p -> p.getFileName().toString())
                  .collect(Collectors.joining(", "))
              + ") but no "
              + INDEX_FILE
              + " or "
              + SINGLE_FILE
              + " saying which form the model");
    }
    if (pickle != null) throw pickle(dir, pickle);
    throw new FormatException(
        dir,
        MISSING_FILE,
        null,
        "no safetensors weights in "
            + dir
            + " (looked for "
            + INDEX_FILE
            + ", "
            + SINGLE_FILE
            + " and *.safetensors)");
  }

  private static FormatException pickle(Path where, Path file) {
    return new FormatException(
        where,
        UNSUPPORTED_FORMAT,
        null,
        "holds a PyTorch pickle checkpoint ("
            + file.getFileName()
            + "); pickle checkpoints are not supported, "
            + "as loading them can run arbitrary code: convert the model to safetensors first (e.g. with "
            + "transformers: model.save_pretrained(dir, safe_serialization=True))");
  }

  private static SafetensorsModel openIndexed(Path dir, Path index) throws IOException {
    Map<String, Object> metadata = new LinkedHashMap<>();
    Map<String, String> weightMap = readIndex(index, metadata);
    Path root = dir.toAbsolutePath().normalize();
    // Shard order: the sorted file names, as llama.cpp's converter takes them.
    Set<String> shardNames = new TreeSet<>();
    for (Map.Entry<String, String> e : weightMap.entrySet()) {
      String file = e.getValue();
      if (shardNames.contains(file)) continue;
      Path p;
      try {
        p = root.resolve(file).normalize();
      } catch (InvalidPathException ex) {
        p = root;
      }
      if (file.isEmpty() || !p.startsWith(root) || p.equals(root)) {
        throw new FormatException(
            index,
            BAD_INDEX,
            e.getKey(),
            "weight_map names '" + file + "', which is not a file in " + dir);
      }
      if (!Files.isRegularFile(p)) {
        throw new FormatException(
            index,
            MISSING_FILE,
            e.getKey(),
            "weight_map names shard '" + file + "', which does not exist in " + dir);
      }
      shardNames.add(file);
    }
    List<SafetensorsFile> opened = new ArrayList<>();
    try {
      // First every shard and every name, so that a tensor stored twice is reported as such.
      Map<String, String> fileOfTensor = new LinkedHashMap<>();
      for (String shard : shardNames) {
        SafetensorsFile f = SafetensorsFile.open(dir.resolve(shard));
        opened.add(f);
        for (TensorInfo t : f.tensors()) {
          String earlier = fileOfTensor.putIfAbsent(t.name(), shard);
          if (earlier != null) {
            throw new FormatException(
                f.path(), DUPLICATE_NAME, t.name(), "also stored in shard '" + earlier + "'");
          }
        }
      }
      for (Map.Entry<String, String> e : fileOfTensor.entrySet()) {
        String mapped = weightMap.get(e.getKey());
        if (mapped == null) {
          throw new FormatException(
              index,
              BAD_INDEX,
              e.getKey(),
              "shard '" + e.getValue() + "' holds this tensor, but weight_map lacks it");
        }
        if (!mapped.equals(e.getValue())) {
          throw new FormatException(
              index,
              BAD_INDEX,
              e.getKey(),
              "weight_map places this tensor in '"
                  + mapped
                  + "', but it is in '"
                  + e.getValue()
                  + "'");
        }
      }
      for (Map.Entry<String, String> e : weightMap.entrySet()) {
        if (!fileOfTensor.containsKey(e.getKey())) {
          throw new FormatException(
              index,
              BAD_INDEX,
              e.getKey(),
              "weight_map places this tensor in '" + e.getValue() + "', which does not hold it");
        }
      }
      return new SafetensorsModel(dir, opened, Collections.unmodifiableMap(metadata));
    } catch (IOException | RuntimeException | Error e) {
      closeAll(opened, e);
      throw e;
    }
  }

  /** Parses the index into its weight_map (in file order) and fills {@code metadata}. */
  private static Map<String, String> readIndex(Path index, Map<String, Object> metadata)
      throws IOException {
    Map<String, String> weightMap = null;
    String inWeightMap = null; // the entry being read, for messages
    try (JsonParser p = SafetensorsHeader.JSON.createParser(Files.readAllBytes(index))) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new FormatException(index, BAD_INDEX, null, "index must be a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        JsonToken value = p.nextToken();
        if (key.equals("weight_map")) {
          if (value != JsonToken.START_OBJECT) {
            throw new FormatException(
                index, BAD_INDEX, null, "weight_map must be an object of tensor -> file name");
          }
          weightMap = new LinkedHashMap<>();
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            inWeightMap = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
              throw new FormatException(
                  index, BAD_INDEX, inWeightMap, "weight_map value must be a file name string");
            }
            weightMap.put(inWeightMap, p.getText());
          }
          inWeightMap = null;
        } else if (key.equals("metadata")) {
          if (value != JsonToken.START_OBJECT) {
            throw new FormatException(index, BAD_INDEX, null, "metadata must be a JSON object");
          }
          metadata.putAll(
              MAPPER.readValue(p, new TypeReference<LinkedHashMap<String, Object>>() {}));
        } else {
          p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw new FormatException(
            index, BAD_INDEX, null, "unexpected content after the JSON object");
      }
    } catch (JsonProcessingException e) {
      String duplicate = SafetensorsHeader.duplicateKey(e);
      if (duplicate != null) {
        throw new FormatException(
            index,
            DUPLICATE_NAME,
            inWeightMap != null ? duplicate : null,
            inWeightMap != null
                ? "weight_map lists this tensor twice"
                : "the index repeats the key '" + duplicate + "'",
            e);
      }
      throw new FormatException(
          index,
          BAD_INDEX,
          null,
          "index is not valid JSON: " + SafetensorsHeader.jsonMessage(e),
          e);
    } catch (java.io.CharConversionException e) {
      // bytes Jackson reads as broken UTF-16/32, which it reports outside its JSON exceptions
      throw new FormatException(
          index, BAD_INDEX, null, "index is not valid JSON text: " + e.getMessage(), e);
    }
    if (weightMap == null)
      throw new FormatException(index, BAD_INDEX, null, "index has no weight_map");
    if (weightMap.isEmpty())
      throw new FormatException(index, BAD_INDEX, null, "weight_map is empty");
    return weightMap;
  }

  private static void closeAll(List<SafetensorsFile> files, Throwable pending) throws IOException {
    IOException failure = null;
    for (SafetensorsFile f : files) {
      try {
        f.close();
      } catch (IOException e) {
        if (pending != null) pending.addSuppressed(e);
        else if (failure == null) failure = e;
        else failure.addSuppressed(e);
      }
    }
    if (failure != null) throw failure;
  }
}
