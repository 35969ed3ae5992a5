package dev.amalgam.eval.harness;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The multiple-choice tasks: MedQA (USMLE, options A-D) and PubMedQA (PQA-L, yes/no/maybe). */
final class ChoiceTasks {
  private ChoiceTasks() {}

  static final List<String> MEDQA_LABELS = List.of("A", "B", "C", "D");
  static final List<String> PUBMEDQA_LABELS = List.of("yes", "no", "maybe");

  /**
   * MedQA US 4-option test set (the only split shipped; few-shot examples come from it, never the
   * query). The {@code {options}} field is {@code A. text} lines joined by line breaks, as
   * lm-evaluation-harness's medqa_4options writes them.
   */
  static Task medqa() {
    return new Task(
        "medqa",
        TaskKind.MULTIPLE_CHOICE,
        "medqa",
        List.of("test"),
        "test",
        null,
        8,
        PromptTemplate.builtIn("medqa"),
        ChoiceTasks::loadMedqa);
  }

  private static List<Example> loadMedqa(Path dir, String split) {
    Path file = dir.resolve("phrases_no_exclude_test.jsonl");
    List<Example> out = new ArrayList<>();
    for (JsonLines.Line line : JsonLines.read(file)) {
      String question = line.text("question");
      JsonNode options = line.object("options");
      StringBuilder rendered = new StringBuilder();
      for (String label : MEDQA_LABELS) {
        JsonNode option = options.get(label);
        if (option == null || !option.isTextual() || option.asText().isBlank()) {
          throw DataException.at(
              file, line.number(), "options." + label, "missing or empty option text");
        }
        if (rendered.length() > 0) rendered.append('\n');
        rendered.append(label).append(". ").append(option.asText());
      }
      String gold = line.text("answer_idx");
      if (!MEDQA_LABELS.contains(gold)) {
        throw DataException.at(
            file, line.number(), "answer_idx", "'" + gold + "' is not one of " + MEDQA_LABELS);
      }
      Map<String, String> fields = new LinkedHashMap<>();
      fields.put("question", question);
      fields.put("options", rendered.toString());
      out.add(new Example("medqa-test-" + line.number(), question, gold, fields, MEDQA_LABELS));
    }
    return out;
  }

  /**
   * PubMedQA PQA-L: test = the 500 PMIDs of test_ground_truth.json, train = the other 500 of
   * ori_pqal.json, both in ori_pqal.json's order. {@code {context}} is the abstract's CONTEXTS
   * joined by line breaks (lm-evaluation-harness).
   */
  static Task pubmedqa() {
    return new Task(
        "pubmedqa",
        TaskKind.MULTIPLE_CHOICE,
        "pubmedqa",
        List.of("train", "test"),
        "test",
        "train",
        8,
        PromptTemplate.builtIn("pubmedqa"),
        ChoiceTasks::loadPubmedqa);
  }

  private static List<Example> loadPubmedqa(Path dir, String split) {
    Path data = dir.resolve("data");
    Path all = data.resolve("ori_pqal.json");
    Path truthFile = data.resolve("test_ground_truth.json");
    JsonNode truth = JsonLines.readObject(truthFile);
    Set<String> testIds = new java.util.HashSet<>();
    truth.fieldNames().forEachRemaining(testIds::add);
    JsonNode root = JsonLines.readObject(all);
    List<Example> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      String pmid = e.getKey();
      boolean test = testIds.contains(pmid);
      if (test != split.equals("test")) continue;
      JsonNode item = e.getValue();
      String where = "PMID " + pmid;
      String question = JsonLines.text(all, where, item, "QUESTION");
      JsonNode contexts = item.get("CONTEXTS");
      if (contexts == null || !contexts.isArray() || contexts.isEmpty()) {
        throw new DataException(
            all + ": " + where + ", field 'CONTEXTS': missing or not a non-empty list");
      }
      List<String> parts = new ArrayList<>();
      for (JsonNode c : contexts) parts.add(c.asText());
      String gold = JsonLines.text(all, where, item, "final_decision");
      if (!PUBMEDQA_LABELS.contains(gold)) {
        throw new DataException(
            all
                + ": "
                + where
                + ", field 'final_decision': '"
                + gold
                + "' is not one of "
                + PUBMEDQA_LABELS);
      }
      if (test && !gold.equals(truth.get(pmid).asText())) {
        throw new DataException(
            truthFile
                + ": "
                + where
                + ": label '"
                + truth.get(pmid).asText()
                + "' differs from final_decision '"
                + gold
                + "' in "
                + all);
      }
      Map<String, String> fields = new LinkedHashMap<>();
      fields.put("pmid", pmid);
      fields.put("question", question);
      fields.put("context", String.join("\n", parts));
      fields.put("long_answer", item.path("LONG_ANSWER").asText(""));
      out.add(new Example(pmid, question, gold, fields, PUBMEDQA_LABELS));
    }
    return out;
  }
}
