package dev.amalgam.merge.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One entry of {@code slices:}: a run of output layers merged from the same number of layers of
 * each source. Frankenmerges stack several, often passthrough slices of single sources, and so
 * change the layer count.
 *
 * @param sources the sources, in order; all take the same number of layers
 * @param baseModel the slice's own {@code base_model}, overriding the top-level one
 * @param parameters the slice's {@code parameters:}, between the sources' and the top level's in
 *     precedence
 * @param yamlPath where it was written, e.g. "slices[1]"
 */
public record OutputSlice(
    List<SliceSource> sources,
    Optional<ModelReference> baseModel,
    Map<String, ParameterSetting> parameters,
    String yamlPath) {
  /** Copies the collections. */
  public OutputSlice {
    sources = List.copyOf(sources);
    parameters = Map.copyOf(parameters);
  }

  /** Output layers this slice produces. */
  public int layers() {
    return sources.get(0).layers();
  }
}
