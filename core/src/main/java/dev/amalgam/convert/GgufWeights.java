package dev.amalgam.convert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.FormatException;
import dev.amalgam.io.ModelWeights;
import dev.amalgam.io.RowPermutedSource;
import dev.amalgam.io.ScratchBuffer;
import dev.amalgam.io.TensorSource;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufKeys;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufQuant;
import dev.amalgam.io.gguf.GgufTensorData;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A Llama-family GGUF file seen as a Hugging Face checkpoint: tensors under their HF names with
 * PyTorch shapes (the reverse of ggml's {@code ne}), plain F32/F16/BF16 data as stored,
 * block-quantized data (Q8_0, Q4_0, Q4_K, Q6_K) dequantized to F32 chunk by chunk, and the
 * query/key rows in the requested {@link Layout}. {@code rope_freqs.weight}, which has no HF
 * counterpart, is not among {@link #tensors()} but available through {@link #ropeFreqs()}.
 *
 * <p>Decoded and re-ordered data go through two buffers owned by this view, so one tensor of it is
 * read at a time (as merges and conversions do); a buffer from one {@link TensorSource} is
 * overwritten by the next slice of any tensor.
 */
public final class GgufWeights implements ModelWeights {
  private final GgufFile file;
  private final Layout layout;
  private final Architecture architecture;
  private final Map<String, GgufTensorInfo> byHfName = new LinkedHashMap<>();
  private final List<TensorInfo> tensors = new ArrayList<>();
  private final long headCount;
  private final long headCountKv;
  private final ScratchBuffer decoded = new ScratchBuffer();
  private final ScratchBuffer gathered = new ScratchBuffer();

  private GgufWeights(GgufFile file, Layout layout) throws IOException {
    this.file = file;
    this.layout = layout;
    GgufMetadata m = file.metadata();
    String arch =
        m.getString(GgufMetadata.ARCHITECTURE)
            .orElseThrow(
                () ->
                    new FormatException(
                        file.path(),
                        FormatException.Reason.BAD_HEADER,
                        null,
                        "no " + GgufMetadata.ARCHITECTURE + " key"));
    this.architecture =
        Architecture.forGguf(arch)
            .orElseThrow(
                () ->
                    new FormatException(
                        file.path(),
                        FormatException.Reason.UNSUPPORTED_FORMAT,
                        null,
                        "architecture '"
                            + arch
                            + "' is not supported; Amalgam"
                            + " reads Llama-family GGUF files (general.architecture = llama)"));
    this.headCount = m.getLong(GgufKeys.headCount(arch)).orElse(0L);
    this.headCountKv = m.getLong(GgufKeys.headCountKv(arch)).orElse(headCount);
    for (GgufTensorInfo t : file.tensors()) {
      if (t.name().equals(LlamaTensorNames.ROPE_FREQS)) continue;
      String hf =
          architecture
              .toHf(t.name())
              .orElseThrow(
                  () ->
                      new FormatException(
                          file.path(),
                          FormatException.Reason.UNSUPPORTED_FORMAT,
                          t.name(),
                          "not a Llama tensor name; cannot map it to Hugging" + " Face names"));
      if (!GgufQuant.canDequantize(t.type()) && t.type().plainDType().isEmpty()) {
        throw new FormatException(
            file.path(),
            FormatException.Reason.UNKNOWN_DTYPE,
            t.name(),
            "type "
                + t.type()
                + " cannot be read (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
      }
      if (architecture.permutation(t.name()).isPresent())
        permutation(t); // validates heads against rows
      byHfName.put(hf, t);
      tensors.add(new TensorInfo(hf, presentedType(t), t.torchShape()));
    }
  }

  /**
   * Opens a GGUF file.
   *
   * @param layout the row order in which the query and key projections are presented
   * @throws FormatException if the file is not a valid Llama-family GGUF file
   */
  public static GgufWeights open(Path path, Layout layout) throws IOException {
    GgufFile f = GgufFile.open(path);
    try {
      return new GgufWeights(f, layout);
    } catch (IOException | RuntimeException e) {
      f.close();
      throw e;
    }
  }

  private static DType presentedType(GgufTensorInfo t) {
    return t.type().plainDType().orElse(DType.F32);
  }

  private QkPermutation permutation(GgufTensorInfo t) throws FormatException {
    Architecture.Permuted p = architecture.permutation(t.name()).orElseThrow();
    long heads = p == Architecture.Permuted.QUERY ? headCount : headCountKv;
    String key =
        p == Architecture.Permuted.QUERY
            ? GgufKeys.headCount(architecture.ggufName())
            : GgufKeys.headCountKv(architecture.ggufName());
    long rows = t.rank() == 1 ? t.ne(0) : t.rows();
    try {
      return new QkPermutation(rows, heads);
    } catch (IllegalArgumentException e) {
      throw new FormatException(
          file.path(),
          FormatException.Reason.BAD_SHAPE,
          t.name(),
          "rows do not fit " + key + " = " + heads + ": " + e.getMessage());
    }
  }

  /** The underlying file. */
  public GgufFile file() {
    return file;
  }

  /** The file's metadata. */
  public GgufMetadata metadata() {
    return file.metadata();
  }

  /** The row order of the query and key projections as presented. */
  public Layout layout() {
    return layout;
  }

  /** The stored GGUF tensor behind an HF name. */
  public Optional<GgufTensorInfo> ggufTensor(String hfName) {
    return Optional.ofNullable(byHfName.get(hfName));
  }

  /** Whether the file stores a separate {@code output.weight} (untied embeddings). */
  public boolean hasOutputWeight() {
    String lmHead =
        architecture.toGguf(architecture.hfWeight(Architecture.Role.LM_HEAD)).orElseThrow();
    return file.tensor(lmHead).isPresent();
  }

  /**
   * The values of {@code rope_freqs.weight} (llama3 rope scaling), when the file has that tensor.
   */
  public Optional<float[]> ropeFreqs() throws IOException {
    Optional<GgufTensorInfo> t = file.tensor(LlamaTensorNames.ROPE_FREQS);
    if (t.isEmpty()) return Optional.empty();
    long n = t.get().elementCount();
    if (n > 1 << 20) {
      throw new FormatException(
          file.path(),
          FormatException.Reason.BAD_SHAPE,
          LlamaTensorNames.ROPE_FREQS,
          n + " values is not a rope frequency table");
    }
    float[] values = new float[(int) n];
    java.nio.FloatBuffer dst = java.nio.FloatBuffer.wrap(values);
    file.data(LlamaTensorNames.ROPE_FREQS).readF32(0, n, dst);
    return Optional.of(values);
  }

  /**
   * A transformers config.json for this file (docs/formats.md §4.6), with {@code torch_dtype} set
   * to {@code dtype}.
   */
  public ObjectNode hfConfig(DType dtype) throws IOException {
    ObjectNode config =
        LlamaMetadata.toConfig(file.metadata(), file.path(), hasOutputWeight(), ropeFreqs(), dtype);
    // transformers builds the projections with biases only when told; the metadata cannot say, the
    // tensors can
    config.put(
        "attention_bias",
        byHfName.keySet().stream().anyMatch(n -> n.contains(".self_attn.") && n.endsWith(".bias")));
    config.put(
        "mlp_bias",
        byHfName.keySet().stream().anyMatch(n -> n.contains(".mlp.") && n.endsWith(".bias")));
    return config;
  }

  @Override
  public Path path() {
    return file.path();
  }

  @Override
  public List<Path> files() {
    return List.of(file.path());
  }

  @Override
  public List<TensorInfo> tensors() {
    return List.copyOf(tensors);
  }

  @Override
  public Optional<TensorInfo> tensor(String name) {
    GgufTensorInfo t = byHfName.get(name);
    return t == null
        ? Optional.empty()
        : Optional.of(new TensorInfo(name, presentedType(t), t.torchShape()));
  }

  @Override
  public TensorSource data(String name) {
    GgufTensorInfo t = byHfName.get(name);
    if (t == null) throw new NoSuchElementException(file.path() + ": no tensor '" + name + "'");
    TensorInfo info = new TensorInfo(name, presentedType(t), t.torchShape());
    TensorSource stored = new Stored(file.data(t.name()), info, decoded);
    if (layout == Layout.GGUF || architecture.permutation(t.name()).isEmpty()) return stored;
    QkPermutation p;
    try {
      p = permutation(t);
    } catch (FormatException e) {
      throw new IllegalStateException(e); // validated when opened
    }
    return new RowPermutedSource(
        stored, info, t.rank() == 1 ? 1 : t.ne(0), p::hfRowToGgufRow, gathered);
  }

  @Override
  public long totalBytes() {
    return file.tensors().stream().mapToLong(GgufTensorInfo::byteSize).sum();
  }

  @Override
  public void checkUnchanged() throws dev.amalgam.io.InputChangedException {
    file.checkUnchanged();
  }

  @Override
  public void close() throws IOException {
    file.close();
  }

  @Override
  public String toString() {
    return "GgufWeights[" + file.path() + ", " + layout + "]";
  }

  /**
   * Stored data: read as stored for plain types, dequantized into a buffer of its own for block
   * types.
   */
  private static final class Stored implements TensorSource {
    private final GgufTensorData data;
    private final TensorInfo info;
    private final boolean quantized;
    private final ScratchBuffer decoded;

    Stored(GgufTensorData data, TensorInfo info, ScratchBuffer decoded) {
      this.data = data;
      this.info = info;
      this.decoded = decoded;
      this.quantized = data.info().type().isQuantized();
    }

    @Override
    public TensorInfo info() {
      return info;
    }

    @Override
    public long maxSliceElements() {
      GgmlType t = data.info().type();
      return quantized
          ? (Integer.MAX_VALUE / 4) / t.blockElements() * t.blockElements()
          : data.maxRawElements();
    }

    @Override
    public synchronized ByteBuffer slice(long firstElement, long elementCount) throws IOException {
      if (!quantized) return data.raw(firstElement, elementCount);
      int bytes = Math.toIntExact(Math.multiplyExact(elementCount, 4L));
      ByteBuffer out = decoded.get(bytes);
      data.readF32(firstElement, elementCount, out);
      return out.flip().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void release() {
      data.release();
    }

    @Override
    public void adviseWillNeed() throws IOException {
      data.adviseWillNeed();
    }
  }
}
