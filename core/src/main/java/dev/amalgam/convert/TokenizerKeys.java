package dev.amalgam.convert;

import dev.amalgam.io.gguf.GgufKeys;

/**
 * The GGUF tokenizer metadata keys under short names (they are {@link GgufKeys}' {@code
 * TOKENIZER_*} and chat template keys) and the llama.cpp token types, the values of {@link
 * #TOKEN_TYPE}.
 */
public final class TokenizerKeys {
  /** "llama" (SentencePiece) or "gpt2" (byte-level BPE). */
  public static final String MODEL = GgufKeys.TOKENIZER_MODEL;

  /** The pre-tokenizer name llama.cpp selects its split regexes by, e.g. "llama-bpe". */
  public static final String PRE = GgufKeys.TOKENIZER_PRE;

  /** Token texts by id. */
  public static final String TOKENS = GgufKeys.TOKENIZER_TOKENS;

  /** SentencePiece scores by id. */
  public static final String SCORES = GgufKeys.TOKENIZER_SCORES;

  /** Token types by id (the TYPE_* constants). */
  public static final String TOKEN_TYPE = GgufKeys.TOKENIZER_TOKEN_TYPE;

  /** BPE merges, "left right" with spaces inside parts written as U+0120. */
  public static final String MERGES = GgufKeys.TOKENIZER_MERGES;

  /** Begin-of-sequence token id. */
  public static final String BOS_ID = GgufKeys.TOKENIZER_BOS_ID;

  /** End-of-sequence token id. */
  public static final String EOS_ID = GgufKeys.TOKENIZER_EOS_ID;

  /** Unknown token id. */
  public static final String UNKNOWN_ID = GgufKeys.TOKENIZER_UNKNOWN_ID;

  /** Padding token id. */
  public static final String PADDING_ID = GgufKeys.TOKENIZER_PADDING_ID;

  /** Whether llama.cpp prepends BOS when tokenizing. */
  public static final String ADD_BOS = GgufKeys.TOKENIZER_ADD_BOS;

  /** Whether llama.cpp appends EOS when tokenizing. */
  public static final String ADD_EOS = GgufKeys.TOKENIZER_ADD_EOS;

  /** The default Jinja chat template. */
  public static final String CHAT_TEMPLATE = GgufKeys.CHAT_TEMPLATE;

  /** Prefix of named chat templates ({@code tokenizer.chat_template.<name>}). */
  public static final String CHAT_TEMPLATE_PREFIX = GgufKeys.CHAT_TEMPLATE_PREFIX;

  /** Names of the named chat templates (STRING[]), as gguf-py writes them. */
  public static final String CHAT_TEMPLATES = GgufKeys.CHAT_TEMPLATES;

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
