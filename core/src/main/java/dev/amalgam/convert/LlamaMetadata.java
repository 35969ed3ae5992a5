package dev.amalgam.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufKeys;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufValueType;
import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Model hyperparameters of the Llama family between Hugging Face {@code config.json} and GGUF
 * metadata (docs/formats.md §4.4 and 4.6), with the exact value types llama.cpp's loader insists
 * on: counts and lengths UINT32, epsilon and frequency base FLOAT32, ids UINT32.
 *
 * <p>Supported: {@code LlamaForCausalLM} (Llama 1, 2, 3, 3.1, 3.2 including tied embeddings) and
 * {@code MistralForCausalLM}, which llama.cpp loads as architecture {@code llama}. Tokenizer keys
 * are the job of {@link TokenizerToGguf}; tensor-derived facts (whether {@code output.weight}
 * exists, the {@code rope_freqs} tensor) are passed in by the caller.
 */
public final class LlamaMetadata {
  /**
   * The GGUF architecture name, also the prefix of every model key (the table entry {@link
   * Architecture#LLAMA}).
   */
  public static final String ARCHITECTURE = Architecture.LLAMA.ggufName();

  /** gguf-py's GGML_QUANT_VERSION, written as general.quantization_version. */
  public static final long QUANTIZATION_VERSION = 2;

  static final String NAME = GgufKeys.NAME;
  static final String FILE_TYPE = GgufKeys.FILE_TYPE;
  static final String QUANTIZATION_VERSION_KEY = GgufKeys.QUANTIZATION_VERSION;
  static final String BLOCK_COUNT = GgufKeys.blockCount(ARCHITECTURE);
  static final String CONTEXT_LENGTH = GgufKeys.contextLength(ARCHITECTURE);
  static final String EMBEDDING_LENGTH = GgufKeys.embeddingLength(ARCHITECTURE);
  static final String FEED_FORWARD_LENGTH = GgufKeys.feedForwardLength(ARCHITECTURE);
  static final String HEAD_COUNT = GgufKeys.headCount(ARCHITECTURE);
  static final String HEAD_COUNT_KV = GgufKeys.headCountKv(ARCHITECTURE);
  static final String FREQ_BASE = GgufKeys.ropeFreqBase(ARCHITECTURE);
  static final String RMS_EPSILON = GgufKeys.rmsEpsilon(ARCHITECTURE);
  static final String KEY_LENGTH = GgufKeys.keyLength(ARCHITECTURE);
  static final String VALUE_LENGTH = GgufKeys.valueLength(ARCHITECTURE);
  static final String VOCAB_SIZE = GgufKeys.vocabSize(ARCHITECTURE);
  static final String ROPE_DIMENSION = GgufKeys.ropeDimensionCount(ARCHITECTURE);
  static final String ROPE_SCALING_TYPE = GgufKeys.ropeScalingType(ARCHITECTURE);
  static final String ROPE_SCALING_FACTOR = GgufKeys.ropeScalingFactor(ARCHITECTURE);
  static final String ROPE_SCALING_ORIGINAL_CONTEXT =
      GgufKeys.ropeScalingOriginalContextLength(ARCHITECTURE);

  private static final Set<String> SUPPORTED_ARCHITECTURES =
      Set.copyOf(Architecture.LLAMA.hfArchitectures());
  private static final long UINT32_MAX = 0xFFFF_FFFFL;

  /**
   * Token ids stored as this value mean "not set" (llama.cpp: "bad special token ... using default
   * id -1").
   */
  static final long UNSET_ID = 0xFFFF_FFFFL;

  /** Defaults of the llama3 rope scaling (transformers' and gguf-py's). */
  static final double LLAMA3_DEFAULT_FACTOR = 8.0;

  static final double LLAMA3_DEFAULT_LOW_FREQ_FACTOR = 1.0;
  static final double LLAMA3_DEFAULT_HIGH_FREQ_FACTOR = 4.0;
  static final long LLAMA3_DEFAULT_ORIGINAL_CONTEXT = 8192;

