package dev.amalgam.io.gguf;

import dev.amalgam.io.AtomicFileWriter;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Streams one GGUF v3 file to disk, tensor by tensor, without holding tensors in memory.
 *
 * <p>{@link #create} validates the whole plan first (names shorter than 64 bytes and unique, 1 to 4
 * non-negative dimensions, rows of whole blocks, writable types, a valid {@code
 * general.alignment}), computes the offsets (the tensors packed in the given order, each padded to
 * the alignment), and writes the header (metadata and tensor infos in the given order, then
 * padding) to a hidden temporary file {@code .<name>.amalgam-partial-<random>} next to the target.
 * Tensor data then follows strictly in plan order: {@link #beginTensor}, any number of {@link
 * #write} (stored bytes) or {@link #writeConverted} (F32/F16/BF16 values converted to the tensor's
 * type) calls, {@link #endTensor} (which checks the byte count and writes the padding, after the
 * last tensor too). {@link #finish()} forces the data to the device (unless {@link #setSync} turned
 * that off) and renames the file into place; {@link #close()} without a successful {@code finish()}
 * deletes the temporary file, so a failed write never leaves a partial model.
 *
 * <pre>{@code
 * try (GgufWriter w = GgufWriter.create(path, metadata, specs)) {
 *   for (GgufWriter.TensorSpec t : specs) {
 *     w.beginTensor(t.name());
 *     w.write(bytesOf(t)); // any number of writes, any sizes
 *     w.endTensor();
 *   }
 *   w.finish();
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one thread writes.
 */
public final class GgufWriter implements Closeable {
  /** Elements converted per step of {@link #writeConverted} (a multiple of every block size). */
  private static final int CONVERT_CHUNK = 1 << 16;

  /**
   * Elements converted per kernel call of {@link #writeConverted}: large enough for the kernels to
   * split across threads (32Ki elements per thread at least), small enough (4 MiB of f32 output) to
   * stay in cache.
   */
  private static final int KERNEL_CHUNK = 1 << 20;

  /**
   * A tensor to write: its name, storage type and dimensions in GGUF order ({@code ne[0]}
   * contiguous, the reverse of the PyTorch shape). The offset is computed by the writer.
   *
   * @param name the tensor name, shorter than 64 bytes in UTF-8
   * @param type the ggml storage type
   * @param ne the dimensions, contiguous first (copied)
   */
  public record TensorSpec(String name, GgmlType type, long[] ne) {
    /** Copies the dimensions. */
    public TensorSpec {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(type, "type");
      ne = ne.clone();
    }

    /** The spec of an existing tensor (same name, type and dimensions), to copy a file's layout. */
    public static TensorSpec of(GgufTensorInfo info) {
      return new TensorSpec(info.name(), info.type(), info.ne());
    }

    /** The dimensions (a copy). */
    @Override
    public long[] ne() {
      return ne.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TensorSpec t
          && t.name.equals(name)
          && t.type == type
          && Arrays.equals(t.ne, ne);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, type, Arrays.hashCode(ne));
    }

    @Override
    public String toString() {
      return name + " " + type + " ne " + Arrays.toString(ne);
    }
  }

  private final AtomicFileWriter out;
  private final List<GgufTensorInfo> tensors;
  private final int alignment;
  private final CharsetEncoder utf8 =
      StandardCharsets.UTF_8
          .newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
  private long dataStart;
  private int next; // index of the next tensor to begin
  private int current = -1; // index of the tensor being written, -1 between tensors
  private long written; // bytes of the current tensor written so far
  private float[] floats; // conversion scratch
  private ByteBuffer converted; // conversion scratch
  private ByteBuffer kernelScratch; // output of the kernels, KERNEL_CHUNK f32 values
  private Kernels kernels; // null: Kernels.shared()

  private GgufWriter(AtomicFileWriter out, List<GgufTensorInfo> tensors, int alignment) {
    this.out = out;
    this.tensors = tensors;
    this.alignment = alignment;
  }

  /**
   * As {@link #create(Path, GgufMetadata, List, boolean)} without overwriting: {@link #finish()}
   * refuses an existing target.
   */
  public static GgufWriter create(Path target, GgufMetadata metadata, List<TensorSpec> tensors)
      throws IOException {
    return create(target, metadata, tensors, false);
  }

  /**
   * Validates the plan, writes the header to a temporary file beside {@code target} and returns a
   * writer ready for the first tensor.
   *
   * @param target the file {@link #finish()} creates
   * @param metadata the key-value pairs, written in their order; {@code general.alignment}, if
   *     present, sets the alignment (UINT32, a power of two)
   * @param tensors the tensors, in the order their infos and data are written
   * @param overwrite whether {@link #finish()} may replace an existing {@code target}
   * @throws IllegalArgumentException if a tensor or the metadata breaks a rule of the format
   *     (message names it)
   * @throws FileAlreadyExistsException if {@code target} exists and {@code overwrite} is false
   * @throws IOException if the temporary file cannot be written
   */
  public static GgufWriter create(
      Path target, GgufMetadata metadata, List<TensorSpec> tensors, boolean overwrite)
      throws IOException {
    Objects.requireNonNull(metadata, "metadata");
    int alignment = checkAlignment(metadata);
    List<GgufTensorInfo> planned = plan(tensors, alignment);
    GgufWriter w =
        new GgufWriter(
            AtomicFileWriter.create(target, AtomicFileWriter.Temporary.UNIQUE, overwrite),
            planned,
            alignment);
    try {
      w.writeHeader(metadata);
    } catch (IOException | RuntimeException | Error e) {
      try {
        w.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return w;
  }

  /**
   * {@code x} rounded up to a multiple of {@code alignment} (a positive power of two): ggml's
   * GGML_PAD.
   */
  public static long align(long x, int alignment) {
    if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
      throw new IllegalArgumentException(
          "alignment " + alignment + " is not a positive power of two");
    }
    return GgufFile.align(x, alignment);
  }

  private static int checkAlignment(GgufMetadata metadata) {
    GgufValue v = metadata.get(GgufMetadata.ALIGNMENT).orElse(null);
    if (v == null) return GgufMetadata.DEFAULT_ALIGNMENT;
    if (v.type() != GgufValueType.UINT32) {
      throw new IllegalArgumentException(
          "key '"
              + GgufMetadata.ALIGNMENT
              + "' has type "
              + v.describeType()
              + ", expected UINT32");
    }
    long a = v.asLong();
    if (a == 0 || (a & (a - 1)) != 0 || a > GgufFile.MAX_ALIGNMENT) {
      throw new IllegalArgumentException(
          "alignment "
              + a
              + " (key '"
              + GgufMetadata.ALIGNMENT
              + "') is not a power of two between 1 and "
              + GgufFile.MAX_ALIGNMENT);
    }
    return (int) a;
  }

  /** Checks every spec and assigns the sequential aligned offsets. */
  private static List<GgufTensorInfo> plan(List<TensorSpec> specs, int alignment) {
    List<GgufTensorInfo> planned = new ArrayList<>(specs.size());
    Set<String> names = new HashSet<>();
    long offset = 0;
    for (TensorSpec s : specs) {
      Objects.requireNonNull(s, "tensor spec");
      String name = s.name();
      int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
      if (nameBytes >= GgufFile.MAX_NAME_BYTES) {
        throw new IllegalArgumentException(
            "tensor '"
                + name
                + "': name is "
                + nameBytes
                + " bytes, the limit is "
                + (GgufFile.MAX_NAME_BYTES - 1));
      }
      if (!names.add(name))
        throw new IllegalArgumentException("tensor '" + name + "' is listed twice");
      if (s.type() == GgmlType.Q8_1 || s.type() == GgmlType.Q8_K) {
        throw new IllegalArgumentException(
            "tensor '"
                + name
                + "': type "
                + s.type()
                + " is an intermediate ggml type that files do not hold");
      }
      GgufTensorInfo info;
      try {
        info = new GgufTensorInfo(name, s.type(), s.ne, offset);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': ne " + Arrays.toString(s.ne) + " overflows a 64-bit size", e);
      }
      planned.add(info);
      try {
        offset = Math.addExact(offset, GgufFile.align(info.byteSize(), alignment));
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': data offsets overflow a 64-bit integer", e);
      }
    }
    return List.copyOf(planned);
  }

  private void writeHeader(GgufMetadata metadata) throws IOException {
    putInt(GgufFile.MAGIC);
    putInt(GgufFile.VERSION);
    putLong(tensors.size());
    putLong(metadata.size());
    for (Map.Entry<String, GgufValue> e : metadata.entries().entrySet()) {
      putString(e.getKey(), "key");
      GgufValue v = e.getValue();
      putInt(v.type().id());
      if (v.isArray()) {
        putInt(v.elementType().id());
        putLong(v.length());
        putArray(e.getKey(), v.elementType(), v.value());
      } else {
        putScalar(e.getKey(), v.type(), v.value());
      }
    }
    for (GgufTensorInfo t : tensors) {
      putString(t.name(), "tensor name");
      putInt(t.rank());
      for (long d : t.ne()) putLong(d);
      putInt(t.type().id());
      putLong(t.offset());
    }
    long headerEnd = out.position();
    dataStart = GgufFile.align(headerEnd, alignment);
    out.putZeros(dataStart - headerEnd);
  }

  private void putScalar(String key, GgufValueType type, Object value) throws IOException {
    switch (type) {
      case UINT8, INT8 -> out.room(1).put((byte) (long) (Long) value);
      case UINT16, INT16 -> out.room(2).putShort((short) (long) (Long) value);
      case UINT32, INT32 -> out.room(4).putInt((int) (long) (Long) value);
      case UINT64, INT64 -> out.room(8).putLong((Long) value);
      case FLOAT32 -> out.room(4).putFloat((Float) value);
      case FLOAT64 -> out.room(8).putDouble((Double) value);
      case BOOL -> out.room(1).put((byte) ((Boolean) value ? 1 : 0));
      case STRING -> putString((String) value, "value of key '" + key + "'");
      case ARRAY -> throw new IllegalStateException("arrays are written by putArray");
    }
  }

  private void putArray(String key, GgufValueType element, Object array) throws IOException {
    switch (element) {
      case FLOAT32 -> {
        for (float f : (float[]) array) out.room(4).putFloat(f);
      }
      case FLOAT64 -> {
        for (double d : (double[]) array) out.room(8).putDouble(d);
      }
      case BOOL -> {
        for (boolean b : (boolean[]) array) out.room(1).put((byte) (b ? 1 : 0));
      }
      case STRING -> {
        for (String s : (String[]) array) putString(s, "element of key '" + key + "'");
      }
      default -> {
        for (long l : (long[]) array) putScalar(key, element, l);
      }
    }
  }

  private void putString(String s, String what) throws IOException {
    byte[] bytes = utf8Bytes(s, what);
    putLong(bytes.length);
    out.write(ByteBuffer.wrap(bytes));
  }

  /**
   * UTF-8 bytes of {@code s}; an unpaired surrogate (which Java would silently replace) is refused.
   */
  private byte[] utf8Bytes(String s, String what) {
    boolean ascii = true;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return s.getBytes(StandardCharsets.ISO_8859_1);
    try {
      ByteBuffer b = utf8.reset().encode(CharBuffer.wrap(s));
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return bytes;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          file()
              + ": "
              + what
              + " is not valid Unicode (unpaired surrogate): "
              + s.substring(0, Math.min(s.length(), 40)),
          e);
    }
  }

  /** The file {@link #finish()} creates. */
  public Path file() {
    return out.target();
  }

  /** The planned tensors with their offsets, in write order. Read-only. */
  public List<GgufTensorInfo> tensors() {
    return tensors;
  }

  /** The data alignment in bytes. */
  public int alignment() {
    return alignment;
  }

  /** Absolute offset of the data section in the file. */
  public long dataStart() {
    return dataStart;
  }

  /**
   * Whether {@link #finish()} forces the data to the device before renaming (default true). Turn it
   * off for throwaway output or benchmarks of warm runs.
   */
  public void setSync(boolean sync) {
    out.setSync(sync);
  }

  /**
   * The kernels that {@link #writeConverted} quantizes to Q8_0 and converts between F32, F16 and
   * BF16 with (the caller keeps ownership and closes them after the writer). Without this call the
   * single-threaded {@link Kernels#shared()} serve. Every implementation writes the same bytes;
   * Q4_0 stays on {@link GgufQuant#quantizeQ4_0}.
   */
  public void setKernels(Kernels kernels) {
    this.kernels = Objects.requireNonNull(kernels, "kernels");
  }

  /**
   * Starts the next tensor, which must be the next one in plan order; the previous one must have
   * been ended.
   *
   * @throws IllegalStateException if the name is not the next planned tensor, a tensor is still
   *     open, or the writer is finished, closed or broken by an earlier I/O error
   */
  public void beginTensor(String name) {
    out.ensureWritable();
    if (current >= 0) {
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + tensors.get(current).name()
              + "' is still open; call endTensor first");
    }
    if (next == tensors.size()) {
      throw new IllegalStateException(
          file()
              + ": all "
              + tensors.size()
              + " planned tensors are written; '"
              + name
              + "' is not planned");
    }
    String expected = tensors.get(next).name();
    if (!expected.equals(name)) {
      throw new IllegalStateException(
          file()
              + ": expected tensor '"
              + expected
              + "' next in the planned order, got '"
              + name
              + "'");
    }
    current = next++;
    written = 0;
  }

  /**
   * Appends {@code src}'s remaining bytes, already in the tensor's stored type, to the current
   * tensor and advances {@code src}'s position to its limit.
   *
   * @throws IllegalStateException if no tensor is begun or the bytes would exceed the tensor's size
   *     (nothing is written then)
   * @throws IOException if writing fails; the writer is then unusable and {@link #close()} deletes
   *     the file
   */
  public void write(ByteBuffer src) throws IOException {
    GgufTensorInfo t = currentTensor();
    long n = src.remaining();
    if (n > t.byteSize() - written) {
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + t.name()
              + "' has "
              + (t.byteSize() - written)
              + " of its "
              + t.byteSize()
              + " bytes left; a write of "
              + n
              + " bytes would overrun it");
    }
    out.write(src);
    written += n;
  }

  /**
   * Converts {@code elements} values of {@code srcType} (F32, F16 or BF16, little-endian, from
   * {@code src}'s position, which advances past them) to the current tensor's type and appends
   * them. The tensor's type must be F32, F16, BF16, Q8_0 or Q4_0; for the block types the values
   * must be whole blocks (a multiple of 32) and earlier writes must have ended on a block boundary.
   * Conversions round to nearest even (F16, BF16) or use ggml's reference quantizers ({@link
   * GgufQuant}; Q8_0 and the plain types through the kernels, see {@link #setKernels}, which give
   * the same bytes); equal types are copied unchanged.
   *
   * @throws IllegalArgumentException if a type is not supported, the count is not whole blocks, or
   *     {@code src} holds fewer values
   * @throws IllegalStateException if no tensor is begun or the values would exceed the tensor
   *     (nothing is written then)
   * @throws IOException if writing fails
   */
  public void writeConverted(ByteBuffer src, DType srcType, long elements) throws IOException {
    GgufTensorInfo t = currentTensor();
    GgmlType to = t.type();
    if (srcType != DType.F32 && srcType != DType.F16 && srcType != DType.BF16) {
      throw new IllegalArgumentException("writeConverted reads F32, F16 or BF16, not " + srcType);
    }
    if (to != GgmlType.F32
        && to != GgmlType.F16
        && to != GgmlType.BF16
        && to != GgmlType.Q8_0
        && to != GgmlType.Q4_0) {
      throw new IllegalArgumentException(
          "tensor '"
              + t.name()
              + "': cannot convert to "
              + to
              + "; write its stored bytes with write()");
    }
    if (elements < 0) throw new IllegalArgumentException("negative element count " + elements);
    if (elements % to.blockElements() != 0 || written % to.blockBytes() != 0) {
      throw new IllegalArgumentException(
          "tensor '"
              + t.name()
              + "': "
              + elements
              + " values after "
              + written
              + " bytes are not whole "
              + to
              + " blocks of "
              + to.blockElements());
    }
    long srcBytes = srcType.byteCount(elements);
    if (src.remaining() < srcBytes) {
      throw new IllegalArgumentException(
          "the source holds "
              + src.remaining()
              + " bytes, "
              + elements
              + " "
              + srcType
              + " values need "
              + srcBytes);
    }
    long outBytes = to.byteCount(elements);
    if (outBytes > t.byteSize() - written) {
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + t.name()
              + "' has "
              + (t.byteSize() - written)
              + " of its "
              + t.byteSize()
              + " bytes left; "
              + elements
              + " values ("
              + outBytes
              + " bytes) would overrun it");
    }
    ByteBuffer in =
        src.slice(src.position(), Math.toIntExact(srcBytes)).order(ByteOrder.LITTLE_ENDIAN);
    if (to.plainDType().orElse(null) == srcType) {
      write(in);
    } else if (to != GgmlType.Q4_0) {
      writeWithKernels(in, srcType, to, elements);
    } else {
      if (floats == null) {
        floats = new float[CONVERT_CHUNK];
        converted = ByteBuffer.allocateDirect(CONVERT_CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
      }
      for (long done = 0; done < elements; ) {
        int n = (int) Math.min(CONVERT_CHUNK, elements - done);
        GgmlType from = GgmlType.of(srcType).orElseThrow();
        GgufQuant.dequantize(from, in, floats, 0, n);
        converted.clear();
        GgufQuant.quantizeQ4_0(floats, 0, n, converted);
        converted.flip();
        write(converted);
        done += n;
      }
    }
    src.position(src.position() + (int) srcBytes);
  }

  /**
   * Q8_0 and plain targets: the kernels convert or quantize chunk by chunk into a direct scratch
   * buffer.
   */
  private void writeWithKernels(ByteBuffer in, DType srcType, GgmlType to, long elements)
      throws IOException {
    Kernels k = kernels != null ? kernels : Kernels.shared();
    if (kernelScratch == null) {
      kernelScratch = ByteBuffer.allocateDirect(KERNEL_CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
    }
    for (long done = 0; done < elements; ) {
      int n = (int) Math.min(KERNEL_CHUNK, elements - done);
      ByteBuffer chunk =
          in.slice(Math.toIntExact(srcType.byteCount(done)), Math.toIntExact(srcType.byteCount(n)))
              .order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer out = kernelScratch.clear();
      if (to == GgmlType.Q8_0) {
        k.quantizeQ8_0(chunk, srcType, out, n);
      } else {
        k.convert(chunk, srcType, out, to.plainDType().orElseThrow(), n);
      }
      out.limit(Math.toIntExact(to.byteCount(n)));
      write(out);
      done += n;
    }
  }

  /**
   * Ends the current tensor: checks that exactly its byte size was written and writes the zero
   * padding up to the alignment.
   *
   * @throws IllegalStateException if no tensor is begun or it is incomplete
   * @throws IOException if writing fails
   */
  public void endTensor() throws IOException {
    GgufTensorInfo t = currentTensor();
    if (written != t.byteSize()) {
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + t.name()
              + "' is incomplete: "
              + written
              + " of "
              + t.byteSize()
              + " bytes written");
    }
    out.putZeros(GgufFile.align(t.byteSize(), alignment) - t.byteSize());
    current = -1;
  }

  /**
   * Checks that every tensor was written and ended, flushes and forces the file to the device (see
   * {@link #setSync}) and renames it to {@link #file()}. Without overwrite an existing target is
   * refused (where the file system supports hard links, atomically).
   *
   * @throws IllegalStateException if a tensor is missing or still open (the writer stays open;
   *     close it to discard)
   * @throws FileAlreadyExistsException if the target exists and overwriting was not requested
   * @throws IOException if syncing or renaming fails
   */
  public void finish() throws IOException {
    out.ensureWritable();
    if (current >= 0) {
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + tensors.get(current).name()
              + "' is still open; call endTensor first");
    }
    if (next < tensors.size()) {
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + tensors.get(next).name()
              + "' and "
              + (tensors.size() - next - 1)
              + " more were never written");
    }
    long expected = dataStart;
    if (!tensors.isEmpty()) {
      GgufTensorInfo last = tensors.get(tensors.size() - 1);
      expected += last.offset() + GgufFile.align(last.byteSize(), alignment);
    }
    out.finish(expected);
  }

  /**
   * Without a successful {@link #finish()}: closes and deletes the temporary file, leaving nothing
   * behind. After {@code finish()}: does nothing.
   */
  @Override
  public void close() throws IOException {
    out.close();
  }

  /** The temporary file, for tests. */
  Path tempFile() {
    return out.temporary();
  }

  private GgufTensorInfo currentTensor() {
    out.ensureWritable();
    if (current < 0)
      throw new IllegalStateException(file() + ": no tensor begun; call beginTensor first");
    return tensors.get(current);
  }

  private void putInt(int v) throws IOException {
    out.room(4).putInt(v);
  }

  private void putLong(long v) throws IOException {
    out.room(8).putLong(v);
  }

  @Override
  public String toString() {
    return "GgufWriter[" + file() + ", " + next + "/" + tensors.size() + " tensors begun]";
  }
}
