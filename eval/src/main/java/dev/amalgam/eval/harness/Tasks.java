package dev.amalgam.eval.harness;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** The task registry: the built-in tasks by name, and the {@code jsonl} task over a user's file. */
public final class Tasks {
  /** The {@code --task} names, in help order. */
  public static final List<String> NAMES =
      List.of("mts-dialog", "aci-bench", "iu-xray", "jsonl", "ifeval", "medqa", "pubmedqa");

  private Tasks() {}

  /**
   * A built-in task (every name of {@link #NAMES} except {@code jsonl}, which needs {@link
   * #jsonl}).
   *
   * @throws DataException for an unknown name, listing the known ones
   */
  public static Task builtIn(String name) {
    switch (Objects.requireNonNull(name, "name")) {
      case "mts-dialog":
        return ClinicalTasks.mtsDialog();
      case "aci-bench":
        return ClinicalTasks.aciBench();
      case "iu-xray":
        return ClinicalTasks.iuXray();
      case "ifeval":
        return ifeval();
      case "medqa":
        return ChoiceTasks.medqa();
      case "pubmedqa":
        return ChoiceTasks.pubmedqa();
      case "jsonl":
        throw new DataException("task jsonl reads one file: give it with --data FILE");
      default:
        throw new DataException("unknown task '" + name + "'; tasks: " + String.join(", ", NAMES));
    }
  }

  /**
   * Any JSON Lines file as a generation task (how MIMIC-BHC or ProbSum, which cannot be shipped,
   * are run): one split {@code all}; every top-level field is a placeholder (strings as they are,
   * other values as JSON text), and {@code {input}} / {@code {reference}} name the chosen fields.
   * The id is the {@code id} field when present, else {@code line-N}. Few-shot examples come from
   * the same file, never the query. Default template: {@code {input}}.
   *
   * @param inputField the field holding the input text
   * @param referenceField the field holding the reference text
   */
  public static Task jsonl(String inputField, String referenceField) {
    Objects.requireNonNull(inputField, "inputField");
    Objects.requireNonNull(referenceField, "referenceField");
    return new Task(
        "jsonl",
        TaskKind.GENERATION,
        null,
        List.of("all"),
        "all",
        null,
        256,
        PromptTemplate.builtIn("jsonl"),
        (file, split) -> loadJsonl(file, inputField, referenceField));
  }

  private static List<Example> loadJsonl(Path file, String inputField, String referenceField) {
    List<Example> out = new ArrayList<>();
    for (JsonLines.Line line : JsonLines.read(file)) {
      Map<String, String> fields = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : line.node().properties()) {
        fields.put(
            e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
      }
      String input = line.text(inputField);
      String reference = line.text(referenceField);
      fields.put("input", input);
      fields.put("reference", reference);
      JsonNode id = line.node().get("id");
      String name =
          id != null && !id.isNull() && !id.asText().isBlank()
              ? id.asText()
              : "line-" + line.number();
      out.add(Example.generation(name, input, reference, fields));
    }
    return out;
  }

  /**
   * IFEval (541 prompts, split {@code test}): one response per prompt, checked by an {@link
   * IfevalChecker}. Fields {@code {prompt}}, {@code {key}} and {@code source_json} (the input line,
   * for the checker's kwargs).
   */
  static Task ifeval() {
    return new Task(
        "ifeval",
        TaskKind.INSTRUCTION_FOLLOWING,
        "ifeval",
        List.of("test"),
        "test",
        null,
        1024,
        PromptTemplate.builtIn("ifeval"),
        Tasks::loadIfeval);
  }

  private static List<Example> loadIfeval(Path dir, String split) {
    Path file = dir.resolve("data").resolve("input_data.jsonl");
    List<Example> out = new ArrayList<>();
    for (JsonLines.Line line : JsonLines.read(file)) {
      JsonNode key = line.node().get("key");
      if (key == null || !key.canConvertToLong()) {
        throw DataException.at(file, line.number(), "key", "missing or not a number");
      }
      JsonNode ids = line.node().get("instruction_id_list");
      if (ids == null || !ids.isArray()) {
        throw DataException.at(file, line.number(), "instruction_id_list", "missing or not a list");
      }
      Map<String, String> fields = new LinkedHashMap<>();
      fields.put("key", key.asText());
      fields.put("prompt", line.text("prompt"));
      fields.put("source_json", line.node().toString());
      out.add(Example.generation(key.asText(), fields.get("prompt"), "", fields));
    }
    return out;
  }
}