  /**
   * Default rope_theta of transformers' LlamaConfig and of llama.cpp when llama.rope.freq_base is
   * absent.
   */
  static final double DEFAULT_ROPE_THETA = 10000.0;

  private LlamaMetadata() {}

  /**
   * Converts config.json to the architecture and {@code llama.*} keys, without general.name, file
   * type or quantization version.
   *
   * @param config the parsed config.json
   * @param configFile its path, for messages
   */
  public static ConversionResult fromConfig(JsonNode config, Path configFile)
      throws ConversionException {
    return fromConfig(config, configFile, Optional.empty(), Optional.empty());
  }

  /**
   * Converts config.json to GGUF metadata.
   *
   * @param config the parsed config.json
   * @param configFile its path, for messages
   * @param name written as general.name when present
   * @param outputType when present, written as general.file_type (its llama_ftype) together with
   *     general.quantization_version, as gguf-py does
   * @throws ConversionException for an unsupported architecture, a missing required key or a value
   *     of the wrong type or range
   */
  public static ConversionResult fromConfig(
      JsonNode config, Path configFile, Optional<String> name, Optional<GgmlType> outputType)
      throws ConversionException {
    JsonFields f = new JsonFields(configFile);
    if (!config.isObject())
      throw f.error(null, "expected a JSON object, got " + JsonFields.describe(config));
    List<String> collected = new ArrayList<>();
    WarningListener warnings = collected::add;
    String architecture = checkArchitecture(config, f);

    long layers = f.requireLong(config, "num_hidden_layers", 1, UINT32_MAX);
    long context = f.requireLong(config, "max_position_embeddings", 1, UINT32_MAX);
    long hidden = f.requireLong(config, "hidden_size", 1, UINT32_MAX);
    long ffn = f.requireLong(config, "intermediate_size", 1, UINT32_MAX);
    long heads = f.requireLong(config, "num_attention_heads", 1, UINT32_MAX);
    OptionalLong kvHeads = f.optLong(config, "num_key_value_heads", 1, UINT32_MAX);
    Optional<Double> theta = f.optDouble(config, "rope_theta");
    double eps = f.requireDouble(config, "rms_norm_eps");
    OptionalLong headDim = f.optLong(config, "head_dim", 1, UINT32_MAX);
    OptionalLong vocab = f.optLong(config, "vocab_size", 1, UINT32_MAX);
    if (kvHeads.isPresent() && heads % kvHeads.getAsLong() != 0) {
      throw f.error(
          "num_key_value_heads",
          kvHeads.getAsLong() + " does not divide num_attention_heads " + heads);
    }
    long ropeDimension =
        headDim.isPresent() ? headDim.getAsLong() : headDimFromHidden(hidden, heads, f);

    GgufMetadata m = new GgufMetadata();
    m.put(GgufMetadata.ARCHITECTURE, GgufValue.string(ARCHITECTURE));
    name.ifPresent(n -> m.put(NAME, GgufValue.string(n)));
    m.put(BLOCK_COUNT, GgufValue.uint32(layers));
    m.put(CONTEXT_LENGTH, GgufValue.uint32(context));
    m.put(EMBEDDING_LENGTH, GgufValue.uint32(hidden));
    m.put(FEED_FORWARD_LENGTH, GgufValue.uint32(ffn));
    m.put(HEAD_COUNT, GgufValue.uint32(heads));
    kvHeads.ifPresent(k -> m.put(HEAD_COUNT_KV, GgufValue.uint32(k)));
    theta.ifPresent(t -> m.put(FREQ_BASE, GgufValue.float32(t.floatValue())));
    m.put(RMS_EPSILON, GgufValue.float32((float) eps));
    headDim.ifPresent(
        d -> {
          m.put(KEY_LENGTH, GgufValue.uint32(d));
          m.put(VALUE_LENGTH, GgufValue.uint32(d));
        });
    outputType.ifPresent(t -> m.put(FILE_TYPE, GgufValue.uint32(fileType(t))));
    vocab.ifPresent(v -> m.put(VOCAB_SIZE, GgufValue.uint32(v)));
    m.put(ROPE_DIMENSION, GgufValue.uint32(ropeDimension));
    ropeScaling(config, f, m, warnings);
    outputType.ifPresent(
        t -> m.put(QUANTIZATION_VERSION_KEY, GgufValue.uint32(QUANTIZATION_VERSION)));

    if (architecture.equals("MistralForCausalLM") && f.get(config, "sliding_window").isPresent()) {
      warnings.warn(
          configFile
              + ": sliding_window "
              + config.get("sliding_window").asText()
              + " ignored: llama.cpp's llama architecture has no sliding-window key and attends to the whole context");
    }
    return new ConversionResult(m, collected);
  }

