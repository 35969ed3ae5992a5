package dev.amalgam.merge.config;

import dev.amalgam.tensor.DType;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed mergekit-style merge configuration. Parsing checks syntax and types; whether the method,
 * its parameters and the models fit together is checked by the planner before any tensor is read.
 *
 * @param mergeMethod the {@code merge_method} value
 * @param baseModel the {@code base_model}, if any
 * @param models the {@code models:} list, in order (empty when the configuration uses {@code
 *     slices:})
 * @param slices the {@code slices:} list, in order (empty when it uses {@code models:})
 * @param parameters the top-level {@code parameters:} block
 * @param dtype {@code dtype}: every input is rounded to it on load
 * @param outDtype {@code out_dtype}: the type written
 * @param tokenizerSource {@code tokenizer_source} as written, if given
 * @param tokenizer the parsed {@code tokenizer_source} or {@code tokenizer:} block, if either is
 *     given
 * @param chatTemplate the chat template {@code chat_template} sets (a built-in one's text, or the
 *     literal Jinja given); empty keeps the donor's ({@code auto} or absent)
 * @param source the YAML text as given, copied into the output directory
 * @param module the {@code modules:} entry the models or slices came from, if the configuration
 *     used that form
 */
public record MergeConfig(
    String mergeMethod,
    Optional<ModelReference> baseModel,
    List<InputModel> models,
    List<OutputSlice> slices,
    Map<String, ParameterSetting> parameters,
    Optional<DType> dtype,
    Optional<DType> outDtype,
    Optional<String> tokenizerSource,
    Optional<TokenizerSpec> tokenizer,
    Optional<String> chatTemplate,
    String source,
    Optional<ModuleScope> module) {

  /**
   * One module of a {@code modules:} configuration. Its {@code parameters} rank between the slices'
   * and the top-level ones, as in mergekit.
   *
   * @param name the module's name ({@code default} for single-module architectures such as Llama)
   * @param parameters the module's {@code parameters:} block
   */
  public record ModuleScope(String name, Map<String, ParameterSetting> parameters) {
    /** Copies the map. */
    public ModuleScope {
      parameters = Map.copyOf(parameters);
    }

    /** The YAML path of the module's parameters block, for messages. */
    public String parametersPath() {
      return "modules." + name + ".parameters";
    }
  }

  /** Copies the collections. */
  public MergeConfig {
    models = List.copyOf(models);
    slices = List.copyOf(slices);
    parameters = Map.copyOf(parameters);
  }

  /** A configuration without a tokenizer block (the form before the tokenizer options existed). */
  public MergeConfig(
      String mergeMethod,
      Optional<ModelReference> baseModel,
      List<InputModel> models,
      List<OutputSlice> slices,
      Map<String, ParameterSetting> parameters,
      Optional<DType> dtype,
      Optional<DType> outDtype,
      Optional<String> tokenizerSource,
      Optional<String> chatTemplate,
      String source) {
    this(
        mergeMethod,
        baseModel,
        models,
        slices,
        parameters,
        dtype,
        outDtype,
        tokenizerSource,
        Optional.empty(),
        chatTemplate,
        source,
        Optional.empty());
  }
}
