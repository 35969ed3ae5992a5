package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.convert.Architecture;
import dev.amalgam.convert.ConversionException;
import dev.amalgam.convert.Layout;
import dev.amalgam.convert.ModelFormats;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.io.FormatException;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.config.ParameterSetting;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The planner's dealings with the models themselves: opening one (headers only) with errors that
 * name its YAML path, closing them after a failed plan, what their config.json says (the
 * architecture, the layer count) and whether the models of a {@code models:} merge have the same
 * tensors.
 */
final class PlannedInputs {
  private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][\\w.-]*/[\\w.-]+(@.+)?");

  /**
   * config.json keys of the layer count, in the order they are looked for (Llama's first, then
   * GPT-2's).
   */
  static final List<String> LAYER_COUNT_KEYS =
      List.of("num_hidden_layers", "n_layer", "num_layers");

  private PlannedInputs() {}

  /**
   * Opens a model in the output's layout; a missing model, config.json or GGUF key is a
   * configuration error.
   */
  static PlannedInput open(
      int index,
      ModelReference ref,
      String yamlPath,
      boolean isBase,
      Map<String, ParameterSetting> parameters,
      Layout layout)
      throws IOException {
    Path path = ref.path();
    if (!Files.exists(path)) {
      String spec = ref.spec();
      String why;
      if (spec.contains("+")) {
        why =
            "'"
                + spec
                + "' does not exist; model+lora references (LoRA adapters) are not supported yet";
      } else if (HUB_ID.matcher(spec).matches() && !spec.startsWith(".")) {
        why =
            "'"
                + spec
                + "' is not a local directory; Amalgam reads local models only: download it first (for"
                + " example huggingface-cli download "
                + spec.split("@")[0]
                + " --local-dir DIR) and give DIR";
      } else {
        why = "no such file or directory: " + path;
      }
      throw new ConfigException(ref.yamlPath(), why);
    }
    ModelFormats.Opened opened;
    try {
      opened = ModelFormats.open(path, layout);
    } catch (FormatException e) {
      boolean config =
          e.file().getFileName() != null && e.file().getFileName().toString().equals("config.json");
      if (e.reason() == FormatException.Reason.MISSING_FILE || config) {
        throw new ConfigException(ref.yamlPath(), e.getMessage());
      }
      throw e;
    } catch (ConversionException e) {
      // GGUF metadata that cannot become a config.json (a missing or mistyped llama.* key) is bad
      // input
      throw new ConfigException(ref.yamlPath(), e.getMessage());
    }
    return new PlannedInput(
        index,
        ref,
        yamlPath,
        isBase,
        parameters,
        opened.weights(),
        opened.hfConfig(),
        opened.gguf());
  }

  /**
   * Closes every model opened so far after a failed plan, adding close failures to {@code failure}.
   */
  static void closeAll(List<PlannedInput> inputs, Throwable failure) {
    for (PlannedInput in : inputs) {
      try {
        in.weights().close();
      } catch (IOException suppressed) {
        failure.addSuppressed(suppressed);
      }
    }
  }

  /** The donor's config.json, which the output takes. */
  static ObjectNode donorConfig(PlannedInput donor) {
    return donor
        .hfConfig()
        .orElseThrow(
            () ->
                new ConfigException(
                    donor.reference().yamlPath(),
                    "no config.json next to the weights of '"
                        + donor.label()
                        + "'; the merged model takes its config.json from"
                        + " this model"));
  }

  /**
   * The table entry whose tensor names the merge reads: the donor's architecture; the Llama names,
   * as always, for a donor the table does not know.
   */
  static Architecture architecture(PlannedInput donor) {
    return donor.hfConfig().flatMap(Architecture::forHfConfig).orElse(Architecture.LLAMA);
  }

  /**
   * mergekit refuses to merge models of different architectures unless told to (--allow-crimes);
   * the architecture is config.json's {@code architectures[0]}, else its {@code model_type}.
   */
  static void checkArchitectures(
      List<PlannedInput> inputs,
      PlannedInput donor,
      boolean allowCrimes,
      WarningListener warnings) {
    Optional<String> mine = architectureName(donor);
    if (mine.isEmpty()) return;
    for (PlannedInput in : inputs) {
      Optional<String> theirs = architectureName(in);
      if (in.index() == donor.index() || theirs.isEmpty() || theirs.equals(mine)) continue;
      String what =
          "'"
              + in.label()
              + "' is a "
              + theirs.get()
              + " but '"
              + donor.label()
              + "' is a "
              + mine.get();
      if (!allowCrimes) {
        throw new ConfigException(
            in.reference().yamlPath(),
            what
                + "; pass --allow-crimes to merge different"
                + " architectures (the output keeps "
                + donor.label()
                + "'s config.json)");
      }
      warnings.warn(
          what + " (--allow-crimes: the output keeps the config.json of '" + donor.label() + "')");
    }
  }

  private static Optional<String> architectureName(PlannedInput in) {
    if (in.hfConfig().isEmpty()) return Optional.empty();
    JsonNode c = in.hfConfig().get();
    JsonNode archs = c.get("architectures");
    if (archs != null && archs.isArray() && archs.size() > 0 && archs.get(0).isTextual()) {
      return Optional.of(archs.get(0).asText());
    }
    return c.path("model_type").isTextual()
        ? Optional.of(c.get("model_type").asText())
        : Optional.empty();
  }

  /**
   * A model's layer count: config.json's, checked against the layers its weights have; without one
   * in config.json, one more than the highest layer of the weights (at least 1).
   */
  static int layerCount(PlannedInput input) {
    int maxIndex = -1;
    for (TensorInfo t : input.weights().tensors()) {
      maxIndex = Math.max(maxIndex, Architecture.layerIndex(t.name()).orElse(-1));
    }
    Optional<Integer> configured = configuredLayers(input);
    if (configured.isEmpty()) return Math.max(1, maxIndex + 1);
    if (maxIndex >= configured.get()) {
      throw new ConfigException(
          input.reference().yamlPath(),
          "config.json of '"
              + input.label()
              + "' says "
              + configured.get()
              + " layers but the weights have layer "
              + maxIndex);
    }
    return configured.get();
  }

  /** The layer count config.json gives (at the top or in {@code text_config}), if any. */
  static Optional<Integer> configuredLayers(PlannedInput input) {
    if (input.hfConfig().isEmpty()) return Optional.empty();
    ObjectNode c = input.hfConfig().get();
    JsonNode text = c.get("text_config");
    for (String key : LAYER_COUNT_KEYS) {
      if (c.path(key).isIntegralNumber()) return Optional.of(c.get(key).asInt());
      if (text != null && text.path(key).isIntegralNumber())
        return Optional.of(text.get(key).asInt());
    }
    return Optional.empty();
  }

  /**
   * Checks that a model of a {@code models:} merge has the donor's layer count and tensors, with
   * the same shapes; lm_head may be missing (tied embeddings), and tensors of vocabulary rows may
   * have another number of rows.
   */
  static void checkSameTensors(
      PlannedInput donor, PlannedInput in, int layerCount, Architecture architecture) {
    String lmHead = architecture.hfWeight(Architecture.Role.LM_HEAD);
    String embeddings = architecture.hfWeight(Architecture.Role.TOKEN_EMBEDDINGS);
    String where = in.reference().yamlPath();
    Optional<Integer> layers = configuredLayers(in);
    if (layers.isPresent() && layers.get() != layerCount) {
      throw new ConfigException(
          where,
          "'"
              + in.label()
              + "' has "
              + layers.get()
              + " layers but '"
              + donor.label()
              + "' has "
              + layerCount
              + "; merged models must have the same layer count");
    }
    Map<String, TensorInfo> theirs = new HashMap<>();
    for (TensorInfo t : in.weights().tensors()) theirs.put(t.name(), t);
    theirs.remove(
        lmHead); // optional: tied models have none, and the planner pairs it with the embeddings
    for (TensorInfo mine : donor.weights().tensors()) {
      if (mine.name().equals(lmHead)) continue;
      TensorInfo other = theirs.remove(mine.name());
      if (other == null) {
        throw new ConfigException(
            where,
            "tensor '"
                + mine.name()
                + "' is missing from '"
                + in.label()
                + "' (present in '"
                + donor.label()
                + "')");
      }
      boolean vocabOnly =
          architecture.hasVocabularyRows(mine.name())
              && mine.rank() == 2
              && other.rank() == 2
              && mine.dim(1) == other.dim(1);
      if (!other.sameShape(mine) && !vocabOnly) {
        throw new ConfigException(
            where,
            "tensor '"
                + mine.name()
                + "' has shape "
                + other.shapeString()
                + " in '"
                + in.label()
                + "' but "
                + mine.shapeString()
                + " in '"
                + donor.label()
                + "'");
      }
    }
    Optional<TensorInfo> head =
        in.weights().tensor(lmHead).or(() -> donor.weights().tensor(lmHead));
    if (head.isPresent() && head.get().rank() == 2) {
      long width = in.weights().tensor(embeddings).map(t -> t.dim(1)).orElse(head.get().dim(1));
      if (head.get().dim(1) != width) {
        throw new ConfigException(
            where,
            lmHead
                + " of width "
                + head.get().dim(1)
                + " cannot pair with embeddings"
                + " of width "
                + width);
      }
    }
    if (!theirs.isEmpty()) {
      String extra = theirs.keySet().stream().sorted().findFirst().orElseThrow();
      throw new ConfigException(
          where,
          "tensor '"
              + extra
              + "' of '"
              + in.label()
              + "' is not in '"
              + donor.label()
              + "'"
              + (theirs.size() > 1 ? " (and " + (theirs.size() - 1) + " more)" : ""));
    }
  }
}