  private static String checkArchitecture(JsonNode config, JsonFields f)
      throws ConversionException {
    Optional<JsonNode> list = f.optArray(config, "architectures");
    if (list.isPresent()) {
      if (list.get().size() != 1 || !list.get().get(0).isTextual()) {
        throw f.error(
            "architectures",
            "expected one architecture name, got " + JsonFields.describe(list.get()));
      }
      String a = list.get().get(0).textValue();
      if (!SUPPORTED_ARCHITECTURES.contains(a)) {
        throw f.error(
            "architectures",
            "architecture '"
                + a
                + "' is not supported; supported: "
                + String.join(", ", new java.util.TreeSet<>(SUPPORTED_ARCHITECTURES)));
      }
      return a;
    }
    String type =
        f.optString(config, "model_type")
            .orElseThrow(
                () ->
                    f.error(
                        "architectures", "neither 'architectures' nor 'model_type' is present"));
    String architecture = Architecture.LLAMA.hfModelTypes().get(type);
    if (architecture == null) {
      throw f.error(
          "model_type",
          "model type '"
              + type
              + "' is not supported; supported: "
              + String.join(
                  ", ", new java.util.TreeSet<>(Architecture.LLAMA.hfModelTypes().keySet())));
    }
    return architecture;
  }

  private static long headDimFromHidden(long hidden, long heads, JsonFields f)
      throws ConversionException {
    if (hidden % heads != 0) {
      throw f.error(
          "num_attention_heads",
          heads + " does not divide hidden_size " + hidden + " and no head_dim is given");
    }
    return hidden / heads;
  }

  private static void ropeScaling(
      JsonNode config, JsonFields f, GgufMetadata m, WarningListener warnings)
      throws ConversionException {
    Optional<JsonNode> scaling = f.optObject(config, "rope_scaling");
    if (scaling.isEmpty()) return;
    JsonFields sf = new JsonFields(f.file());
    String type = ropeType(scaling.get(), sf);
    switch (type) {
      case "linear" -> {
        Optional<Double> factor = sf.optDouble(scaling.get(), "factor");
        if (factor.isEmpty()) {
          warnings.warn(f.file() + ": linear rope_scaling without a factor ignored");
          return;
        }
        m.put(ROPE_SCALING_TYPE, GgufValue.string("linear"));
        m.put(ROPE_SCALING_FACTOR, GgufValue.float32(factor.get().floatValue()));
      }
      case "yarn" -> {
        Optional<Double> factor = sf.optDouble(scaling.get(), "factor");
        if (factor.isEmpty()) {
          warnings.warn(f.file() + ": yarn rope_scaling without a factor ignored");
          return;
        }
        m.put(ROPE_SCALING_TYPE, GgufValue.string("yarn"));
        m.put(ROPE_SCALING_FACTOR, GgufValue.float32(factor.get().floatValue()));
        long original =
            sf.requireLong(scaling.get(), "original_max_position_embeddings", 1, UINT32_MAX);
        m.put(ROPE_SCALING_ORIGINAL_CONTEXT, GgufValue.uint32(original));
        for (String extra :
            List.of("beta_fast", "beta_slow", "attention_factor", "mscale", "mscale_all_dim")) {
          if (sf.get(scaling.get(), extra).isPresent()) {
            warnings.warn(
                f.file()
                    + ": rope_scaling."
                    + extra
                    + " is not written; llama.cpp uses its default");
          }
        }
      }
      case "llama3", "default" -> {
        // llama3: no keys; the caller writes the rope_freqs.weight tensor from ropeFreqs(config).
      }
      default ->
          warnings.warn(
              f.file()
                  + ": rope_scaling type '"
                  + type
                  + "' is not supported by llama.cpp's llama architecture and was ignored");
    }
  }

