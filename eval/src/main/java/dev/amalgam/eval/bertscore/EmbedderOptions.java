package dev.amalgam.eval.bertscore;

/**
 * Options of an {@link OnnxTokenEmbedder}: {@link #defaults()}, or {@link #builder()} to set some
 * and {@link #toBuilder()} for a changed copy.
 *
 * @param maxLength most tokens a text keeps, [CLS]/[SEP] included; longer texts lose their tail.
 *     bert_score uses the tokenizer's model_max_length; for all-MiniLM-L6-v2 the tokenizer.json
 *     says 128 (sentence-transformers' setting) while the model has 512 positions, and we default
 *     to the 512 positions so clinical notes keep more text. Must not exceed the encoder's position
 *     embeddings.
 * @param batchSize texts per encoder call (padded to the longest in the batch; texts are sorted by
 *     length first)
 * @param intraOpThreads onnxruntime intra-op threads
 * @param modelName name in the BERTScore hash, or null to derive it (default encoder:
 *     all-MiniLM-L6-v2; a user encoder: the ONNX file's name without .onnx, or its folder's name
 *     when the file is model.onnx)
 * @param layer layer in the BERTScore hash (bert_score's num_layers), or 0 to derive it (default
 *     encoder: 6; a user encoder: num_hidden_layers from a config.json beside the ONNX file or one
 *     folder up)
 */
public record EmbedderOptions(
    int maxLength, int batchSize, int intraOpThreads, String modelName, int layer) {
  /** The default maximum length: BERT's 512 positions. */
  public static final int DEFAULT_MAX_LENGTH = 512;

  /** The default batch size. */
  public static final int DEFAULT_BATCH_SIZE = 32;

  /** Validates the ranges. */
  public EmbedderOptions {
    if (maxLength < 2) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_ARGUMENT,
          "max length must be >= 2 (room for [CLS] and [SEP]), got " + maxLength);
    }
    if (batchSize < 1) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_ARGUMENT, "batch size must be >= 1, got " + batchSize);
    }
    if (intraOpThreads < 1) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_ARGUMENT, "threads must be >= 1, got " + intraOpThreads);
    }
    if (layer < 0) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_ARGUMENT, "layer must be >= 0 (0 = derive), got " + layer);
    }
    if (modelName != null && modelName.isBlank()) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_ARGUMENT, "model name must not be blank");
    }
  }

  /** 512 tokens, batches of 32, one thread per available processor, derived name and layer. */
  public static EmbedderOptions defaults() {
    return builder().build();
  }

  /** A builder with the {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options, for a changed copy. */
  public Builder toBuilder() {
    return new Builder()
        .maxLength(maxLength)
        .batchSize(batchSize)
        .intraOpThreads(intraOpThreads)
        .modelName(modelName)
        .layer(layer);
  }

  /** Collects {@link EmbedderOptions}; {@link #build()} validates them. */
  public static final class Builder {
    private int maxLength = DEFAULT_MAX_LENGTH;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private int intraOpThreads = Runtime.getRuntime().availableProcessors();
    private String modelName;
    private int layer;

    private Builder() {}

    /** Most tokens a text keeps, [CLS] and [SEP] included. */
    public Builder maxLength(int value) {
      maxLength = value;
      return this;
    }

    /** Texts per encoder call. */
    public Builder batchSize(int value) {
      batchSize = value;
      return this;
    }

    /** onnxruntime intra-op threads. */
    public Builder intraOpThreads(int value) {
      intraOpThreads = value;
      return this;
    }

    /** The model name in the BERTScore hash, or null to derive it. */
    public Builder modelName(String value) {
      modelName = value;
      return this;
    }

    /** The layer in the BERTScore hash, or 0 to derive it. */
    public Builder layer(int value) {
      layer = value;
      return this;
    }

    /**
     * The options.
     *
     * @throws BertScoreException (bad argument) if a value is out of range
     */
    public EmbedderOptions build() {
      return new EmbedderOptions(maxLength, batchSize, intraOpThreads, modelName, layer);
    }
  }
}
