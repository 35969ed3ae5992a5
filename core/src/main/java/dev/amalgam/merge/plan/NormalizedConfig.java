package dev.amalgam.merge.plan;

import dev.amalgam.merge.config.InputModel;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.ModelReference;
import dev.amalgam.merge.config.OutputSlice;
import dev.amalgam.merge.config.SliceSource;
import dev.amalgam.merge.plan.TensorParameters.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A configuration as the planner plans it: output slices of sources, as mergekit's {@code
 * normalize_config} makes them. A {@code models:} configuration becomes one slice whose sources are
 * its models, each with all its layers, followed by a {@code base_model} that {@code models:} does
 * not list (mergekit merges it as one more input).
 *
 * @param form which list the configuration was written with; it decides the few rules in which the
 *     two differ
 * @param slices the output slices, in order (one for {@code models:})
 */
record NormalizedConfig(Form form, List<Slice> slices) {
  /** The written form of a configuration. */
  enum Form {
    /**
     * {@code models:}: whole models with the same tensors and layer count (a model listed twice is
     * an error). The output lists its tensors in the donor's order; embeddings and lm_head of
     * different vocabulary sizes merge over their common rows, and a donor with tied embeddings
     * gets an lm_head when another model has one; config.json keeps the donor's layer count.
     */
    MODELS,
    /**
     * {@code slices:}: layer ranges, stacked and renumbered in order (a model may be the source of
     * several slices). The output lists the first slice's tensors before the layers, the layers,
     * then the last slice's tensors after them; every source's tensors must have the same shapes;
     * config.json's layer count is the slices' sum.
     */
    SLICES
  }

  /**
   * One source of a slice.
   *
   * @param model the model
   * @param yamlPath where it was written ("models[1]", "slices[0].sources[1]"; "base_model" for an
   *     unlisted base)
   * @param parameters its own parameters: per-model parameters take effect at this level
   * @param start the first layer taken
   * @param end one past the last layer taken; empty for a {@code models:} entry, which takes every
   *     layer
   */
  record Source(
      ModelReference model, String yamlPath, Level parameters, int start, OptionalInt end) {}

  /**
   * One output slice.
   *
   * @param yamlPath where it was written ("slices[1]"; "models" for a {@code models:}
   *     configuration)
   * @param sources its sources, in merge order
   * @param baseModel the slice's own {@code base_model}, overriding the top-level one
   * @param parameters its parameters, between the sources' and the top level's in precedence
   */
  record Slice(
      String yamlPath, List<Source> sources, Optional<ModelReference> baseModel, Level parameters) {
    /** Output layers of a {@code slices:} entry: those its first source takes. */
    int layers() {
      Source lead = sources.get(0);
      return lead.end().orElseThrow() - lead.start();
    }
  }

  /** Normalizes a parsed configuration. */
  static NormalizedConfig of(MergeConfig config) {
    if (!config.slices().isEmpty()) {
      List<Slice> slices = new ArrayList<>();
      for (OutputSlice slice : config.slices()) {
        List<Source> sources = new ArrayList<>();
        for (SliceSource s : slice.sources()) {
          sources.add(
              new Source(
                  s.model(),
                  s.yamlPath(),
                  new Level(s.parameters(), s.yamlPath() + ".parameters"),
                  s.start(),
                  OptionalInt.of(s.end())));
        }
        slices.add(
            new Slice(
                slice.yamlPath(),
                sources,
                slice.baseModel(),
                new Level(slice.parameters(), slice.yamlPath() + ".parameters")));
      }
      return new NormalizedConfig(Form.SLICES, slices);
    }
    List<Source> sources = new ArrayList<>();
    Optional<ModelReference> base = config.baseModel();
    boolean baseListed = false;
    for (InputModel m : config.models()) {
      baseListed |= base.isPresent() && base.get().sameModel(m.model());
      sources.add(
          new Source(
              m.model(),
              m.yamlPath(),
              new Level(m.parameters(), m.yamlPath() + ".parameters"),
              0,
              OptionalInt.empty()));
    }
    if (base.isPresent() && !baseListed) {
      sources.add(
          new Source(
              base.get(), "base_model", new Level(Map.of(), "base_model"), 0, OptionalInt.empty()));
    }
    Slice whole = new Slice("models", sources, Optional.empty(), new Level(Map.of(), "models"));
    return new NormalizedConfig(Form.MODELS, List.of(whole));
  }
}
