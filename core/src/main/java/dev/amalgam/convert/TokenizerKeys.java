package dev.amalgam.convert;

/**
 * GGUF tokenizer metadata keys (gguf-py {@code Keys.Tokenizer}) and the llama.cpp token types. Value types:
 * model, pre and chat templates STRING; tokens STRING[]; scores FLOAT32[]; token_type INT32[]; merges STRING[];
 * ids UINT32; add_bos/add_eos BOOL.
 */
public final class TokenizerKeys {
  /** "llama" (SentencePiece) or "gpt2" (byte-level BPE). */
  public static final String MODEL = "tokenizer.ggml.model";
  /** The pre-tokenizer name llama.cpp selects its split regexes by, e.g. "llama-bpe". */
  public static final String PRE = "tokenizer.ggml.pre";
  /** Token texts by id. */
  public static final String TOKENS = "tokenizer.ggml.tokens";
  /** SentencePiece scores by id. */
  public static final String SCORES = "tokenizer.ggml.scores";
  /** Token types by id (the TYPE_* constants). */
  public static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
  /** BPE merges, "left right" with spaces inside parts written as U+0120. */
  public static final String MERGES = "tokenizer.ggml.merges";
  /** Begin-of-sequence token id. */
  public static final String BOS_ID = "tokenizer.ggml.bos_token_id";
  /** End-of-sequence token id. */
  public static final String EOS_ID = "tokenizer.ggml.eos_token_id";
  /** Unknown token id. */
  public static final String UNKNOWN_ID = "tokenizer.ggml.unknown_token_id";
  /** Padding token id. */
  public static final String PADDING_ID = "tokenizer.ggml.padding_token_id";
  /** Whether llama.cpp prepends BOS when tokenizing. */
  public static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
  /** Whether llama.cpp appends EOS when tokenizing. */
  public static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
  /** The default Jinja chat template. */
  public static final String CHAT_TEMPLATE = "tokenizer.chat_template";
  /** Prefix of named chat templates ({@code tokenizer.chat_template.<name>}). */
  public static final String CHAT_TEMPLATE_PREFIX = "tokenizer.chat_template.";
  /** Names of the named chat templates (STRING[]), as gguf-py writes them. */
  public static final String CHAT_TEMPLATES = "tokenizer.chat_templates";

  /** Token type: a normal token. */
  public static final int TYPE_NORMAL = 1;
  /** Token type: the unknown token. */
  public static final int TYPE_UNKNOWN = 2;
  /** Token type: a control (special) token such as BOS. */
  public static final int TYPE_CONTROL = 3;
  /** Token type: a user-defined (added, not special) token. */
  public static final int TYPE_USER_DEFINED = 4;
  /** Token type: an unused id (padding up to the embedding size). */
  public static final int TYPE_UNUSED = 5;
  /** Token type: a byte-fallback token {@code <0xNN>}. */
  public static final int TYPE_BYTE = 6;

  private TokenizerKeys() {}
}
