package dev.amalgam.io.safetensors;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.amalgam.io.AtomicFileWriter;
import dev.amalgam.tensor.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Streams one safetensors file to disk, tensor by tensor, without holding tensors in memory.
 *
 * <p>{@link #create} fixes the layout up front: tensors are packed in the given order from data
 * offset 0, and the header ({@code __metadata__} first, with {@code "format": "pt"} unless the
 * caller gave a format, then the tensors in offset order) is padded with spaces so that the data
 * starts at a multiple of 8. Everything is written to a temporary file {@code .<name>.partial} next
 * to the target; {@link #finish()} checks that every byte arrived, forces the data to the device
 * (unless {@link #setSync} turned that off) and renames the file atomically into place. {@link
 * #close()} without a successful {@code finish()} deletes the temporary file, so a failed write
 * never leaves a partial model behind.
 *
 * <pre>{@code
 * try (SafetensorsWriter w = SafetensorsWriter.create(path, infos, Map.of())) {
 *   for (TensorInfo t : infos) {
 *     w.beginTensor(t.name());
 *     w.write(bytesOf(t)); // any number of writes, any sizes
 *   }
 *   w.finish();
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one thread writes.
 */
public final class SafetensorsWriter implements Closeable {
  private final AtomicFileWriter out;
  private final List<TensorInfo> tensors;
  private final long dataStart;
  private final long dataBytes;
  private int next; // index of the next tensor to begin
  private int current = -1; // index of the tensor being written
  private long remaining; // bytes the current tensor still needs

  private SafetensorsWriter(
      AtomicFileWriter out, List<TensorInfo> tensors, long dataStart, long dataBytes) {
    this.out = out;
    this.tensors = tensors;
    this.dataStart = dataStart;
    this.dataBytes = dataBytes;
  }

  /**
   * Plans the file, writes its header to {@code .<name>.partial} in the target's directory and
   * returns a writer ready for the first tensor.
   *
   * @param file the file to create; replaced by {@link #finish()} if it exists
   * @param tensors the tensors, in the order their data will be written
   * @param metadata the {@code __metadata__} entries; {@code "format": "pt"} is added unless a
   *     format is given
   * @throws IllegalArgumentException if a name repeats or is {@code __metadata__}, a dimension or
   *     offset exceeds the format's 2^48 − 1, or the header would exceed 100,000,000 bytes
   * @throws IOException if the temporary file cannot be written
   */
  public static SafetensorsWriter create(
      Path file, List<TensorInfo> tensors, Map<String, String> metadata) throws IOException {
    List<TensorInfo> planned = List.copyOf(tensors);
    byte[] header = header(planned, metadata);
    long dataBytes = 0;
    for (TensorInfo t : planned) dataBytes += t.byteSize(); // bounded by header()
    AtomicFileWriter out = AtomicFileWriter.create(file, AtomicFileWriter.Temporary.FIXED, true);
    try {
      out.write(ByteBuffer.wrap(header));
    } catch (IOException | RuntimeException e) {
      out.close();
      throw e;
    }
    return new SafetensorsWriter(out, planned, header.length, dataBytes);
  }

  /**
   * The complete header for these tensors, packed from offset 0 in the given order: the 8-byte
   * length followed by the space-padded JSON, {@code 8 + N} a multiple of 8.
   */
  static byte[] header(List<TensorInfo> tensors, Map<String, String> metadata) {
    Map<String, String> meta = new LinkedHashMap<>();
    // transformers refuses files whose metadata lacks a known format; "pt" is what save_pretrained
    // writes.
    if (!metadata.containsKey("format")) meta.put("format", "pt");
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      meta.put(
          Objects.requireNonNull(e.getKey(), "metadata key"),
          Objects.requireNonNull(e.getValue(), "metadata value of '" + e.getKey() + "'"));
    }
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    json.write(new byte[8], 0, 8); // the length, filled in below
    Set<String> names = new HashSet<>();
    try (JsonGenerator g = SafetensorsHeader.JSON.createGenerator(json)) {
      g.writeStartObject();
      g.writeObjectFieldStart(SafetensorsHeader.METADATA_KEY);
      for (Map.Entry<String, String> e : meta.entrySet())
        g.writeStringField(e.getKey(), e.getValue());
      g.writeEndObject();
      long offset = 0;
      for (TensorInfo t : tensors) {
        String name = t.name();
        if (name.equals(SafetensorsHeader.METADATA_KEY)) {
          throw new IllegalArgumentException(
              "a tensor cannot be named " + SafetensorsHeader.METADATA_KEY);
        }
        if (!names.add(name))
          throw new IllegalArgumentException("tensor '" + name + "' is listed twice");
        for (long d : t.shape()) {
          if (d > SafetensorsHeader.MAX_SCHEMA_VALUE) {
            throw new IllegalArgumentException(
                "tensor '"
                    + name
                    + "': dimension "
                    + d
                    + " exceeds the format's limit of 2^48 - 1");
          }
        }
        long end = Math.addExact(offset, t.byteSize());
        if (end > SafetensorsHeader.MAX_SCHEMA_VALUE) {
          throw new IllegalArgumentException(
              "tensor '"
                  + name
                  + "': data would end at offset "
                  + end
                  + ", beyond the format's limit of 2^48 - 1");
        }
        g.writeObjectFieldStart(name);
        g.writeStringField("dtype", t.dtype().safetensorsName());
        g.writeArrayFieldStart("shape");
        for (long d : t.shape()) g.writeNumber(d);
        g.writeEndArray();
        g.writeArrayFieldStart("data_offsets");
        g.writeNumber(offset);
        g.writeNumber(end);
        g.writeEndArray();
        g.writeEndObject();
        offset = end;
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to memory failed", e);
    }
    int unpadded = json.size();
    int padded = (unpadded + 7) & ~7;
    for (int i = unpadded; i < padded; i++) json.write(' ');
    long n = padded - 8L;
    if (n > SafetensorsHeader.MAX_HEADER_BYTES) {
      throw new IllegalArgumentException(
          "the header would be "
              + n
              + " bytes, more than the format's limit of "
              + SafetensorsHeader.MAX_HEADER_BYTES);
    }
    byte[] bytes = json.toByteArray();
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
    return bytes;
  }

  /** The file {@link #finish()} creates. */
  public Path file() {
    return out.target();
  }

  /** The tensors in the order they must be written. Read-only. */
  public List<TensorInfo> tensors() {
    return tensors;
  }

  /** Bytes of tensor data the file will hold (the header excluded). */
  public long dataBytes() {
    return dataBytes;
  }

  /**
   * Whether {@link #finish()} forces the data to the device before renaming, so that a crash cannot
   * leave a renamed but incomplete file (default true). Turn it off for throwaway output or
   * benchmarks of warm runs.
   */
  public void setSync(boolean sync) {
    out.setSync(sync);
  }

  /**
   * Starts the next tensor, which must be the next one in the planned order; the previous tensor
   * must be complete. A tensor with no bytes needs a {@code beginTensor} call and no writes.
   *
   * @throws IllegalStateException if the name is not the next planned tensor, the previous tensor
   *     is incomplete, or the writer is finished, closed or broken by an earlier I/O error
   */
  public void beginTensor(String name) {
    out.ensureWritable();
    checkCurrentComplete();
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
    remaining = tensors.get(current).byteSize();
  }

  /**
   * Appends {@code src}'s remaining bytes to the current tensor and advances its position to its
   * limit. Direct buffers go to the file in one call; heap buffers through a staging buffer (see
   * {@link AtomicFileWriter}).
   *
   * @throws IllegalStateException if no tensor is begun or the bytes would exceed the tensor's size
   *     (nothing is written then)
   * @throws IOException if writing fails; the writer is then unusable and {@link #close()} deletes
   *     the file
   */
  public void write(ByteBuffer src) throws IOException {
    out.ensureWritable();
    if (current < 0) throw new IllegalStateException(file() + ": write before beginTensor");
    long n = src.remaining();
    if (n > remaining) {
      TensorInfo t = tensors.get(current);
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + t.name()
              + "' has "
              + remaining
              + " of its "
              + t.byteSize()
              + " bytes left; a write of "
              + n
              + " bytes would overrun it");
    }
    out.write(src);
    remaining -= n;
  }

  /**
   * Checks that every planned byte was written, forces the file to the device (see {@link
   * #setSync}) and renames it atomically to {@link #file()}, replacing any file there.
   *
   * @throws IllegalStateException if a tensor is missing or incomplete (the writer stays open;
   *     close it to discard the file)
   * @throws IOException if syncing or renaming fails
   */
  public void finish() throws IOException {
    checkComplete();
    out.finish(dataStart + dataBytes);
  }

  /** Step 1 of {@link #finish()}: checks completeness, syncs and closes the temporary file. */
  void finishData() throws IOException {
    checkComplete();
    out.finishData(dataStart + dataBytes);
  }

  /** Step 2 of {@link #finish()}: renames the temporary file into place. */
  void commit() throws IOException {
    out.commit();
  }

  /** True once the file has been renamed into place. */
  boolean committed() {
    return out.committed();
  }

  /**
   * Without a successful {@link #finish()}: closes and deletes the temporary file, leaving nothing
   * behind. After {@code finish()}: does nothing.
   */
  @Override
  public void close() throws IOException {
    out.close();
  }

  /** Checks that every planned tensor was written in full. */
  private void checkComplete() {
    out.ensureWritable();
    checkCurrentComplete();
    if (next < tensors.size()) {
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + tensors.get(next).name()
              + "' and "
              + (tensors.size() - next - 1)
              + " more were never written");
    }
  }

  private void checkCurrentComplete() {
    if (current >= 0 && remaining > 0) {
      TensorInfo t = tensors.get(current);
      throw new IllegalStateException(
          file()
              + ": tensor '"
              + t.name()
              + "' is incomplete: "
              + (t.byteSize() - remaining)
              + " of "
              + t.byteSize()
              + " bytes written");
    }
  }

  @Override
  public String toString() {
    return "SafetensorsWriter[" + file() + ", " + next + "/" + tensors.size() + " tensors begun]";
  }
}
