package dev.amalgam.io.gguf;

import dev.amalgam.io.FormatException;
import dev.amalgam.io.FormatException.Reason;
import dev.amalgam.io.InputChangedException;
import dev.amalgam.io.InputFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One GGUF file (version 2 or 3), opened for reading: its validated header and zero-copy access to
 * each tensor's bytes through {@link GgufTensorData}.
 *
 * <p>Layout, all little-endian and packed: magic {@code GGUF}; u32 version; u64 tensor count; u64
 * key count; the key-value pairs (string key, u32 value type, value); the tensor infos (string
 * name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset); zero padding to the alignment
 * ({@code general.alignment}, default 32); the tensor data, tensor {@code i} at {@code dataStart +
 * offset_i}. A string is a u64 byte length and UTF-8 bytes without a NUL; an array is a u32 element
 * type, a u64 count and the elements.
 *
 * <p>{@link #open} checks what ggml's gguf.cpp checks, with checked arithmetic and before
 * allocating anything the file could not back: the magic; the version (1 and future versions are
 * refused, and a byte-swapped version reveals a big-endian file); counts that fit the file; key and
 * string lengths inside the file; strict UTF-8; non-empty, unique keys; known value types, no
 * nested arrays, BOOL values 0 or 1; a UINT32 power-of-two alignment; unique tensor names shorter
 * than 64 bytes; 1 to 4 non-negative dimensions; known ggml types; rows of whole blocks; sizes that
 * do not overflow; offsets exactly sequential in info order ({@code offset_i = sum_{j<i}
 * align(nbytes_j)}); and tensor data inside the file. Each failure is one {@link FormatException}
 * whose message names the file, the key or tensor and the numbers involved, in gguf.cpp's style.
 *
 * <p>The header is read through a buffered channel, so headers of any size parse in one pass. The
 * file stays open until {@link #close()}. Instances are thread-safe.
 */
public final class GgufFile implements Closeable {
  /** The magic bytes "GGUF" read as a little-endian u32. */
  static final int MAGIC = 0x46554747;

  /** The version {@link GgufWriter} writes; the highest this reader accepts. */
  public static final int VERSION = 3;

  /** Tensor names must be shorter than this many bytes (GGML_MAX_NAME, which counts the NUL). */
  public static final int MAX_NAME_BYTES = 64;

  /**
   * The largest alignment accepted: larger powers of two would not fit the {@code int} of {@link
   * #alignment()}.
   */
  static final long MAX_ALIGNMENT = 1L << 30;

  /**
   * Fewest bytes one key-value pair takes: 8-byte length, 1-byte key, 4-byte type, 1-byte value.
   */
  private static final long MIN_KV_BYTES = 14;

  /**
   * Fewest bytes one tensor info takes: 8-byte length, empty name, n_dims, one ne, type, offset.
   */
  private static final long MIN_TENSOR_INFO_BYTES = 32;

  /** Arrays are grown in steps up to their declared count rather than allocated at once. */
  private static final int INITIAL_ARRAY_CAPACITY = 1 << 16;

  private final InputFile file;
  private final long fileSize;
  private final int version;
  private final GgufMetadata metadata;
  private final List<GgufTensorInfo> tensors;
  private final Map<String, GgufTensorInfo> byName;
  private final int alignment;
  private final long dataStart;
  private final Map<String, GgufTensorData> data = new ConcurrentHashMap<>();

  private GgufFile(
      InputFile file,
      long fileSize,
      int version,
      GgufMetadata metadata,
      List<GgufTensorInfo> tensors,
      int alignment,
      long dataStart) {
    this.file = file;
    this.fileSize = fileSize;
    this.version = version;
    this.metadata = metadata;
    this.tensors = Collections.unmodifiableList(tensors);
    Map<String, GgufTensorInfo> map = new HashMap<>();
    for (GgufTensorInfo t : tensors) map.put(t.name(), t);
    this.byName = map;
    this.alignment = alignment;
    this.dataStart = dataStart;
  }

  /**
   * Opens a GGUF file and validates its header.
   *
   * @throws FormatException if the file breaks a rule of the format
   * @throws IOException if it cannot be read or is a directory
   */
  public static GgufFile open(Path path) throws IOException {
    if (Files.isDirectory(path))
      throw new FileSystemException(path.toString(), null, "is a directory, not a GGUF file");
    return InputFile.open(path, GgufFile::parse);
  }

  /**
   * Whether {@code path} is a regular file that starts with the GGUF magic (whatever its
   * extension).
   */
  public static boolean hasMagic(Path path) {
    if (!Files.isRegularFile(path)) return false;
    try (FileChannel c = FileChannel.open(path, StandardOpenOption.READ)) {
      java.nio.ByteBuffer b =
          java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining()) {
        if (c.read(b) < 0) return false;
      }
      return b.getInt(0) == MAGIC;
    } catch (IOException e) {
      return false;
    }
  }

  private static GgufFile parse(InputFile file) throws IOException {
    Path path = file.path();
    FileChannel channel = file.channel();
    long fileSize = channel.size();
    HeaderInput in = new HeaderInput(path, channel, fileSize);
    if (fileSize < 4) {
      throw new FormatException(
          path,
          Reason.BAD_MAGIC,
          null,
          "file is " + fileSize + " bytes, too short for the GGUF magic");
    }
    int magic = (int) in.u32("the magic");
    if (magic != MAGIC) {
      throw new FormatException(
          path,
          Reason.BAD_MAGIC,
          null,
          String.format(
              "invalid magic 0x%08x, expected 0x%08x (\"GGUF\"); not a GGUF file", magic, MAGIC));
    }
    long version = in.u32("the version");
    checkVersion(path, version);
    long tensorCount = in.u64("the tensor count");
    long kvCount = in.u64("the key-value count");
    long room = in.remainingInFile();
    if (tensorCount < 0 || tensorCount > room / MIN_TENSOR_INFO_BYTES) {
      throw new FormatException(
          path,
          Reason.COUNT_TOO_LARGE,
          null,
          "tensor count "
              + Long.toUnsignedString(tensorCount)
              + " cannot fit in the "
              + room
              + " bytes after the counts");
    }
    if (kvCount < 0
        || kvCount > room / MIN_KV_BYTES
        || tensorCount * MIN_TENSOR_INFO_BYTES + kvCount * MIN_KV_BYTES > room) {
      throw new FormatException(
          path,
          Reason.COUNT_TOO_LARGE,
          null,
          "key-value count "
              + Long.toUnsignedString(kvCount)
              + " with "
              + tensorCount
              + " tensors cannot fit in the "
              + room
              + " bytes after the counts");
    }

    GgufMetadata metadata = new GgufMetadata();
    for (long i = 0; i < kvCount; i++) {
      String key = in.string("key #" + i, Long.MAX_VALUE, Reason.BAD_NAME, null);
      if (key.isEmpty())
        throw new FormatException(path, Reason.BAD_NAME, null, "key #" + i + " is empty");
      if (metadata.contains(key)) {
        throw new FormatException(
            path, Reason.DUPLICATE_NAME, null, "duplicate key '" + key + "' (key #" + i + ")");
      }
      long typeId = in.u32("the value type of key '" + key + "'");
      GgufValueType type =
          GgufValueType.fromId(typeId)
              .orElseThrow(
                  () ->
                      new FormatException(
                          path,
                          Reason.BAD_VALUE_TYPE,
                          null,
                          "key '" + key + "' has unknown value type id " + typeId));
      metadata.put(key, readValue(in, key, type));
    }
    int alignment = checkAlignment(path, metadata);

    List<GgufTensorInfo> infos = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
    Map<String, Integer> seen = new HashMap<>();
    long expectedOffset = 0;
    for (long i = 0; i < tensorCount; i++) {
      GgufTensorInfo info = readTensorInfo(in, i, expectedOffset);
      if (seen.putIfAbsent(info.name(), (int) i) != null) {
        throw new FormatException(
            path,
            Reason.DUPLICATE_NAME,
            info.name(),
            "duplicate tensor name (tensors #" + seen.get(info.name()) + " and #" + i + ")");
      }
      try {
        expectedOffset = Math.addExact(expectedOffset, align(info.byteSize(), alignment));
      } catch (ArithmeticException e) {
        throw new FormatException(
            path, Reason.SIZE_OVERFLOW, info.name(), "data offsets overflow a 64-bit integer");
      }
      infos.add(info);
    }
    long dataStart = align(in.position(), alignment);
    for (GgufTensorInfo t : infos) {
      long end;
      try {
        end = Math.addExact(Math.addExact(dataStart, t.offset()), t.byteSize());
      } catch (ArithmeticException e) {
        throw new FormatException(
            path, Reason.SIZE_OVERFLOW, t.name(), "data end overflows a 64-bit integer");
      }
      if (end > fileSize) {
        throw new FormatException(
            path,
            Reason.DATA_PAST_END,
            t.name(),
            "data ["
                + (dataStart + t.offset())
                + ", "
                + end
                + ") runs past the end of the file ("
                + fileSize
                + " bytes)");
      }
    }
    return new GgufFile(file, fileSize, (int) version, metadata, infos, alignment, dataStart);
  }

  private static void checkVersion(Path path, long version) throws FormatException {
    if (version == 0) {
      throw new FormatException(path, Reason.UNSUPPORTED_VERSION, null, "bad GGUF version 0");
    }
    if ((version & 0xFFFF) == 0) {
      throw new FormatException(
          path,
          Reason.UNSUPPORTED_VERSION,
          null,
          String.format(
              "big-endian GGUF not supported (the version reads as 0x%08x little-endian, %d byte-swapped)",
              version, Integer.reverseBytes((int) version)));
    }
    if (version == 1) {
      throw new FormatException(
          path,
          Reason.UNSUPPORTED_VERSION,
          null,
          "GGUF version 1 is not supported (32-bit counts); convert the file with a newer llama.cpp");
    }
    if (version > VERSION) {
      throw new FormatException(
          path,
          Reason.UNSUPPORTED_VERSION,
          null,
          "GGUF version " + version + " is newer than the supported version " + VERSION);
    }
  }

  private static int checkAlignment(Path path, GgufMetadata metadata) throws FormatException {
    Optional<GgufValue> value = metadata.get(GgufMetadata.ALIGNMENT);
    if (value.isEmpty()) return GgufMetadata.DEFAULT_ALIGNMENT;
    GgufValue v = value.get();
    if (v.type() != GgufValueType.UINT32) {
      throw new FormatException(
          path,
          Reason.BAD_ALIGNMENT,
          null,
          "key '"
              + GgufMetadata.ALIGNMENT
              + "' has type "
              + v.describeType()
              + ", expected UINT32");
    }
    long a = v.asLong();
    if (a == 0 || (a & (a - 1)) != 0) {
      throw new FormatException(
          path,
          Reason.BAD_ALIGNMENT,
          null,
          "alignment "
              + a
              + " (key '"
              + GgufMetadata.ALIGNMENT
              + "') is not a non-zero power of two");
    }
    if (a > MAX_ALIGNMENT) {
      throw new FormatException(
          path,
          Reason.BAD_ALIGNMENT,
          null,
          "alignment "
              + a
              + " (key '"
              + GgufMetadata.ALIGNMENT
              + "') is larger than the supported "
              + MAX_ALIGNMENT);
    }
    return (int) a;
  }

  private static GgufTensorInfo readTensorInfo(HeaderInput in, long index, long expectedOffset)
      throws IOException {
    Path path = in.path();
    String name =
        in.string("the name of tensor #" + index, MAX_NAME_BYTES - 1, Reason.BAD_NAME, null);
    long nDims = in.u32("the n_dims of tensor '" + name + "'");
    if (nDims == 0 || nDims > GgufTensorInfo.MAX_DIMS) {
      throw new FormatException(
          path,
          Reason.BAD_SHAPE,
          name,
          "has " + nDims + " dimensions, expected 1 to " + GgufTensorInfo.MAX_DIMS);
    }
    long[] ne = new long[(int) nDims];
    for (int d = 0; d < nDims; d++) {
      ne[d] = in.u64("ne[" + d + "] of tensor '" + name + "'");
      if (ne[d] < 0) {
        throw new FormatException(
            path, Reason.BAD_SHAPE, name, "ne[" + d + "] = " + ne[d] + " is negative");
      }
    }
    long typeId = in.u32("the type of tensor '" + name + "'");
    GgmlType type =
        GgmlType.fromId(typeId)
            .orElseThrow(
                () ->
                    new FormatException(
                        path,
                        Reason.UNKNOWN_DTYPE,
                        name,
                        "unknown or removed ggml type id " + typeId));
    long offset = in.u64("the offset of tensor '" + name + "'");
    if (ne[0] % type.blockElements() != 0) {
      throw new FormatException(
          path,
          Reason.PARTIAL_BLOCK,
          name,
          "ne[0] = "
              + ne[0]
              + " is not a multiple of the "
              + type
              + " block size "
              + type.blockElements());
    }
    try {
      type.byteCount(GgufTensorInfo.elementCount(ne));
    } catch (ArithmeticException e) {
      throw new FormatException(
          path,
          Reason.SIZE_OVERFLOW,
          name,
          "ne "
              + Arrays.toString(ne)
              + " of "
              + type
              + " overflows a 64-bit element or byte count");
    }
    if (offset != expectedOffset) {
      throw new FormatException(
          path,
          Reason.BAD_OFFSETS,
          name,
          "has offset " + Long.toUnsignedString(offset) + ", expected " + expectedOffset);
    }
    return new GgufTensorInfo(name, type, ne, offset);
  }

  private static GgufValue readValue(HeaderInput in, String key, GgufValueType type)
      throws IOException {
    String what = "the value of key '" + key + "'";
    if (type != GgufValueType.ARRAY)
      return new GgufValue(type, null, readScalar(in, key, type, what));
    long elementId = in.u32("the element type of key '" + key + "'");
    GgufValueType element =
        GgufValueType.fromId(elementId)
            .orElseThrow(
                () ->
                    new FormatException(
                        in.path(),
                        Reason.BAD_VALUE_TYPE,
                        null,
                        "key '" + key + "' is an array of unknown value type id " + elementId));
    if (element == GgufValueType.ARRAY) {
      throw new FormatException(
          in.path(),
          Reason.BAD_VALUE_TYPE,
          null,
          "key '" + key + "' is an array of arrays; nested arrays are not supported");
    }
    long count = in.u64("the element count of key '" + key + "'");
    long minBytes = element == GgufValueType.STRING ? 8 : element.size();
    if (count < 0 || count > in.remainingInFile() / minBytes) {
      throw new FormatException(
          in.path(),
          Reason.TRUNCATED,
          null,
          "key '"
              + key
              + "': array of "
              + Long.toUnsignedString(count)
              + " "
              + element
              + " elements runs past the end of the file ("
              + in.remainingInFile()
              + " bytes left)");
    }
    if (count > Integer.MAX_VALUE - 16) {
      throw new FormatException(
          in.path(),
          Reason.BAD_VALUE,
          null,
          "key '" + key + "': array of " + count + " elements is more than a Java array can hold");
    }
    int n = (int) count;
    return new GgufValue(GgufValueType.ARRAY, element, readArray(in, key, element, n));
  }

  private static Object readScalar(HeaderInput in, String key, GgufValueType type, String what)
      throws IOException {
    return switch (type) {
      case UINT8 -> (long) in.u8(what);
      case INT8 -> (long) (byte) in.u8(what);
      case UINT16 -> (long) in.u16(what);
      case INT16 -> (long) (short) in.u16(what);
      case UINT32 -> in.u32(what);
      case INT32 -> (long) (int) in.u32(what);
      case UINT64, INT64 -> in.u64(what);
      case FLOAT32 -> in.f32(what);
      case FLOAT64 -> in.f64(what);
      case BOOL -> readBool(in, key, what);
      case STRING -> in.string(what, Long.MAX_VALUE, Reason.BAD_VALUE, null);
      case ARRAY -> throw new IllegalStateException("arrays are read by readValue");
    };
  }

  private static boolean readBool(HeaderInput in, String key, String what) throws IOException {
    int b = in.u8(what);
    if (b > 1) {
      throw new FormatException(
          in.path(),
          Reason.BAD_VALUE,
          null,
          "key '" + key + "': BOOL value " + b + " is neither 0 nor 1");
    }
    return b == 1;
  }

  /**
   * Reads {@code n} elements, growing the Java array as they arrive so a false count cannot force a
   * huge allocation.
   */
  private static Object readArray(HeaderInput in, String key, GgufValueType element, int n)
      throws IOException {
    String what = "an element of key '" + key + "'";
    int capacity = Math.min(n, INITIAL_ARRAY_CAPACITY);
    switch (element) {
      case FLOAT32:
        {
          float[] a = new float[capacity];
          for (int i = 0; i < n; i++) {
            if (i == a.length) a = Arrays.copyOf(a, grow(a.length, n));
            a[i] = in.f32(what);
          }
          return a;
        }
      case FLOAT64:
        {
          double[] a = new double[capacity];
          for (int i = 0; i < n; i++) {
            if (i == a.length) a = Arrays.copyOf(a, grow(a.length, n));
            a[i] = in.f64(what);
          }
          return a;
        }
      case BOOL:
        {
          boolean[] a = new boolean[capacity];
          for (int i = 0; i < n; i++) {
            if (i == a.length) a = Arrays.copyOf(a, grow(a.length, n));
            a[i] = readBool(in, key, what);
          }
          return a;
        }
      case STRING:
        {
          String[] a = new String[capacity];
          for (int i = 0; i < n; i++) {
            if (i == a.length) a = Arrays.copyOf(a, grow(a.length, n));
            a[i] =
                in.string(
                    "element " + i + " of key '" + key + "'",
                    Long.MAX_VALUE,
                    Reason.BAD_VALUE,
                    null);
          }
          return a;
        }
      default:
        {
          long[] a = new long[capacity];
          for (int i = 0; i < n; i++) {
            if (i == a.length) a = Arrays.copyOf(a, grow(a.length, n));
            a[i] = (Long) readScalar(in, key, element, what);
          }
          return a;
        }
    }
  }

  private static int grow(int length, int max) {
    return (int) Math.min(max, Math.max(16L, 2L * length));
  }

  /** {@code x} rounded up to a multiple of {@code alignment} (a power of two). */
  static long align(long x, long alignment) {
    return Math.addExact(x, (alignment - x % alignment) % alignment);
  }

  /** The file's path, as given to {@link #open}. */
  public Path path() {
    return file.path();
  }

  /** The file's size in bytes when it was opened. */
  public long fileSize() {
    return fileSize;
  }

  /** The GGUF version: 2 or 3. */
  public int version() {
    return version;
  }

  /**
   * The metadata in file order. The returned object is a copy; changing it does not change this
   * file.
   */
  public GgufMetadata metadata() {
    return new GgufMetadata(metadata);
  }

  /** The tensors in file (info) order. Read-only. */
  public List<GgufTensorInfo> tensors() {
    return tensors;
  }

  /** The tensor called {@code name}, if the file has one. */
  public Optional<GgufTensorInfo> tensor(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The data alignment: {@code general.alignment}, or 32 when absent. */
  public int alignment() {
    return alignment;
  }

  /**
   * Absolute file offset of the data section: the end of the tensor infos rounded up to the
   * alignment.
   */
  public long dataStart() {
    return dataStart;
  }

  /** Bytes of tensor data without the padding after the last tensor. */
  public long dataBytes() {
    if (tensors.isEmpty()) return 0;
    GgufTensorInfo last = tensors.get(tensors.size() - 1);
    return last.offset() + last.byteSize();
  }

  /**
   * Access to tensor {@code name}'s bytes. Every call for the same name returns the same instance.
   *
   * @throws IllegalArgumentException if the file has no such tensor
   * @throws IllegalStateException if the file has been closed
   */
  public GgufTensorData data(String name) {
    file.ensureOpen();
    GgufTensorInfo info = byName.get(name);
    if (info == null)
      throw new IllegalArgumentException(file.path() + ": no tensor '" + name + "'");
    return data.computeIfAbsent(
        name, n -> new GgufTensorData(file, info, dataStart + info.offset()));
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
   * Releases the read buffers of every {@link GgufTensorData} handed out and closes the file.
   * Buffers already returned must no longer be used; further {@link #data} or {@link
   * GgufTensorData#raw} calls fail. Closing twice does nothing.
   */
  @Override
  public void close() throws IOException {
    file.close(() -> data.values().forEach(GgufTensorData::release));
  }

  @Override
  public String toString() {
    return file.path()
        + " (GGUF v"
        + version
        + ", "
        + metadata.size()
        + " keys, "
        + tensors.size()
        + " tensors)";
  }
}
