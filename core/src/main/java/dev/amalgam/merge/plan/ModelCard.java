package dev.amalgam.merge.plan;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The README.md written into a merged model: Hugging Face front matter, what was merged and how,
 * the config.
 */
final class ModelCard {
  private ModelCard() {}

  static String render(MergePlan plan, String modelName) {
    StringBuilder s = new StringBuilder();
    List<PlannedInput> inputs = plan.inputs();
    s.append("---\nbase_model:\n");
    for (PlannedInput in : inputs) s.append("- ").append(quote(in.label())).append('\n');
    s.append("library_name: transformers\ntags:\n- merge\n- amalgam\n---\n");
    s.append("# ").append(modelName).append("\n\n");
    s.append("This model is a merge of pre-trained language models made with Amalgam.\n\n");
    s.append("## Merge details\n\n### Method\n\n");
    s.append("Merged with the [")
        .append(plan.method().displayName())
        .append("](")
        .append(plan.method().reference())
        .append(") method");
    inputs.stream()
        .filter(PlannedInput::isBase)
        .findFirst()
        .ifPresent(b -> s.append(", with ").append(b.label()).append(" as the base"));
    s.append(".\n\n### Models merged\n\n");
    s.append(inputs.stream().map(in -> "* " + in.label()).collect(Collectors.joining("\n")))
        .append("\n\n");
    s.append(
        "### Configuration\n\nThe following configuration produced this model (also saved as"
            + " `amalgam_config.yml`):\n\n```yaml\n");
    String yaml = plan.config().source();
    s.append(yaml);
    if (!yaml.endsWith("\n")) s.append('\n');
    s.append("```\n");
    return s.toString();
  }

  /** A YAML double-quoted scalar (JSON string escaping is valid YAML). */
  private static String quote(String value) {
    StringBuilder q = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      if (c == '"' || c == '\\') q.append('\\').append(c);
      else if (c < 0x20) q.append(String.format("\\u%04x", (int) c));
      else q.append(c);
    }
    return q.append('"').toString();
  }
}