  private static String ropeType(JsonNode scaling, JsonFields f) throws ConversionException {
    Optional<String> t = f.optString(scaling, "rope_type");
    if (t.isEmpty()) t = f.optString(scaling, "type");
    return t.orElseThrow(() -> f.error("rope_scaling", "has neither 'rope_type' nor 'type'"));
  }

  /**
   * The llama_ftype that general.file_type records for an output type.
   *
   * @throws IllegalArgumentException for types whose file type is ambiguous (K-quant mixes) or
   *     undefined
   */
  public static long fileType(GgmlType outputType) {
    return switch (outputType) {
      case F32 -> 0;
      case F16 -> 1;
      case Q4_0 -> 2;
      case Q4_1 -> 3;
      case Q8_0 -> 7;
      case Q5_0 -> 8;
      case Q5_1 -> 9;
      case BF16 -> 32;
      default -> throw new IllegalArgumentException("no llama_ftype for output type " + outputType);
    };
  }

  /**
   * Records a new tensor type in a GGUF file's metadata, in place: {@code general.file_type}
   * becomes the llama_ftype of {@code fileType}, and {@code general.quantization_version} is
   * written when a tensor is quantized. A merged file's version follows its own tensors ({@code
   * rewriteVersion}: rewritten, or removed when none is quantized); a retyped file keeps the
   * version it has and gets one only when it lacks it.
   *
   * @param quantized whether some tensor of the file is block-quantized
   */
  public static void putFileType(
      GgufMetadata metadata, GgmlType fileType, boolean quantized, boolean rewriteVersion) {
    metadata.put(FILE_TYPE, GgufValue.uint32(fileType(fileType)));
    if (rewriteVersion && !quantized) {
      metadata.remove(QUANTIZATION_VERSION_KEY);
    } else if (quantized && (rewriteVersion || !metadata.contains(QUANTIZATION_VERSION_KEY))) {
      metadata.put(QUANTIZATION_VERSION_KEY, GgufValue.uint32(QUANTIZATION_VERSION));
    }
  }

  /**
   * The {@code rope_freqs.weight} values (F32, {@code head_dim / 2} of them) for a config whose
   * rope_scaling is {@code llama3}, computed as gguf-py does in float32: {@code freq_k = 1 /
   * theta^(2k / dim)}, {@code wavelen = 2 pi / freq_k}; 1 when {@code wavelen < orig /
   * high_freq_factor}, {@code factor} when {@code wavelen > orig / low_freq_factor}, otherwise
   * {@code 1 / ((1 - s) / factor + s)} with {@code s = (orig / wavelen - low) / (high - low)}.
   * Defaults: theta 10000, factor 8, low 1, high 4; {@code orig} is the top-level {@code
   * original_max_position_embeddings} (default 8192; gguf-py does not read the copy inside
   * rope_scaling).
   *
   * @return the factors, or an empty array when rope_scaling is absent or not llama3
   */
  public static float[] ropeFreqs(JsonNode config, Path configFile) throws ConversionException {
    JsonFields f = new JsonFields(configFile);
    Optional<JsonNode> scaling = f.optObject(config, "rope_scaling");
    if (scaling.isEmpty()) return new float[0];
    Optional<String> type = f.optString(scaling.get(), "rope_type");
    if (type.isEmpty() || !type.get().equalsIgnoreCase("llama3")) return new float[0];
    double base = f.optDouble(config, "rope_theta").orElse(DEFAULT_ROPE_THETA);
    long hidden = f.requireLong(config, "hidden_size", 1, UINT32_MAX);
    long heads = f.requireLong(config, "num_attention_heads", 1, UINT32_MAX);
    OptionalLong headDim = f.optLong(config, "head_dim", 1, UINT32_MAX);
    long dim = headDim.isPresent() ? headDim.getAsLong() : headDimFromHidden(hidden, heads, f);
    float factor =
        (float) (double) f.optDouble(scaling.get(), "factor").orElse(LLAMA3_DEFAULT_FACTOR);
    float low =
        (float)
            (double)
                f.optDouble(scaling.get(), "low_freq_factor")
                    .orElse(LLAMA3_DEFAULT_LOW_FREQ_FACTOR);
    float high =
        (float)
            (double)
                f.optDouble(scaling.get(), "high_freq_factor")
                    .orElse(LLAMA3_DEFAULT_HIGH_FREQ_FACTOR);
    long orig =
        f.optLong(config, "original_max_position_embeddings", 1, UINT32_MAX)
            .orElse(LLAMA3_DEFAULT_ORIGINAL_CONTEXT);
    if (high == low) throw f.error("rope_scaling", "high_freq_factor equals low_freq_factor");
    float lowWavelen = orig / low;
    float highWavelen = orig / high;
    float[] out = new float[(int) ((dim + 1) / 2)];
    for (int k = 0; k < out.length; k++) {
      float exponent = (float) (2L * k) / (float) dim;
      float freq = 1.0f / (float) Math.pow(base, exponent);
      float wavelen = (float) (2 * Math.PI) / freq;
      if (wavelen < highWavelen) {
        out[k] = 1.0f;
      } else if (wavelen > lowWavelen) {
        out[k] = factor;
      } else {
        float smooth = (orig / wavelen - low) / (high - low);
        out[k] = 1.0f / ((1 - smooth) / factor + smooth);
      }
    }
    return out;
  }

