package dev.amalgam.fuzzing;

import dev.amalgam.convert.ModelConverter;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufValueType;
import dev.amalgam.io.gguf.GgufWriter;
import dev.amalgam.io.gguf.GgufWriter.TensorSpec;
import dev.amalgam.io.safetensors.SafetensorsWriter;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Generates the seed corpora of the fuzz tests under {@code core/src/test/resources}: tiny valid
 * files written by Amalgam's own writers and synthetic generators, a few KB each, in Jazzer's
 * layout {@code <package>/<TestClass>Inputs/<method>/<seed>}. The committed seeds are this class's
 * output; {@code FuzzSeedsTest} checks that they still are and, with {@code
 * -Damalgam.fuzz.writeSeeds=true}, rewrites them.
 */
public final class FuzzSeeds {
  /** Enough layers and width for every tensor kind, small enough for a seed. */
  private static final SyntheticLlama.Shape MICRO =
      new SyntheticLlama.Shape(1, 8, 16, 32, 2, 1, true);

  /** The smallest Llama-3-style synthetic vocabulary: 256 bytes, the special tokens, one merge. */
  private static final int LLAMA3_VOCAB =
      256 + SyntheticTokenizers.LLAMA3_SPECIAL_TOKENS.size() + 1;

  /** The smallest SentencePiece synthetic vocabulary: 3 specials, 256 bytes, a few pieces. */
  private static final int SENTENCEPIECE_VOCAB = 3 + 256 + 8;

  private FuzzSeeds() {}

  /** Writes all seeds into {@code resources} (a test resources root); returns the files. */
  public static List<Path> writeAll(Path resources) throws IOException {
    Path scratch = Files.createTempDirectory("amalgam-fuzz-seeds");
    try {
      List<Path> written = new ArrayList<>();
      written.addAll(
          safetensors(
              dir(resources, "dev/amalgam/io/safetensors/SafetensorsFuzzTestInputs/openFile"),
              scratch));
      written.addAll(
          gguf(dir(resources, "dev/amalgam/io/gguf/GgufFuzzTestInputs/openFile"), scratch));
      written.addAll(
          configs(
              dir(resources, "dev/amalgam/merge/config/ConfigReaderFuzzTestInputs/readConfig")));
      written.addAll(tokenizers(resources, scratch));
      return written;
    } finally {
      deleteTree(scratch);
    }
  }

  /** Regenerates the committed seeds: {@code args[0]} is the test resources root. */
  public static void main(String[] args) throws IOException {
    Path resources = Path.of(args.length > 0 ? args[0] : "core/src/test/resources");
    for (Path p : writeAll(resources)) System.out.println(p + " (" + Files.size(p) + " bytes)");
  }

  private static Path dir(Path resources, String relative) throws IOException {
    return Files.createDirectories(resources.resolve(relative));
  }

