package dev.amalgam.io.safetensors;

import dev.amalgam.io.FormatException;
import dev.amalgam.io.InputChangedException;
import dev.amalgam.io.InputFile;
import dev.amalgam.tensor.TensorInfo;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One safetensors file, opened for reading: its validated header and access to each tensor's bytes
 * by positional reads.
 *
 * <p>Layout: bytes [0, 8) hold N, the header length, as an unsigned little-endian 64-bit integer;
 * bytes [8, 8 + N) hold a UTF-8 JSON object mapping each tensor name to {@code {"dtype", "shape",
 * "data_offsets": [begin, end]}}, plus an optional {@code "__metadata__"} string-to-string map; the
 * tensors' bytes follow, little-endian and row-major, tensor by tensor, at file offset 8 + N +
 * begin.
 *
 * <p>{@link #open} checks everything the reference reader checks before it returns: the header
 * length (at most 100,000,000 bytes, inside the file), strict UTF-8, a JSON object that starts with
 * '{' and is followed by nothing but whitespace, no repeated key anywhere, a string-only {@code
 * __metadata__}, each entry's dtype (exact spelling), shape (non-negative integers up to 2^48 − 1)
 * and data_offsets (two such integers, begin ≤ end), overflow-checked sizes that end on a byte
 * boundary and equal end − begin, offsets that start at 0 and leave no hole or overlap, and a data
 * section that ends exactly at the end of the file. Fields of an entry other than those three are
 * ignored, as the reference reader ignores them. Every failure is a {@link FormatException} naming
 * the file, the tensor where one is concerned, and the rule.
 *
 * <p>The file stays open until {@link #close()}, which releases the read buffers of every {@link
 * TensorData} handed out. Instances are thread-safe.
 */
public final class SafetensorsFile implements Closeable {
  private final InputFile file;
  private final long headerLength;
  private final Map<String, String> metadata;
  private final List<TensorInfo> tensors;
  private final Map<String, SafetensorsHeader.Entry> entries;
  private final Map<String, TensorData> data = new ConcurrentHashMap<>();

  private SafetensorsFile(InputFile file, SafetensorsHeader header) {
    this.file = file;
    this.headerLength = header.headerLength;
    this.metadata = header.metadata;
    List<TensorInfo> infos = new ArrayList<>(header.entries.size());
    Map<String, SafetensorsHeader.Entry> byName = new HashMap<>();
    for (SafetensorsHeader.Entry e : header.entries) {
      infos.add(e.info());
      byName.put(e.info().name(), e);
    }
    this.tensors = Collections.unmodifiableList(infos);
    this.entries = byName;
  }

  /**
   * Opens a safetensors file and validates its header.
   *
   * @throws FormatException if the file breaks a rule of the format
   * @throws IOException if it cannot be read, or is a directory (see {@link SafetensorsModel#open})
   */
  public static SafetensorsFile open(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      throw new FileSystemException(
          path.toString(),
          null,
          "is a directory; open model directories with SafetensorsModel.open");
    }
    return InputFile.open(
        path, f -> new SafetensorsFile(f, SafetensorsHeader.read(path, f.channel())));
  }

  /** The file's path, as given to {@link #open}. */
  public Path path() {
    return file.path();
  }

  /**
   * N, the length of the JSON header in bytes (padding included); tensor data starts at file offset
   * 8 + N.
   */
  public long headerLength() {
    return headerLength;
  }

  /** The {@code __metadata__} map in header order, empty if the header has none. Read-only. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * All tensors in data-offset order (empty tensors sharing an offset keep their header order).
   * Read-only.
   */
  public List<TensorInfo> tensors() {
    return tensors;
  }

  /** The tensor called {@code name}, if the file has one. */
  public Optional<TensorInfo> tensor(String name) {
    SafetensorsHeader.Entry e = entries.get(name);
    return e == null ? Optional.empty() : Optional.of(e.info());
  }

  /**
   * Absolute file offset of the first byte of tensor {@code name}: 8 + N + begin.
   *
   * @throws IllegalArgumentException if the file has no such tensor
   */
  public long dataOffset(String name) {
    return 8 + headerLength + entry(name).begin();
  }

  /**
   * Access to the bytes of tensor {@code name}. Every call for the same name returns the same
   * instance.
   *
   * @throws IllegalArgumentException if the file has no such tensor
   * @throws IllegalStateException if the file has been closed
   */
  public TensorData data(String name) {
    file.ensureOpen();
    SafetensorsHeader.Entry e = entry(name);
    return data.computeIfAbsent(name, n -> new TensorData(file, e.info(), dataOffset(n)));
  }

  /**
   * Checks that the file is still the one opened, unchanged in size and modification time: work
   * that read it checks this before it commits an output.
   *
   * @throws InputChangedException naming the file and what changed
   */
  public void checkUnchanged() throws InputChangedException {
    file.checkUnchanged();
  }

  /**
   * Releases the read buffers of every {@link TensorData} handed out and closes the file. Buffers
   * already returned must no longer be used; further {@link #data} or {@link TensorData#slice}
   * calls fail. Closing twice does nothing.
   */
  @Override
  public void close() throws IOException {
    file.close(() -> data.values().forEach(TensorData::release));
  }

  @Override
  public String toString() {
    return file.path() + " (" + tensors.size() + " tensors)";
  }

  private SafetensorsHeader.Entry entry(String name) {
    SafetensorsHeader.Entry e = entries.get(name);
    if (e == null) throw new IllegalArgumentException(file.path() + ": no tensor '" + name + "'");
    return e;
  }
}
