package dev.amalgam.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.FormatException;
import dev.amalgam.io.ModelOutput;
import dev.amalgam.io.ProgressListener;
import dev.amalgam.io.TensorSource;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufQuant;
import dev.amalgam.io.gguf.GgufTensorData;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.io.gguf.GgufWriter;
import dev.amalgam.io.safetensors.ShardedSafetensorsWriter;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code amalgam convert}: Llama-family models between Hugging Face checkpoints and GGUF files, and
 * GGUF files to another tensor type. Streaming throughout: tensors are read in chunks from mapped
 * files and written as they are converted, so memory stays bounded whatever the model size; the
 * output appears only when complete.
 *
 * <ul>
 *   <li>HF to GGUF: names and shapes by llama.cpp's converter, the query/key rows interleaved,
 *       llama3 {@code rope_freqs.weight} generated, every {@code llama.*} and {@code general.*} key
 *       with llama.cpp's value types, and the tokenizer (tokenizer.model or tokenizer.json);
 *   <li>GGUF to HF: the inverse, with config.json and tokenizer files rebuilt from the metadata and
 *       quantized tensors dequantized;
 *   <li>GGUF to GGUF: metadata, names and order kept; without a type every tensor is copied byte
 *       for byte, with one each tensor takes it by llama.cpp's rules (vectors and norms stay F32).
 * </ul>
 */
