package dev.amalgam.convert;

import dev.amalgam.io.TensorSink;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufWriter;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Writes Hugging Face-named tensors into a llama.cpp GGUF file, streaming: each tensor arrives in
 * chunks of the element type it was planned with (its {@link TensorInfo#dtype()}) and in GGUF row
 * order, and is stored under its GGUF name, with its {@code ne} reversed from the PyTorch shape, in
 * the ggml type chosen for it. Plain types and Q8_0 (ggml's reference quantizer) are converted by
 * the kernels. {@code rope_freqs.weight}, when given, is written first. The file appears only when
 * {@link #finish()} succeeds.
 */
public final class GgufOutput implements TensorSink, Closeable {
  /** One output tensor: the HF tensor as it arrives and the ggml type it is stored in. */
  public record Planned(TensorInfo hf, GgmlType type) {
    /** Checks the arguments. */
    public Planned {
      Objects.requireNonNull(hf, "hf");
      Objects.requireNonNull(type, "type");
    }
  }

  private final GgufWriter writer;
  private final Kernels kernels;
  private final Map<String, Planned> planned = new HashMap<>();
  private final Map<String, String> ggufNames = new HashMap<>();
  private Planned current;
  private ByteBuffer scratch;

  private GgufOutput(GgufWriter writer, Kernels kernels) {
    this.writer = writer;
    this.kernels = kernels;
  }

  /**
   * The ggml type for a tensor by llama.cpp's converter rules (docs/formats.md §4.3): F32 for
   * vectors, norms and biases; otherwise {@code requested}, or when it is absent the type that
   * stores {@code hf}'s dtype unchanged. A block type that does not divide the rows falls back to
   * F16; the tensor's GGUF name is then added to {@code fellBack} (see {@link #fallbackWarning}).
   */
  public static GgmlType typeFor(
      TensorInfo hf, Optional<GgmlType> requested, List<String> fellBack) {
    String gguf = ggufName(hf.name());
    GgmlType want =
        requested.orElseGet(
            () ->
                GgmlType.of(hf.dtype())
                    .filter(t -> t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16)
                    .orElse(GgmlType.F32));
    long ne0 = hf.rank() == 0 ? 1 : hf.dim(hf.rank() - 1);
    LlamaTensorNames.OutputType out =
        LlamaTensorNames.ggufType(gguf, Math.max(1, hf.rank()), want, ne0);
    if (out.fellBack()) fellBack.add(gguf + " (rows of " + ne0 + ")");
    return out.type();
  }

  /** One warning for every tensor that fell back to F16, or empty. */
  public static Optional<String> fallbackWarning(List<String> fellBack, GgmlType requested) {
    if (fellBack.isEmpty()) return Optional.empty();
    String shown =
        String.join(", ", fellBack.subList(0, Math.min(3, fellBack.size())))
            + (fellBack.size() > 3 ? " and " + (fellBack.size() - 3) + " more" : "");
    return Optional.of(
        fellBack.size()
            + " tensor"
            + (fellBack.size() == 1 ? "" : "s")
            + " written as F16: their"
            + " rows do not divide into "
            + requested
            + " blocks of "
            + requested.blockElements()
            + ": "
            + shown);
  }

  /** The GGUF name of an HF Llama tensor; throws with the name when it has none. */
  public static String ggufName(String hf) {
    return LlamaTensorNames.toGguf(hf)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "tensor '"
                        + hf
                        + "' has no GGUF name: it is not a tensor of the Llama family (llama.cpp would not load it)"));
  }

  /**
   * Writes the header and, if given, {@code rope_freqs.weight}, and returns a sink for the tensors.
   *
   * @param target the GGUF file to create
   * @param metadata every key of the output (architecture, hyperparameters, tokenizer, file type)
   * @param tensors the tensors in the order they will arrive
   * @param ropeFreqs the llama3 rope frequency factors, if the model has them
   * @param overwrite whether an existing target may be replaced
   * @param sync whether the file is forced to disk before it is renamed into place
   */
  public static GgufOutput create(
      Path target,
      GgufMetadata metadata,
      List<Planned> tensors,
      Optional<float[]> ropeFreqs,
      Kernels kernels,
      boolean overwrite,
      boolean sync)
      throws IOException {
    List<GgufWriter.TensorSpec> specs = new ArrayList<>();
    ropeFreqs.ifPresent(
        r ->
            specs.add(
                new GgufWriter.TensorSpec(
                    LlamaTensorNames.ROPE_FREQS, GgmlType.F32, new long[] {r.length})));
    for (Planned p : tensors) {
      long[] shape = p.hf().shape();
      long[] ne = new long[Math.max(1, shape.length)];
      if (shape.length == 0) ne[0] = 1;
      for (int i = 0; i < shape.length; i++) ne[i] = shape[shape.length - 1 - i];
      specs.add(new GgufWriter.TensorSpec(ggufName(p.hf().name()), p.type(), ne));
    }
    GgufWriter writer = GgufWriter.create(target, metadata, specs, overwrite);
    GgufOutput out = new GgufOutput(writer, kernels);
    try {
      writer.setSync(sync);
      writer.setKernels(kernels);
      if (ropeFreqs.isPresent()) {
        float[] r = ropeFreqs.get();
        ByteBuffer b = ByteBuffer.allocate(r.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : r) b.putFloat(f);
        writer.beginTensor(LlamaTensorNames.ROPE_FREQS);
        writer.write(b.flip());
        writer.endTensor();
      }
      for (Planned p : tensors) {
        if (out.planned.put(p.hf().name(), p) != null) {
          throw new IllegalArgumentException("tensor '" + p.hf().name() + "' is planned twice");
        }
        out.ggufNames.put(p.hf().name(), ggufName(p.hf().name()));
      }
    } catch (IOException | RuntimeException e) {
      out.close();
      throw e;
    }
    return out;
  }

  @Override
  public void beginTensor(String name) throws IOException {
    if (current != null) writer.endTensor();
    current = planned.get(name);
    if (current == null)
      throw new IllegalStateException("tensor '" + name + "' was not planned for this GGUF file");
    writer.beginTensor(ggufNames.get(name));
  }

  @Override
  public void write(ByteBuffer src) throws IOException {
    if (current == null) throw new IllegalStateException("no tensor begun");
    DType from = current.hf().dtype();
    long n = src.remaining() / from.byteSize();
    Optional<DType> plain = current.type().plainDType();
    if (plain.isPresent() && plain.get() == from) {
      writer.write(src);
    } else if (plain.isPresent()) {
      DType to = plain.get();
      int bytes = Math.toIntExact(to.byteCount(n));
      if (scratch == null || scratch.capacity() < bytes) {
        scratch =
            ByteBuffer.allocateDirect(Math.max(bytes, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
      }
      ByteBuffer out = scratch.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
      kernels.convert(src.slice().order(ByteOrder.LITTLE_ENDIAN), from, out, to, n);
      writer.write(out.limit(bytes).position(0));
      src.position(src.limit());
    } else {
      writer.writeConverted(src, from, n);
    }
  }

  /** Ends the last tensor, then syncs and renames the file into place. */
  public void finish() throws IOException {
    if (current != null) {
      writer.endTensor();
      current = null;
    }
    writer.finish();
  }

  /** The file created by {@link #finish()}. */
  public Path file() {
    return writer.file();
  }

  /** Bytes of tensor data in the file (with alignment padding). */
  public long dataBytes() {
    return writer.tensors().stream()
        .mapToLong(t -> GgufWriter.align(t.byteSize(), writer.alignment()))
        .sum();
  }

  /** Discards the temporary file unless {@link #finish()} succeeded. */
  @Override
  public void close() throws IOException {
    writer.close();
  }
}
