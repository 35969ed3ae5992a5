package dev.amalgam.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.FormatException;
import dev.amalgam.io.ModelWeights;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Opens a model in whichever format it is stored (a Hugging Face safetensors checkpoint or a GGUF
 * file) as {@link ModelWeights} in the requested {@link Layout}, together with its config.json
 * (read, or rebuilt from GGUF metadata).
 */
public final class ModelFormats {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The two storage formats. */
  public enum Format {
    /** A Hugging Face directory (or a single .safetensors file) with config.json. */
    HF,
    /** A llama.cpp GGUF file. */
    GGUF
  }

  /**
   * An opened model.
   *
   * @param format how it is stored
   * @param weights its tensors under HF names, in the requested layout
   * @param hfConfig config.json (for GGUF rebuilt from the metadata), if there is one
   * @param gguf the GGUF view when the model is a GGUF file
   */
  public record Opened(
      Format format,
      ModelWeights weights,
      Optional<ObjectNode> hfConfig,
      Optional<GgufWeights> gguf) {}

  private ModelFormats() {}

  /**
   * The format of a path: a regular file that starts with the GGUF magic is GGUF, anything else HF.
   */
  public static Format detect(Path path) {
    if (Files.isRegularFile(path) && GgufFile.hasMagic(path)) return Format.GGUF;
    return Format.HF;
  }

  /** Whether an output path names a GGUF file (by its extension). */
  public static boolean isGgufPath(Path path) {
    Path name = path.getFileName();
    return name != null && name.toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
  }

  /**
   * Opens a model.
   *
   * @param layout the row order the query and key projections are presented in
   * @throws FormatException if the files break a format rule or a layout change lacks what it needs
   */
  public static Opened open(Path path, Layout layout) throws IOException {
    if (detect(path) == Format.GGUF) {
      GgufWeights g = GgufWeights.open(path, layout);
      try {
        DType dtype =
            g.tensors().stream()
                .filter(t -> t.rank() >= 2)
                .map(TensorInfo::dtype)
                .findFirst()
                .orElse(DType.F32);
        return new Opened(Format.GGUF, g, Optional.of(g.hfConfig(dtype)), Optional.of(g));
      } catch (IOException | RuntimeException e) {
        g.close();
        throw e;
      }
    }
    SafetensorsModel st = SafetensorsModel.open(path);
    try {
      Path configFile =
          Files.isDirectory(path)
              ? path.resolve("config.json")
              : path.resolveSibling("config.json");
      Optional<ObjectNode> config = Optional.empty();
      if (Files.isRegularFile(configFile)) {
        JsonNode node;
        try {
          node = JSON.readTree(configFile.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new FormatException(
              configFile,
              FormatException.Reason.BAD_HEADER,
              null,
              "not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.CharConversionException e) {
          // bytes Jackson reads as broken UTF-16/32, which it reports outside its JSON exceptions
          throw new FormatException(
              configFile,
              FormatException.Reason.BAD_HEADER,
              null,
              "not valid JSON text: " + e.getMessage());
        }
        if (!(node instanceof ObjectNode)) {
          throw new FormatException(
              configFile, FormatException.Reason.BAD_HEADER, null, "not a JSON object");
        }
        config = Optional.of((ObjectNode) node);
      }
      if (layout == Layout.HF) return new Opened(Format.HF, st, config, Optional.empty());
      if (config.isEmpty()) {
        throw new FormatException(
            configFile,
            FormatException.Reason.MISSING_FILE,
            null,
            "config.json is needed to"
                + " lay out the attention heads for GGUF (num_attention_heads, num_key_value_heads)");
      }
      long heads = positive(config.get(), "num_attention_heads", configFile);
      long kv =
          config.get().has("num_key_value_heads")
              ? positive(config.get(), "num_key_value_heads", configFile)
              : heads;
      PermutedHfWeights permuted = new PermutedHfWeights(st, heads, kv);
      for (TensorInfo t : st.tensors()) {
        try {
          permuted.permutation(t);
        } catch (IllegalArgumentException e) {
          throw new FormatException(
              st.path(), FormatException.Reason.BAD_SHAPE, t.name(), e.getMessage());
        }
      }
      return new Opened(Format.HF, permuted, config, Optional.empty());
    } catch (IOException | RuntimeException e) {
      st.close();
      throw e;
    }
  }

  private static long positive(ObjectNode config, String key, Path file) throws FormatException {
    JsonNode v = config.get(key);
    if (v == null || !v.isIntegralNumber() || v.asLong() <= 0) {
      throw new FormatException(
          file,
          FormatException.Reason.BAD_HEADER,
          null,
          key + " must be a positive integer," + " got " + v);
    }
    return v.asLong();
  }
}
