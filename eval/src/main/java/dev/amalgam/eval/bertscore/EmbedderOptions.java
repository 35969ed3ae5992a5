package dev.amalgam.eval.bertscore;

/**
 * Options of an {@link OnnxTokenEmbedder}.
 *
 * @param maxLength most tokens a text keeps, [CLS]/[SEP] included; longer texts lose their tail. bert_score uses
 *     the tokenizer's model_max_length; for all-MiniLM-L6-v2 the tokenizer.json says 128 (sentence-transformers'
 *     setting) while the model has 512 positions, and we default to the 512 positions so clinical notes keep more
 *     text. Must not exceed the encoder's position embeddings.
 * @param batchSize texts per encoder call (padded to the longest in the batch; texts are sorted by length first)
 * @param intraOpThreads onnxruntime intra-op threads
 * @param modelName name in the BERTScore hash, or null to derive it (default encoder: all-MiniLM-L6-v2; a user
 *     encoder: the ONNX file's name without .onnx, or its folder's name when the file is model.onnx)
 * @param layer layer in the BERTScore hash (bert_score's num_layers), or 0 to derive it (default encoder: 6; a user
 *     encoder: num_hidden_layers from a config.json beside the ONNX file or one folder up)
 */
public record EmbedderOptions(int maxLength, int batchSize, int intraOpThreads, String modelName, int layer) {
  /** The default maximum length: BERT's 512 positions. */
  public static final int DEFAULT_MAX_LENGTH = 512;

  /** The default batch size. */
  public static final int DEFAULT_BATCH_SIZE = 32;

  /** Validates the ranges. */
  public EmbedderOptions {
    if (maxLength < 2) {
      throw new BertScoreException(BertScoreException.Reason.BAD_ARGUMENT,
          "max length must be >= 2 (room for [CLS] and [SEP]), got " + maxLength);
    }
    if (batchSize < 1) {
      throw new BertScoreException(BertScoreException.Reason.BAD_ARGUMENT, "batch size must be >= 1, got "
          + batchSize);
    }
    if (intraOpThreads < 1) {
      throw new BertScoreException(BertScoreException.Reason.BAD_ARGUMENT, "threads must be >= 1, got "
          + intraOpThreads);
    }
    if (layer < 0) {
      throw new BertScoreException(BertScoreException.Reason.BAD_ARGUMENT, "layer must be >= 0 (0 = derive), got "
          + layer);
    }
    if (modelName != null && modelName.isBlank()) {
      throw new BertScoreException(BertScoreException.Reason.BAD_ARGUMENT, "model name must not be blank");
    }
  }

  /** 512 tokens, batches of 32, one thread per available processor, derived name and layer. */
  public static EmbedderOptions defaults() {
    return new EmbedderOptions(DEFAULT_MAX_LENGTH, DEFAULT_BATCH_SIZE, Runtime.getRuntime().availableProcessors(),
        null, 0);
  }

  /** A copy with another maximum length. */
  public EmbedderOptions withMaxLength(int value) {
    return new EmbedderOptions(value, batchSize, intraOpThreads, modelName, layer);
  }

  /** A copy with another batch size. */
  public EmbedderOptions withBatchSize(int value) {
    return new EmbedderOptions(maxLength, value, intraOpThreads, modelName, layer);
  }

  /** A copy with another thread count. */
  public EmbedderOptions withIntraOpThreads(int value) {
    return new EmbedderOptions(maxLength, batchSize, value, modelName, layer);
  }

  /** A copy with another model name for the hash. */
  public EmbedderOptions withModelName(String value) {
    return new EmbedderOptions(maxLength, batchSize, intraOpThreads, value, layer);
  }

  /** A copy with another layer for the hash. */
  public EmbedderOptions withLayer(int value) {
    return new EmbedderOptions(maxLength, batchSize, intraOpThreads, modelName, value);
  }
}
