package dev.amalgam.eval.harness;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The clinical generation tasks: MTS-Dialog sections, ACI-BENCH full notes and IU-Xray impressions.
 */
final class ClinicalTasks {
  private ClinicalTasks() {}

  /**
   * MTS-Dialog header codes and their names (Ben Abacha et al., EACL 2023), for the {section_name}
   * field.
   */
  static final Map<String, String> SECTION_NAMES =
      Map.ofEntries(
          Map.entry("FAM/SOCHX", "Family History/Social History"),
          Map.entry("GENHX", "History of Present Illness"),
          Map.entry("PASTMEDICALHX", "Past Medical History"),
          Map.entry("CC", "Chief Complaint"),
          Map.entry("PASTSURGICAL", "Past Surgical History"),
          Map.entry("ALLERGY", "Allergies"),
          Map.entry("ROS", "Review of Systems"),
          Map.entry("MEDICATIONS", "Medications"),
          Map.entry("ASSESSMENT", "Assessment"),
          Map.entry("EXAM", "Exam"),
          Map.entry("DIAGNOSIS", "Diagnosis"),
          Map.entry("DISPOSITION", "Disposition"),
          Map.entry("PLAN", "Plan"),
          Map.entry("EDCOURSE", "Emergency Department Course"),
          Map.entry("IMMUNIZATIONS", "Immunizations"),
          Map.entry("IMAGING", "Imaging"),
          Map.entry("GYNHX", "Gynecologic History"),
          Map.entry("PROCEDURES", "Procedures"),
          Map.entry("OTHER_HISTORY", "Other History"),
          Map.entry("LABS", "Lab Results"));

  private static final Map<String, String> MTS_FILES =
      Map.of(
          "train",
          "MTS-Dialog-TrainingSet.csv",
          "validation",
          "MTS-Dialog-ValidationSet.csv",
          "test1",
          "MTS-Dialog-TestSet-1-MEDIQA-Chat-2023.csv",
          "test2",
          "MTS-Dialog-TestSet-2-MEDIQA-Sum-2023.csv");

  /** MTS-Dialog: dialogue to the text of one note section, prompted with the section header. */
  static Task mtsDialog() {
    return new Task(
        "mts-dialog",
        TaskKind.GENERATION,
        "mts-dialog",
        List.of("train", "validation", "test1", "test2"),
        "validation",
        "train",
        256,
        PromptTemplate.builtIn("mts-dialog"),
        ClinicalTasks::loadMtsDialog);
  }

  private static List<Example> loadMtsDialog(Path dir, String split) {
    Path file = dir.resolve("Main-Dataset").resolve(MTS_FILES.get(split));
    List<Example> out = new ArrayList<>();
    for (CsvRows.Row row : CsvRows.read(file, "ID", "section_header", "section_text", "dialogue")) {
      String header = row.require(file, "section_header").strip();
      Map<String, String> fields = new LinkedHashMap<>();
      fields.put("id", row.require(file, "ID"));
      fields.put("section_header", header);
      fields.put("section_name", SECTION_NAMES.getOrDefault(header, header));
      fields.put("dialogue", row.require(file, "dialogue"));
      fields.put("section_text", row.require(file, "section_text"));
      out.add(
          Example.generation(
              fields.get("id"), fields.get("dialogue"), fields.get("section_text"), fields));
    }
    return out;
  }

  private static final Map<String, String> ACI_FILES =
      Map.of(
          "train",
          "train.csv",
          "valid",
          "valid.csv",
          "test1",
          "clinicalnlp_taskB_test1.csv",
          "test2",
          "clinicalnlp_taskC_test2.csv",
          "test3",
          "clef_taskC_test3.csv");

  /** ACI-BENCH (challenge data): dialogue to the full clinical note. */
  static Task aciBench() {
    return new Task(
        "aci-bench",
        TaskKind.GENERATION,
        "aci-bench",
        List.of("train", "valid", "test1", "test2", "test3"),
        "valid",
        "train",
        1024,
        PromptTemplate.builtIn("aci-bench"),
        ClinicalTasks::loadAciBench);
  }

  private static List<Example> loadAciBench(Path dir, String split) {
    Path file = dir.resolve("data").resolve("challenge_data").resolve(ACI_FILES.get(split));
    List<Example> out = new ArrayList<>();
    for (CsvRows.Row row : CsvRows.read(file, "dataset", "encounter_id", "dialogue", "note")) {
      Map<String, String> fields = new LinkedHashMap<>();
      fields.put("dataset", row.require(file, "dataset"));
      fields.put("encounter_id", row.require(file, "encounter_id"));
      fields.put("dialogue", row.require(file, "dialogue"));
      fields.put("note", row.require(file, "note"));
      out.add(
          Example.generation(
              fields.get("encounter_id"), fields.get("dialogue"), fields.get("note"), fields));
    }
    return out;
  }

  /**
   * IU-Xray (Open-i reports): findings to impression, rows with both non-blank. The data has no
   * official split; ours: bucket = (first 8 bytes of SHA-256 of the UTF-8 uid text, as an unsigned
   * big-endian number) mod 10; buckets 0-7 train, 8 validation, 9 test (about 80/10/10, stable
   * across runs, machines and row order).
   */
  static Task iuXray() {
    return new Task(
        "iu-xray",
        TaskKind.GENERATION,
        "iu-xray",
        List.of("train", "validation", "test"),
        "test",
        "train",
        128,
        PromptTemplate.builtIn("iu-xray"),
        ClinicalTasks::loadIuXray);
  }

  /** The IU-Xray split of a uid (see {@link #iuXray()}). */
  static String iuXraySplit(String uid) {
    byte[] hash;
    try {
      hash = MessageDigest.getInstance("SHA-256").digest(uid.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    long head = 0;
    for (int i = 0; i < 8; i++) head = (head << 8) | (hash[i] & 0xff);
    int bucket = (int) Long.remainderUnsigned(head, 10);
    return bucket < 8 ? "train" : bucket == 8 ? "validation" : "test";
  }

  private static List<Example> loadIuXray(Path dir, String split) {
    Path file = dir.resolve("indiana_reports.csv");
    List<Example> out = new ArrayList<>();
    for (CsvRows.Row row : CsvRows.read(file, "uid", "findings", "impression")) {
      String findings = row.get("findings");
      String impression = row.get("impression");
      if (findings.isBlank() || impression.isBlank()) continue;
      String uid = row.require(file, "uid").strip();
      if (!iuXraySplit(uid).equals(split)) continue;
      Map<String, String> fields = new LinkedHashMap<>();
      fields.put("uid", uid);
      fields.put("findings", findings);
      fields.put("impression", impression);
      fields.put("indication", row.get("indication"));
      fields.put("comparison", row.get("comparison"));
      out.add(Example.generation(uid, findings, impression, fields));
    }
    return out;
  }
}
