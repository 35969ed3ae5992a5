package dev.amalgam.io.gguf;

/**
 * The GGUF metadata keys Amalgam reads and writes, in llama.cpp's spelling (gguf-py {@code Keys},
 * llama.cpp {@code LLM_KV_NAMES}): the general keys, the model hyperparameters, whose names start
 * with the architecture as llama.cpp derives them ({@code {arch}.block_count} is {@code
 * llama.block_count} for Llama), the tokenizer keys and Amalgam's own. Value types: counts, lengths
 * and ids UINT32, epsilon and frequency base FLOAT32, tokenizer model, pre and chat templates
 * STRING, tokens STRING[], scores FLOAT32[], token types INT32[], merges STRING[], add_bos/add_eos
 * BOOL.
 */
public final class GgufKeys {
  /** The model's architecture ("llama"), which prefixes its hyperparameter keys; required. */
  public static final String ARCHITECTURE = "general.architecture";

  /** The data alignment in bytes (UINT32, default 32). */
  public static final String ALIGNMENT = "general.alignment";

  /** The model's name. */
  public static final String NAME = "general.name";

  /** The llama_ftype of the file's matrices. */
  public static final String FILE_TYPE = "general.file_type";

  /** The version of the block quantization formats, present when some tensor is quantized. */
  public static final String QUANTIZATION_VERSION = "general.quantization_version";

  /** "llama" (SentencePiece) or "gpt2" (byte-level BPE). */
  public static final String TOKENIZER_MODEL = "tokenizer.ggml.model";

  /** The pre-tokenizer name llama.cpp selects its split regexes by, e.g. "llama-bpe". */
  public static final String TOKENIZER_PRE = "tokenizer.ggml.pre";

  /** Token texts by id. */
  public static final String TOKENIZER_TOKENS = "tokenizer.ggml.tokens";

  /** SentencePiece scores by id. */
  public static final String TOKENIZER_SCORES = "tokenizer.ggml.scores";

  /** Token types by id. */
  public static final String TOKENIZER_TOKEN_TYPE = "tokenizer.ggml.token_type";

  /** BPE merges, "left right" with spaces inside parts written as U+0120. */
  public static final String TOKENIZER_MERGES = "tokenizer.ggml.merges";

  /** Begin-of-sequence token id. */
  public static final String TOKENIZER_BOS_ID = "tokenizer.ggml.bos_token_id";

  /** End-of-sequence token id. */
  public static final String TOKENIZER_EOS_ID = "tokenizer.ggml.eos_token_id";

  /** Unknown token id. */
  public static final String TOKENIZER_UNKNOWN_ID = "tokenizer.ggml.unknown_token_id";

  /** Padding token id. */
  public static final String TOKENIZER_PADDING_ID = "tokenizer.ggml.padding_token_id";

  /** Whether llama.cpp prepends BOS when tokenizing. */
  public static final String TOKENIZER_ADD_BOS = "tokenizer.ggml.add_bos_token";

  /** Whether llama.cpp appends EOS when tokenizing. */
  public static final String TOKENIZER_ADD_EOS = "tokenizer.ggml.add_eos_token";

  /** The prefix every vocabulary key above shares (the chat templates do not). */
  public static final String TOKENIZER_VOCABULARY_PREFIX = "tokenizer.ggml.";

  /** The default Jinja chat template. */
  public static final String CHAT_TEMPLATE = "tokenizer.chat_template";

  /** Prefix of named chat templates ({@code tokenizer.chat_template.<name>}). */
  public static final String CHAT_TEMPLATE_PREFIX = "tokenizer.chat_template.";

  /** Names of the named chat templates (STRING[]), as gguf-py writes them. */
  public static final String CHAT_TEMPLATES = "tokenizer.chat_templates";

  /**
   * The merge configuration a merged file records (its YAML text; llama.cpp ignores unknown keys).
   */
  public static final String MERGE_CONFIG = "amalgam.merge.config";

  private GgufKeys() {}

  /** {@code {arch}.block_count}: the number of layers. */
  public static String blockCount(String architecture) {
    return architecture + ".block_count";
  }

  /** {@code {arch}.context_length}: the trained context. */
  public static String contextLength(String architecture) {
    return architecture + ".context_length";
  }

  /** {@code {arch}.embedding_length}: the hidden size. */
  public static String embeddingLength(String architecture) {
    return architecture + ".embedding_length";
  }

  /** {@code {arch}.feed_forward_length}: the MLP's intermediate size. */
  public static String feedForwardLength(String architecture) {
    return architecture + ".feed_forward_length";
  }

  /** {@code {arch}.attention.head_count}: query heads. */
  public static String headCount(String architecture) {
    return architecture + ".attention.head_count";
  }

  /** {@code {arch}.attention.head_count_kv}: key and value heads (grouped-query attention). */
  public static String headCountKv(String architecture) {
    return architecture + ".attention.head_count_kv";
  }

  /** {@code {arch}.attention.key_length}: the head dimension of the keys. */
  public static String keyLength(String architecture) {
    return architecture + ".attention.key_length";
  }

  /** {@code {arch}.attention.value_length}: the head dimension of the values. */
  public static String valueLength(String architecture) {
    return architecture + ".attention.value_length";
  }

  /** {@code {arch}.attention.layer_norm_rms_epsilon}: the RMS norms' epsilon. */
  public static String rmsEpsilon(String architecture) {
    return architecture + ".attention.layer_norm_rms_epsilon";
  }

  /** {@code {arch}.vocab_size}: rows of the embeddings. */
  public static String vocabSize(String architecture) {
    return architecture + ".vocab_size";
  }

  /** {@code {arch}.rope.dimension_count}: the rotated dimensions of a head. */
  public static String ropeDimensionCount(String architecture) {
    return architecture + ".rope.dimension_count";
  }

  /** {@code {arch}.rope.freq_base}: rope theta. */
  public static String ropeFreqBase(String architecture) {
    return architecture + ".rope.freq_base";
  }

  /** {@code {arch}.rope.scaling.type}: "linear" or "yarn". */
  public static String ropeScalingType(String architecture) {
    return architecture + ".rope.scaling.type";
  }

  /** {@code {arch}.rope.scaling.factor}. */
  public static String ropeScalingFactor(String architecture) {
    return architecture + ".rope.scaling.factor";
  }

  /** {@code {arch}.rope.scaling.original_context_length}: YaRN's original context. */
  public static String ropeScalingOriginalContextLength(String architecture) {
    return architecture + ".rope.scaling.original_context_length";
  }
}