  private static List<Path> safetensors(Path out, Path scratch) throws IOException {
    Path model = scratch.resolve("micro-llama");
    SyntheticLlama.write(model, MICRO, DType.BF16, 1, 0, 0, Long.MAX_VALUE);
    Path llama =
        Files.copy(
            model.resolve("model.safetensors"),
            out.resolve("micro-llama-bf16.safetensors"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    // One small tensor of each byte-aligned element type, an empty one and a scalar.
    List<TensorInfo> tensors = new ArrayList<>();
    for (DType t : DType.values()) {
      if (t.bits() % 8 == 0)
        tensors.add(
            new TensorInfo(
                "t." + t.name().toLowerCase(java.util.Locale.ROOT), t, new long[] {2, 1}));
    }
    tensors.add(new TensorInfo("sub_byte.f4", DType.F4, new long[] {4}));
    tensors.add(new TensorInfo("empty", DType.F32, new long[] {0, 3}));
    tensors.add(new TensorInfo("scalar", DType.F32, new long[] {}));
    Path types = out.resolve("every-dtype.safetensors");
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "pt");
    metadata.put("note", "fuzz seed: one tensor per dtype");
    try (SafetensorsWriter w = SafetensorsWriter.create(types, tensors, metadata)) {
      for (TensorInfo t : tensors) {
        w.beginTensor(t.name());
        if (t.byteSize() > 0) w.write(pattern((int) t.byteSize()));
      }
      w.finish();
    }
    return List.of(llama, types);
  }

  private static List<Path> gguf(Path out, Path scratch) throws IOException {
    // A converted micro Llama: llama.* hyperparameters, the gpt2 tokenizer arrays, bf16 tensors.
    Path model = scratch.resolve("micro-llama-tok");
    SyntheticLlama.Shape shape = new SyntheticLlama.Shape(1, 8, 16, LLAMA3_VOCAB, 2, 1, true);
    SyntheticLlama.write(model, shape, DType.BF16, 2, 0, 0, Long.MAX_VALUE);
    SyntheticTokenizers.writeLlama3(model, LLAMA3_VOCAB);
    Path llama = out.resolve("micro-llama-bf16.gguf");
    Files.deleteIfExists(llama);
    ModelConverter.convert(
        model, llama, ModelConverter.Options.builder().sync(false).threads(1).build());

    // Every metadata value type the public API writes, a non-default alignment and block types.
    GgufMetadata m = new GgufMetadata();
    m.put(GgufMetadata.ARCHITECTURE, GgufValue.string("llama"));
    m.put(GgufMetadata.ALIGNMENT, GgufValue.uint32(64));
    m.put("seed.uint32", GgufValue.uint32(7));
    m.put("seed.int32", GgufValue.int32(-7));
    m.put("seed.uint64", GgufValue.uint64(1L << 40));
    m.put("seed.float32", GgufValue.float32(0.5f));
    m.put("seed.bool", GgufValue.bool(true));
    m.put("seed.strings", GgufValue.strings("a", "", "é"));
    m.put("seed.float32s", GgufValue.float32s(1f, -2f));
    for (GgufValueType t : GgufValueType.values()) {
      if (t.isInteger())
        m.put(
            "seed.array." + t.name().toLowerCase(java.util.Locale.ROOT),
            GgufValue.integers(t, 0, 1));
    }
    List<TensorSpec> specs =
        List.of(
            new TensorSpec("f32", GgmlType.F32, new long[] {4, 2}),
            new TensorSpec("q8_0", GgmlType.Q8_0, new long[] {32}),
            new TensorSpec("q4_k", GgmlType.Q4_K, new long[] {256}),
            new TensorSpec("i8", GgmlType.I8, new long[] {3, 1, 1, 1}));
    Path types = out.resolve("every-value-type.gguf");
    Files.deleteIfExists(types);
    try (GgufWriter w = GgufWriter.create(types, m, specs)) {
      w.setSync(false);
      for (GgufTensorInfoSize s : sizes(w)) {
        w.beginTensor(s.name());
        w.write(pattern((int) s.bytes()));
        w.endTensor();
      }
      w.finish();
    }
    return List.of(llama, types);
  }

  private record GgufTensorInfoSize(String name, long bytes) {}

  private static List<GgufTensorInfoSize> sizes(GgufWriter w) {
    return w.tensors().stream().map(t -> new GgufTensorInfoSize(t.name(), t.byteSize())).toList();
  }

  private static List<Path> configs(Path out) throws IOException {
    Map<String, String> yaml = new LinkedHashMap<>();
    yaml.put(
        "linear.yml",
        String.join(
            "\n",
            "merge_method: linear",
            "models:",
            "  - model: ./a",
            "    parameters: {weight: 0.7}",
            "  - model: ./b",
            "    parameters: {weight: 0.3}",
            "dtype: bfloat16",
            ""));
    yaml.put(
        "slerp-gradient.yml",
        String.join(
            "\n",
            "merge_method: slerp",
            "base_model: ./a",
            "models:",
            "  - model: ./a",
            "  - model: ./b",
            "parameters:",
            "  t:",
            "    - filter: self_attn",
            "      value: [0, 0.5, 0.3, 0.7, 1]",
            "    - filter: mlp",
            "      value: [1, 0.5, 0.7, 0.3, 0]",
            "    - value: 0.5",
            "dtype: bfloat16",
            ""));
    yaml.put(
        "passthrough-slices.yml",
        String.join(
            "\n",
            "merge_method: passthrough",
            "slices:",
            "  - sources:",
            "      - model: ./a",
            "        layer_range: [0, 2]",
            "  - sources:",
            "      - model: ./b",
            "        layer_range: [1, 3]",
            "dtype: float16",
            ""));
    yaml.put(
        "ties-tokenizer.yml",
        String.join(
            "\n",
            "merge_method: ties",
            "base_model: ./base",
            "models:",
            "  - model: ./a",
            "    parameters: {density: 0.5, weight: 1.0}",
            "  - model: ./b",
            "    parameters: {density: 0.5, weight: 0.5}",
            "parameters: {normalize: true}",
            "tokenizer:",
            "  source: union",
            "  tokens:",
            "    <|im_start|>:",
            "      source: ./a",
            "chat_template: chatml",
            "dtype: bfloat16",
            ""));
    List<Path> written = new ArrayList<>();
    for (Map.Entry<String, String> e : yaml.entrySet()) {
      written.add(Files.writeString(out.resolve(e.getKey()), e.getValue()));
    }
    return written;
  }

  private static List<Path> tokenizers(Path resources, Path scratch) throws IOException {
    Path llama3 = Files.createDirectories(scratch.resolve("llama3-tokenizer"));
    SyntheticTokenizers.writeLlama3(llama3, LLAMA3_VOCAB);
    Path json =
        Files.copy(
            llama3.resolve("tokenizer.json"),
            dir(resources, "dev/amalgam/convert/TokenizerJsonFuzzTestInputs/convertTokenizerJson")
                .resolve("llama3-" + LLAMA3_VOCAB + ".json"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Path spm = Files.createDirectories(scratch.resolve("spm-tokenizer"));
    SyntheticTokenizers.writeSentencePiece(spm, SENTENCEPIECE_VOCAB);
    Path model =
        Files.copy(
            spm.resolve("tokenizer.model"),
            dir(resources, "dev/amalgam/convert/TokenizerModelFuzzTestInputs/convertTokenizerModel")
                .resolve("sentencepiece-" + SENTENCEPIECE_VOCAB + ".model"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return List.of(json, model);
  }

  /** Deterministic, non-constant bytes. */
  private static ByteBuffer pattern(int n) {
    ByteBuffer b = ByteBuffer.allocate(n);
    for (int i = 0; i < n; i++) b.put((byte) (i * 37 + 11));
    return b.flip();
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