  /**
   * Rebuilds a transformers config.json for a Llama GGUF (docs/formats.md §4.6).
   *
   * <p>Defaults for keys a GGUF may lack: head_count_kv = head_count, rope_theta 10000, vocab_size
   * = number of tokens, head_dim = key_length, else rope.dimension_count, else hidden / heads. For
   * llama3 rope scaling only the factor is stored in a GGUF (as the largest rope_freqs value);
   * low/high frequency factors and the original context are written with the Llama 3.1 defaults (1,
   * 4, 8192). {@code attention_bias} is not written (transformers' default is false); a caller that
   * finds {@code blk.N.attn_q.bias} tensors sets it.
   *
   * @param metadata the GGUF metadata
   * @param source the GGUF file, for messages
   * @param hasOutputWeight whether the GGUF has {@code output.weight}; without it the embeddings
   *     are tied
   * @param ropeFreqs the {@code rope_freqs.weight} values when the GGUF has that tensor
   * @param torchDtype the dtype the HF tensors will be written in
   * @throws ConversionException when the architecture is not llama, or a required key is missing or
   *     mistyped
   */
  public static ObjectNode toConfig(
      GgufMetadata metadata,
      Path source,
      boolean hasOutputWeight,
      Optional<float[]> ropeFreqs,
      DType torchDtype)
      throws ConversionException {
    GgufFields g = new GgufFields(metadata, source);
    String arch = g.requireString(GgufMetadata.ARCHITECTURE);
    if (!arch.equals(ARCHITECTURE)) {
      throw new ConversionException(
          source,
          GgufMetadata.ARCHITECTURE,
          "architecture '"
              + arch
              + "' is not supported; only llama converts to a Hugging Face checkpoint");
    }
    String torchName =
        torchDtype
            .torchName()
            .orElseThrow(
                () -> new IllegalArgumentException(torchDtype + " has no torch dtype name"));
    long hidden = g.requireUint(EMBEDDING_LENGTH);
    long heads = g.requireUint(HEAD_COUNT);
    if (heads == 0) throw new ConversionException(source, HEAD_COUNT, "must be positive");
    long vocab;
    OptionalLong vocabKey = g.optUint(VOCAB_SIZE);
    if (vocabKey.isPresent()) {
      vocab = vocabKey.getAsLong();
    } else {
      vocab =
          g.optArrayLength(TokenizerKeys.TOKENS)
              .orElseThrow(
                  () ->
                      new ConversionException(
                          source,
                          VOCAB_SIZE,
                          "missing, and there is no " + TokenizerKeys.TOKENS + " to count"));
    }
    long headDim;
    OptionalLong keyLength = g.optUint(KEY_LENGTH);
    OptionalLong ropeDim = g.optUint(ROPE_DIMENSION);
    if (keyLength.isPresent()) {
      headDim = keyLength.getAsLong();
    } else if (ropeDim.isPresent()) {
      headDim = ropeDim.getAsLong();
    } else if (hidden % heads == 0) {
      headDim = hidden / heads;
    } else {
      throw new ConversionException(
          source,
          HEAD_COUNT,
          heads
              + " does not divide embedding length "
              + hidden
              + " and neither key_length nor rope.dimension_count is present");
    }

    ObjectNode c = new ObjectMapper().createObjectNode();
    c.putArray("architectures").add("LlamaForCausalLM");
    c.put("model_type", "llama");
    c.put("hidden_size", hidden);
    c.put("intermediate_size", g.requireUint(FEED_FORWARD_LENGTH));
    c.put("num_hidden_layers", g.requireUint(BLOCK_COUNT));
    c.put("num_attention_heads", heads);
    c.put("num_key_value_heads", g.optUint(HEAD_COUNT_KV).orElse(heads));
    c.put("head_dim", headDim);
    c.put("hidden_act", "silu");
    c.put("max_position_embeddings", g.requireUint(CONTEXT_LENGTH));
    c.put("rms_norm_eps", shortest(g.requireFloat(RMS_EPSILON)));
    c.put(
        "rope_theta",
        g.optFloat(FREQ_BASE).map(LlamaMetadata::shortest).orElse(DEFAULT_ROPE_THETA));
    c.put("vocab_size", vocab);
    c.put("tie_word_embeddings", !hasOutputWeight);
    g.optUint(TokenizerKeys.BOS_ID)
        .ifPresent(
            id -> {
              if (id != UNSET_ID) c.put("bos_token_id", id);
            });
    g.optUint(TokenizerKeys.EOS_ID)
        .ifPresent(
            id -> {
              if (id != UNSET_ID) c.put("eos_token_id", id);
            });
    c.put("torch_dtype", torchName);
    ropeScalingToConfig(g, c, ropeFreqs);
    return c;
  }

