package dev.amalgam.merge.config;

import java.nio.file.Path;

/**
 * A model named in the configuration.
 *
 * @param spec the reference exactly as written in the YAML
 * @param path the local path it resolves to (relative specs resolve against the working directory)
 * @param yamlPath where it was written, e.g. "models[0].model"
 */
public record ModelReference(String spec, Path path, String yamlPath) {
  /** True if both references resolve to the same location. */
  public boolean sameModel(ModelReference other) {
    return path.toAbsolutePath().normalize().equals(other.path.toAbsolutePath().normalize());
  }

  @Override
  public String toString() {
    return spec;
  }
}