public final class ModelConverter {
  /** Elements per copied chunk: a multiple of every block size. */
  private static final long CHUNK = 1L << 22;

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How a conversion runs: {@link #defaults()}, or {@link #builder()} to set some and {@link
   * #toBuilder()} for a changed copy.
   *
   * @param type the tensor type of the output (F32, F16, BF16 or, for GGUF, Q8_0); empty keeps each
   *     tensor's type (quantized tensors become F32 in a Hugging Face output)
   * @param threads kernel threads, 0 for all processors
   * @param overwrite whether an existing output may be replaced
   * @param sync whether the output is forced to disk before it is renamed into place
   * @param maxShardBytes the largest safetensors shard of a Hugging Face output
   * @param progress receives bytes written
   * @param warnings receives what the user should know (fallback types, guessed values), as it
   *     arises
   */
  public record Options(
      Optional<GgmlType> type,
      int threads,
      boolean overwrite,
      boolean sync,
      long maxShardBytes,
      ProgressListener progress,
      WarningListener warnings) {
    /** Checks the values. */
    public Options {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(progress, "progress");
      Objects.requireNonNull(warnings, "warnings");
      if (type.isPresent()
          && type.get() != GgmlType.F32
          && type.get() != GgmlType.F16
          && type.get() != GgmlType.BF16
          && type.get() != GgmlType.Q8_0) {
        throw new IllegalArgumentException(
            "output type must be f32, f16, bf16 or q8_0, got " + type.get());
      }
      if (threads < 0) throw new IllegalArgumentException("threads must be >= 0");
      if (maxShardBytes <= 0) throw new IllegalArgumentException("shard size must be positive");
    }

    /**
     * Each tensor keeps its type; all processors; no overwrite; synced; 5 GB shards; no progress;
     * warnings to the {@code dev.amalgam} {@link System.Logger}.
     */
    public static Options defaults() {
      return builder().build();
    }

    /** A builder with the {@link #defaults()}. */
    public static Builder builder() {
      return new Builder();
    }

    /** A builder holding these options, for a changed copy. */
    public Builder toBuilder() {
      return new Builder()
          .type(type)
          .threads(threads)
          .overwrite(overwrite)
          .sync(sync)
          .maxShardBytes(maxShardBytes)
          .progress(progress)
          .warnings(warnings);
    }

    /** Collects {@link Options}; {@link #build()} validates them. */
    public static final class Builder {
      private Optional<GgmlType> type = Optional.empty();
      private int threads;
      private boolean overwrite;
      private boolean sync = true;
      private long maxShardBytes = 5_000_000_000L;
      private ProgressListener progress = ProgressListener.NONE;
      private WarningListener warnings = WarningListener.toLogger();

      private Builder() {}

      /** The output tensor type; empty keeps each tensor's. */
      public Builder type(Optional<GgmlType> value) {
        type = value;
        return this;
      }

      /** Kernel threads, 0 for all processors. */
      public Builder threads(int value) {
        threads = value;
        return this;
      }

      /** Whether an existing output may be replaced. */
      public Builder overwrite(boolean value) {
        overwrite = value;
        return this;
      }

      /** Whether the output is forced to disk before it is renamed into place. */
      public Builder sync(boolean value) {
        sync = value;
        return this;
      }

      /** The largest safetensors shard of a Hugging Face output. */
      public Builder maxShardBytes(long value) {
        maxShardBytes = value;
        return this;
      }

      /** Where progress by bytes written goes. */
      public Builder progress(ProgressListener value) {
        progress = value;
        return this;
      }

      /** Where warnings go. */
      public Builder warnings(WarningListener value) {
        warnings = value;
        return this;
      }

      /**
       * The options.
       *
       * @throws IllegalArgumentException if a value is out of range or the type cannot be written
       */
      public Options build() {
        return new Options(type, threads, overwrite, sync, maxShardBytes, progress, warnings);
      }
    }
  }

  /**
   * What a conversion did.
   *
   * @param target the file or directory written
   * @param from the source format
   * @param to the output format
   * @param tensors tensors written
   * @param bytesWritten bytes of tensor data written
   * @param seconds wall time
   */
  public record Result(
      Path target,
      ModelFormats.Format from,
      ModelFormats.Format to,
      int tensors,
      long bytesWritten,
      double seconds) {}

  private ModelConverter() {}

  /**
   * Converts {@code source} (an HF directory or a GGUF file) to {@code target}: a GGUF file when
   * its name ends in {@code .gguf}, otherwise an HF directory.
   *
   * @throws FormatException if the source breaks a format rule or is not a Llama-family model
   * @throws ConversionException if its config.json or tokenizer cannot be converted
   * @throws IllegalArgumentException if the requested type does not fit the output format
   */
  public static Result convert(Path source, Path target, Options options) throws IOException {
    ModelFormats.Format from = ModelFormats.detect(source);
    ModelFormats.Format to =
        ModelFormats.isGgufPath(target) ? ModelFormats.Format.GGUF : ModelFormats.Format.HF;
    if (to == ModelFormats.Format.HF && options.type().filter(GgmlType::isQuantized).isPresent()) {
      throw new IllegalArgumentException(
          "a Hugging Face checkpoint holds f32, f16 or bf16 tensors, not "
              + options.type().get()
              + "; give the output a .gguf name to quantize");
    }
    long start = System.nanoTime();
    WarningListener warnings = options.warnings();
    int[] tensors = new int[1];
    long bytes;
    try (Kernels kernels = Kernels.best(options.threads())) {
      if (from == ModelFormats.Format.GGUF && to == ModelFormats.Format.GGUF) {
        bytes = ggufToGguf(source, target, options, kernels, warnings, tensors);
      } else if (to == ModelFormats.Format.GGUF) {
        bytes = hfToGguf(source, target, options, kernels, warnings, tensors);
      } else {
        bytes = toHf(source, target, options, kernels, warnings, tensors);
      }
    }
    return new Result(
        target.toAbsolutePath().normalize(),
        from,
        to,
        tensors[0],
        bytes,
        (System.nanoTime() - start) / 1e9);
  }

  // -------------------------------------------------------------------------------------------
  // GGUF to GGUF

  private static long ggufToGguf(
      Path source,
      Path target,
      Options options,
      Kernels kernels,
      WarningListener warnings,
      int[] count)
      throws IOException {
    try (GgufFile src = GgufFile.open(source)) {
      // The per-tensor type rules (norms and vectors F32) are llama.cpp's for the Llama family
      // only.
      String arch = src.metadata().getString(GgufMetadata.ARCHITECTURE).orElse("(none)");
      if (!arch.equals(LlamaMetadata.ARCHITECTURE)) {
        throw new FormatException(
            source,
            FormatException.Reason.UNSUPPORTED_FORMAT,
            null,
            "architecture '"
                + arch
                + "' is not supported; Amalgam converts Llama-family GGUF files (general.architecture = llama)");
      }
      GgufMetadata metadata = new GgufMetadata(src.metadata());
      List<GgufWriter.TensorSpec> specs = new ArrayList<>();
      List<String> fellBack = new ArrayList<>();
      boolean quantized = false;
      for (GgufTensorInfo t : src.tensors()) {
        GgmlType type = t.type();
        if (options.type().isPresent()) {
          LlamaTensorNames.OutputType out =
              LlamaTensorNames.ggufType(t.name(), t.rank(), options.type().get(), t.ne(0));
          if (out.fellBack()) fellBack.add(t.name() + " (rows of " + t.ne(0) + ")");
          type = out.type();
          if (type != t.type() && !GgufQuant.canDequantize(t.type())) {
            throw new FormatException(
                source,
                FormatException.Reason.UNKNOWN_DTYPE,
                t.name(),
                "type "
                    + t.type()
                    + " cannot be converted (readable: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
          }
        }
        quantized |= type.isQuantized();
        specs.add(new GgufWriter.TensorSpec(t.name(), type, t.ne()));
      }
      options
          .type()
          .flatMap(r -> GgufOutput.fallbackWarning(fellBack, r))
          .ifPresent(warnings::warn);
      if (options.type().isPresent())
        LlamaMetadata.putFileType(metadata, options.type().get(), quantized, false);
      long total = specs.stream().mapToLong(s -> s.type().byteCount(product(s.ne()))).sum();
      options.progress().start(total);
      try (GgufWriter writer = GgufWriter.create(target, metadata, specs, options.overwrite())) {
        writer.setSync(options.sync());
        writer.setKernels(kernels);
        ByteBuffer converted = null;
        for (int i = 0; i < specs.size(); i++) {
          GgufTensorInfo t = src.tensors().get(i);
          GgmlType to = specs.get(i).type();
          GgufTensorData data = src.data(t.name());
          writer.beginTensor(t.name());
          long n = t.elementCount();
          for (long first = 0; first < n; first += CHUNK) {
            long c = Math.min(CHUNK, n - first);
            if (to == t.type()) {
              writer.write(data.raw(first, c));
            } else if (t.type().plainDType().isPresent() && to.plainDType().isPresent()) {
              if (converted == null) converted = direct(CHUNK * 4);
              DType dst = to.plainDType().get();
              ByteBuffer out = converted.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
              kernels.convert(data.raw(first, c), t.type().plainDType().get(), out, dst, c);
              writer.write(out.limit(Math.toIntExact(dst.byteCount(c))).position(0));
            } else if (t.type()
                .plainDType()
                .filter(d -> d == DType.F32 || d == DType.F16 || d == DType.BF16)
                .isPresent()) {
              // plain to quantized: the writer quantizes straight from the stored values
              writer.writeConverted(data.raw(first, c), t.type().plainDType().get(), c);
            } else {
              // quantized source: decode to f32, then store in the target type
              if (converted == null) converted = direct(CHUNK * 4);
              ByteBuffer f = converted.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
              data.readF32(first, c, f);
              writer.writeConverted(f.flip(), DType.F32, c);
            }
            options.progress().advance(to.byteCount(c));
          }
          writer.endTensor();
          data.release();
          count[0]++;
        }
        src.checkUnchanged();
        writer.finish();
      } finally {
        options.progress().finish();
      }
      return total;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // HF to GGUF

  private static long hfToGguf(
      Path source,
      Path target,
      Options options,
      Kernels kernels,
      WarningListener warnings,
      int[] count)
      throws IOException {
    ModelFormats.Opened in = ModelFormats.open(source, Layout.GGUF);
    try (var weights = in.weights()) {
      ObjectNode config = in.hfConfig().orElseThrow();
      Path dir = Files.isDirectory(source) ? source : source.toAbsolutePath().getParent();
      Path configFile = dir.resolve("config.json");
      List<GgufOutput.Planned> planned = new ArrayList<>();
      List<String> fellBack = new ArrayList<>();
      for (TensorInfo t : weights.tensors()) {
        if (LlamaTensorNames.isSkippedHf(t.name())) continue;
        if (LlamaTensorNames.toGguf(t.name()).isEmpty()) {
          throw new FormatException(
              weights.path(),
              FormatException.Reason.UNSUPPORTED_FORMAT,
              t.name(),
              "not a Llama-family tensor; llama.cpp has no name for it");
        }
        if (!t.dtype().isMergeable()) {
          throw new FormatException(
              weights.path(),
              FormatException.Reason.UNKNOWN_DTYPE,
              t.name(),
              t.dtype() + " cannot be converted (F32, F16 and BF16 can)");
        }
        planned.add(new GgufOutput.Planned(t, GgufOutput.typeFor(t, options.type(), fellBack)));
      }
      options
          .type()
          .flatMap(r -> GgufOutput.fallbackWarning(fellBack, r))
          .ifPresent(warnings::warn);
      GgmlType fileType =
          options
              .type()
              .orElseGet(
                  () ->
                      planned.stream()
                          .filter(p -> p.hf().rank() >= 2)
                          .map(GgufOutput.Planned::type)
                          .findFirst()
                          .orElse(GgmlType.F32));
      String name = dir.getFileName() != null ? dir.getFileName().toString() : "model";
      ConversionResult converted = hfMetadata(config, configFile, dir, name, fileType);
      converted.warnings().forEach(warnings::warn);
      GgufMetadata metadata = converted.metadata();
      float[] rope = LlamaMetadata.ropeFreqs(config, configFile);
      long total = 0;
      for (GgufOutput.Planned p : planned) total += p.type().byteCount(p.hf().elementCount());
      options.progress().start(total);
      try (GgufOutput out =
          GgufOutput.create(
              target,
              metadata,
              planned,
              rope.length > 0 ? Optional.of(rope) : Optional.empty(),
              kernels,
              options.overwrite(),
              options.sync())) {
        for (GgufOutput.Planned p : planned) {
          copy(weights.data(p.hf().name()), out, p.hf().name(), options.progress(), p.type());
          count[0]++;
        }
        weights.checkUnchanged();
        out.finish();
      } finally {
        options.progress().finish();
      }
      return total;
    }
  }

  /**
   * The GGUF metadata of a Hugging Face Llama checkpoint: architecture and hyperparameters from
   * config.json ({@code general.name}, file type and quantization version included) followed by the
   * tokenizer's keys, with the warnings of both conversions.
   *
   * @throws ConversionException if config.json or the tokenizer cannot be converted (no tokenizer
   *     at all included: llama.cpp cannot load a model without one)
   */
  public static ConversionResult hfMetadata(
      ObjectNode config, Path configFile, Path dir, String name, GgmlType fileType)
      throws IOException {
    ConversionResult model =
        LlamaMetadata.fromConfig(config, configFile, Optional.of(name), Optional.of(fileType));
    List<String> warnings = new ArrayList<>(model.warnings());
    OptionalLong vocab =
        config.path("vocab_size").isIntegralNumber()
            ? OptionalLong.of(config.get("vocab_size").asLong())
            : OptionalLong.empty();
    ConversionResult tokenizer = TokenizerToGguf.fromDirectory(dir, vocab);
    warnings.addAll(tokenizer.warnings());
    GgufMetadata metadata = new GgufMetadata(model.metadata());
    tokenizer.metadata().entries().forEach(metadata::put);
    return new ConversionResult(metadata, warnings);
  }

  private static void copy(
      TensorSource src, GgufOutput out, String name, ProgressListener progress, GgmlType type)
      throws IOException {
    out.beginTensor(name);
    long n = src.info().elementCount();
    for (long first = 0; first < n; first += CHUNK) {
      long c = Math.min(CHUNK, n - first);
      out.write(src.slice(first, c));
      progress.advance(type.byteCount(c));
    }
    src.release();
  }

  // -----------------------------------------------------------------------------------------------
  // to HF

  private static long toHf(
      Path source,
      Path target,
      Options options,
      Kernels kernels,
      WarningListener warnings,
      int[] count)
      throws IOException {
    ModelFormats.Opened in = ModelFormats.open(source, Layout.HF);
    try (var weights = in.weights();
        ModelOutput output = ModelOutput.create(target, options.overwrite())) {
      Optional<DType> forced = options.type().map(t -> t.plainDType().orElseThrow());
      List<TensorInfo> outputs = new ArrayList<>();
      for (TensorInfo t : weights.tensors()) {
        if (!t.dtype().isMergeable()) {
          throw new FormatException(
              weights.path(),
              FormatException.Reason.UNKNOWN_DTYPE,
              t.name(),
              t.dtype() + " cannot be converted (F32, F16 and BF16 can)");
        }
        outputs.add(t.withDtype(forced.orElse(t.dtype())));
      }
      long total = outputs.stream().mapToLong(TensorInfo::byteSize).sum();
      options.progress().start(total);
      try (ShardedSafetensorsWriter writer =
          ShardedSafetensorsWriter.open(
              output.directory(), outputs, options.maxShardBytes(), Map.of("format", "pt"))) {
        writer.setSync(options.sync());
        ByteBuffer converted = direct(CHUNK * 4);
        for (TensorInfo t : outputs) {
          TensorSource src = weights.data(t.name());
          DType from = src.info().dtype();
          writer.beginTensor(t.name());
          long n = t.elementCount();
          for (long first = 0; first < n; first += CHUNK) {
            long c = Math.min(CHUNK, n - first);
            ByteBuffer chunk = src.slice(first, c);
            if (from == t.dtype()) {
              writer.write(chunk);
            } else {
              ByteBuffer out = converted.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear();
              kernels.convert(chunk, from, out, t.dtype(), c);
              writer.write(out.limit(Math.toIntExact(t.dtype().byteCount(c))).position(0));
            }
            options.progress().advance(t.dtype().byteCount(c));
          }
          src.release();
          count[0]++;
        }
        weights.checkUnchanged();
        writer.finish();
      } finally {
        options.progress().finish();
      }
      Path dir = output.directory();
      ObjectNode config = in.hfConfig().map(ObjectNode::deepCopy).orElse(null);
      if (config != null) {
        java.util.Set<DType> types = new java.util.HashSet<>();
        outputs.stream().filter(t -> t.rank() >= 2).forEach(t -> types.add(t.dtype()));
        if (types.size() == 1)
          config.put("torch_dtype", types.iterator().next().torchName().orElseThrow());
        JSON.writerWithDefaultPrettyPrinter()
            .writeValue(dir.resolve("config.json").toFile(), config);
      } else {
        warnings.warn(source + " has no config.json; the output has none either");
      }
      if (in.gguf().isPresent()) {
        GgufToTokenizer.write(in.gguf().get().metadata(), source, dir);
      } else {
        HfTokenizerFiles.copy(
            Files.isDirectory(source) ? source : source.toAbsolutePath().getParent(), dir);
      }
      output.commit();
      return total;
    }
  }

  private static long product(long[] ne) {
    long p = 1;
    for (long d : ne) p = Math.multiplyExact(p, d);
    return p;
  }

  private static ByteBuffer direct(long bytes) {
    return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
  }
}