  private static void ropeScalingToConfig(GgufFields g, ObjectNode c, Optional<float[]> ropeFreqs)
      throws ConversionException {
    Optional<String> type = g.optString(ROPE_SCALING_TYPE);
    if (type.isPresent() && type.get().equals("linear")) {
      ObjectNode s = c.putObject("rope_scaling");
      s.put("rope_type", "linear");
      s.put("factor", shortest(g.requireFloat(ROPE_SCALING_FACTOR)));
    } else if (type.isPresent() && type.get().equals("yarn")) {
      ObjectNode s = c.putObject("rope_scaling");
      s.put("rope_type", "yarn");
      s.put("factor", shortest(g.requireFloat(ROPE_SCALING_FACTOR)));
      s.put("original_max_position_embeddings", g.requireUint(ROPE_SCALING_ORIGINAL_CONTEXT));
    } else if (ropeFreqs.isPresent() && ropeFreqs.get().length > 0) {
      float max = Float.NEGATIVE_INFINITY;
      for (float v : ropeFreqs.get()) max = Math.max(max, v);
      ObjectNode s = c.putObject("rope_scaling");
      s.put("rope_type", "llama3");
      s.put("factor", shortest(max));
      s.put("low_freq_factor", LLAMA3_DEFAULT_LOW_FREQ_FACTOR);
      s.put("high_freq_factor", LLAMA3_DEFAULT_HIGH_FREQ_FACTOR);
      s.put("original_max_position_embeddings", LLAMA3_DEFAULT_ORIGINAL_CONTEXT);
    } else {
      c.putNull("rope_scaling");
    }
  }

  /**
   * The double with the float's shortest decimal spelling (1e-5f becomes 1e-5, not
   * 9.999999747378752e-6).
   */
  static double shortest(float f) {
    return Double.parseDouble(Float.toString(f));
  }

