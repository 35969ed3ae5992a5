package dev.amalgam.eval.ifeval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads IFEval's jsonl files: prompts ({@code input_data.jsonl}: key, prompt, instruction_id_list,
 * kwargs) and responses ({key: prompt, response} per line). Every error names the file, the line
 * and the field; blank lines are skipped.
 */
public final class IfevalData {
  private static final ObjectMapper JSON = new ObjectMapper();

  private IfevalData() {}

  /**
   * Reads the prompts, checking every field and that every instruction id is one IFEval's registry
   * has.
   *
   * @throws IfevalException for a malformed line or field, or an unknown instruction id
   * @throws IOException if the file cannot be read (e.g. {@link java.nio.file.NoSuchFileException})
   */
  public static List<IfevalInput> readInputs(Path file) throws IOException {
    List<IfevalInput> inputs = new ArrayList<>();
    forEachObject(file, (line, node) -> inputs.add(parseInput(node, file + ":" + line + ": ")));
    return inputs;
  }

  /**
   * Parses one prompt object ({@code key, prompt, instruction_id_list, kwargs}), as one line of
   * input_data.jsonl.
   *
   * @param where the message prefix naming the source, e.g. {@code input_data.jsonl:12: }
   * @throws IfevalException for a malformed field or an unknown instruction id
   */
  public static IfevalInput parseInput(JsonNode node, String where) {
    JsonNode keyNode = node.get("key");
    if (keyNode == null || !(keyNode.isIntegralNumber() || keyNode.isTextual())) {
      throw new IfevalException(where + "field \"key\" must be a number or a string");
    }
    String key = keyNode.asText();
    String prompt = text(node, "prompt", where);
    JsonNode ids = node.get("instruction_id_list");
    if (ids == null || !ids.isArray()) {
      throw new IfevalException(
          where + "field \"instruction_id_list\" must be a list of instruction ids");
    }
    List<String> idList = new ArrayList<>();
    for (JsonNode id : ids) {
      if (!id.isTextual())
        throw new IfevalException(where + "field \"instruction_id_list\" must hold strings");
      if (InstructionType.byId(id.asText()) == null) {
        throw new IfevalException(
            where
                + "key "
                + key
                + ": unknown instruction id \""
                + id.asText()
                + "\" in field \"instruction_id_list\" (not one of the ids active in IFEval's registry)");
      }
      idList.add(id.asText());
    }
    JsonNode kwargs = node.get("kwargs");
    if (kwargs == null || !kwargs.isArray() || kwargs.size() != idList.size()) {
      throw new IfevalException(
          where
              + "field \"kwargs\" must be a list of "
              + idList.size()
              + " objects, one per instruction id");
    }
    List<Map<String, Object>> kwargList = new ArrayList<>();
    for (JsonNode k : kwargs) {
      if (!k.isObject()) throw new IfevalException(where + "field \"kwargs\" must hold objects");
      Map<String, Object> map = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : k.properties()) {
        map.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
      }
      kwargList.add(map);
    }
    return new IfevalInput(key, prompt, idList, kwargList);
  }

  /**
   * Reads responses as a map from prompt text to response; a prompt given twice keeps its last
   * response, as the reference's dictionary does.
   *
   * @throws IfevalException for a malformed line or a missing or non-string "prompt" or "response"
   * @throws IOException if the file cannot be read
   */
  public static Map<String, String> readResponses(Path file) throws IOException {
    Map<String, String> responses = new HashMap<>();
    forEachObject(
        file,
        (line, node) -> {
          String where = file + ":" + line + ": ";
          responses.put(text(node, "prompt", where), text(node, "response", where));
        });
    return responses;
  }

  private interface LineHandler {
    void accept(int line, JsonNode node);
  }

  private static void forEachObject(Path file, LineHandler handler) throws IOException {
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String text;
      int line = 0;
      while ((text = reader.readLine()) != null) {
        line++;
        if (text.isBlank()) continue;
        JsonNode node;
        try {
          node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
          throw new IfevalException(
              file + ":" + line + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
          throw new IfevalException(file + ":" + line + ": each line must be one JSON object");
        }
        handler.accept(line, node);
      }
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IfevalException(file + ": not valid UTF-8");
    }
  }

  private static String text(JsonNode node, String field, String where) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual())
      throw new IfevalException(where + "field \"" + field + "\" must be a string");
    return v.asText();
  }
}