  /** Typed reads of GGUF metadata that name the file and key on a type mismatch. */
  static final class GgufFields {
    private final GgufMetadata metadata;
    private final Path source;

    GgufFields(GgufMetadata metadata, Path source) {
      this.metadata = metadata;
      this.source = source;
    }

    private ConversionException wrongType(String key, GgufValue v, String expected) {
      return new ConversionException(
          source, key, "expected " + expected + ", got " + v.describeType());
    }

    OptionalLong optUint(String key) throws ConversionException {
      Optional<GgufValue> v = metadata.get(key);
      if (v.isEmpty()) return OptionalLong.empty();
      if (v.get().isArray() || !v.get().type().isInteger())
        throw wrongType(key, v.get(), "an integer");
      long value = v.get().asLong();
      if (value < 0 && v.get().type() != GgufValueType.UINT64) {
        throw new ConversionException(source, key, "negative value " + value);
      }
      return OptionalLong.of(value);
    }

    long requireUint(String key) throws ConversionException {
      OptionalLong v = optUint(key);
      if (v.isEmpty()) throw new ConversionException(source, key, "required key is missing");
      return v.getAsLong();
    }

    Optional<Float> optFloat(String key) throws ConversionException {
      Optional<GgufValue> v = metadata.get(key);
      if (v.isEmpty()) return Optional.empty();
      if (v.get().type() == GgufValueType.FLOAT32) return Optional.of((Float) v.get().value());
      if (v.get().type() == GgufValueType.FLOAT64) return Optional.of((float) v.get().asDouble());
      throw wrongType(key, v.get(), "FLOAT32");
    }

    float requireFloat(String key) throws ConversionException {
      return optFloat(key)
          .orElseThrow(() -> new ConversionException(source, key, "required key is missing"));
    }

    Optional<String> optString(String key) throws ConversionException {
      Optional<GgufValue> v = metadata.get(key);
      if (v.isEmpty()) return Optional.empty();
      if (v.get().type() != GgufValueType.STRING) throw wrongType(key, v.get(), "STRING");
      return Optional.of(v.get().asString());
    }

    String requireString(String key) throws ConversionException {
      return optString(key)
          .orElseThrow(() -> new ConversionException(source, key, "required key is missing"));
    }

    Optional<Boolean> optBoolean(String key) throws ConversionException {
      Optional<GgufValue> v = metadata.get(key);
      if (v.isEmpty()) return Optional.empty();
      if (v.get().type() != GgufValueType.BOOL) throw wrongType(key, v.get(), "BOOL");
      return Optional.of(v.get().asBoolean());
    }

    Optional<Long> optArrayLength(String key) {
      return metadata.get(key).filter(GgufValue::isArray).map(GgufValue::length);
    }

    Optional<String[]> optStrings(String key) throws ConversionException {
      Optional<GgufValue> v = metadata.get(key);
      if (v.isEmpty()) return Optional.empty();
      if (!v.get().isArray() || v.get().elementType() != GgufValueType.STRING) {
        throw wrongType(key, v.get(), "ARRAY[STRING]");
      }
      return Optional.of(v.get().asStrings());
    }

    Optional<float[]> optFloats(String key) throws ConversionException {
      Optional<GgufValue> v = metadata.get(key);
      if (v.isEmpty()) return Optional.empty();
      if (!v.get().isArray() || v.get().elementType() != GgufValueType.FLOAT32) {
        throw wrongType(key, v.get(), "ARRAY[FLOAT32]");
      }
      return Optional.of(v.get().asFloats());
    }

    Optional<long[]> optIntegers(String key) throws ConversionException {
      Optional<GgufValue> v = metadata.get(key);
      if (v.isEmpty()) return Optional.empty();
      if (!v.get().isArray() || !v.get().elementType().isInteger()) {
        throw wrongType(key, v.get(), "an integer ARRAY");
      }
      return Optional.of(v.get().asLongs());
    }

    Path source() {
      return source;
    }
  }
}
