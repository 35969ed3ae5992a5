package dev.amalgam.eval.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.testing.TestAssets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Each loader on the real data sets (the repository's slice, and the external sets when present):
 * split sizes as the data READMEs state them, non-empty fields.
 */
class TaskLoadersTest {
  private static void assertFilled(List<Example> examples, String... fields) {
    for (Example e : examples) {
      assertFalse(e.id().isBlank(), "id");
      assertFalse(e.input().isBlank(), () -> "input of " + e.id());
      for (String f : fields) assertFalse(e.fields().get(f).isBlank(), () -> f + " of " + e.id());
    }
  }

  @Test
  void mtsDialogLoadsTheRepositorySlice() {
    Task task = Tasks.builtIn("mts-dialog");
    List<Example> examples =
        task.load(TestAssets.mtsDialogSlice().resolve("mts-dialog"), task.defaultSplit());
    assertEquals(40, examples.size());
    assertFilled(examples, "dialogue", "section_header", "section_text", "section_name");
    assertEquals("0", examples.get(0).id());
    assertEquals("GENHX", examples.get(0).fields().get("section_header"));
    String reference = examples.get(0).reference();
    assertTrue(reference.startsWith("The patient is a 26-year-old female"), reference);
    DataException missing =
        assertThrows(
            DataException.class,
            () -> task.load(TestAssets.mtsDialogSlice().resolve("mts-dialog"), "train"));
    assertTrue(missing.getMessage().contains("MTS-Dialog-TrainingSet.csv"), missing.getMessage());
  }

  @Test
  void mtsDialogSplitsMatchTheReadme() {
    Task task = Tasks.builtIn("mts-dialog");
    Map<String, Integer> sizes =
        Map.of("train", 1201, "validation", 100, "test1", 200, "test2", 200);
    for (Map.Entry<String, Integer> e : sizes.entrySet()) {
      List<Example> examples = task.load(TestAssets.externalData("mts-dialog"), e.getKey());
      assertEquals(e.getValue(), examples.size(), e.getKey());
      assertFilled(examples, "dialogue", "section_header", "section_text", "section_name");
      for (Example x : examples) {
        assertTrue(
            ClinicalTasks.SECTION_NAMES.containsKey(x.fields().get("section_header")),
            () -> "unnamed header " + x.fields().get("section_header"));
        assertEquals(x.fields().get("section_text"), x.reference());
      }
    }
    assertEquals("validation", task.defaultSplit());
    Path folder = TestAssets.externalData("mts-dialog");
    DataException bad = assertThrows(DataException.class, () -> task.load(folder, "dev"));
    assertTrue(bad.getMessage().contains("train, validation, test1, test2"), bad.getMessage());
  }

  @Test
  void aciBenchSplitsMatchTheReadme() {
    Task task = Tasks.builtIn("aci-bench");
    Map<String, Integer> sizes =
        Map.of("train", 67, "valid", 20, "test1", 40, "test2", 40, "test3", 40);
    for (Map.Entry<String, Integer> e : sizes.entrySet()) {
      List<Example> examples = task.load(TestAssets.externalData("aci-bench"), e.getKey());
      assertEquals(e.getValue(), examples.size(), e.getKey());
      assertFilled(examples, "dialogue", "note", "dataset", "encounter_id");
      assertEquals(
          examples.size(),
          examples.stream().map(Example::id).distinct().count(),
          "unique encounter ids");
    }
  }

  @Test
  void iuXraySplitIsADeterministicHashOfTheUid() {
    Task task = Tasks.builtIn("iu-xray");
    Set<String> all = new HashSet<>();
    int total = 0;
    for (String split : task.splits()) {
      List<Example> first = task.load(TestAssets.externalData("iu-xray"), split);
      List<Example> second = task.load(TestAssets.externalData("iu-xray"), split);
      assertEquals(
          first.stream().map(Example::id).toList(), second.stream().map(Example::id).toList());
      assertFilled(first, "findings", "impression");
      for (Example e : first) {
        assertEquals(split, ClinicalTasks.iuXraySplit(e.id()));
        assertTrue(all.add(e.id()), "a uid in two splits: " + e.id());
      }
      double share = first.size() / 3331.0;
      double expected = split.equals("train") ? 0.8 : 0.1;
      assertEquals(expected, share, 0.03, split + " share");
      total += first.size();
    }
    assertEquals(3331, total, "rows with both findings and impression (README)");
    // The rule depends only on the uid text.
    assertEquals(ClinicalTasks.iuXraySplit("1"), ClinicalTasks.iuXraySplit(new String("1")));
  }

  @Test
  void pubmedqaTestIsTheGroundTruthIdsAndTrainTheRest() {
    Task task = Tasks.builtIn("pubmedqa");
    List<Example> test = task.load(TestAssets.externalData("pubmedqa"), "test");
    List<Example> train = task.load(TestAssets.externalData("pubmedqa"), "train");
    assertEquals(500, test.size());
    assertEquals(500, train.size());
    Set<String> ids = test.stream().map(Example::id).collect(Collectors.toSet());
    assertTrue(train.stream().noneMatch(e -> ids.contains(e.id())));
    Map<String, Long> labels =
        test.stream().collect(Collectors.groupingBy(Example::reference, Collectors.counting()));
    assertEquals(
        Map.of("yes", 276L, "no", 169L, "maybe", 55L),
        labels,
        "README: yes 276 / no 169 / maybe 55");
    assertFilled(test, "question", "context");
    assertEquals(List.of("yes", "no", "maybe"), test.get(0).choices());
  }

  @Test
  void medqaHas1273FourOptionQuestions() {
    List<Example> test = Tasks.builtIn("medqa").load(TestAssets.externalData("medqa"), "test");
    assertEquals(1273, test.size());
    Map<String, Long> labels =
        test.stream().collect(Collectors.groupingBy(Example::reference, Collectors.counting()));
    assertEquals(Map.of("A", 353L, "B", 309L, "C", 346L, "D", 265L), labels);
    assertFilled(test, "question", "options");
    assertTrue(
        test.get(0).fields().get("options").matches("(?s)A\\. .+\nB\\. .+\nC\\. .+\nD\\. .+"));
  }

  @Test
  void ifevalHas541Prompts() {
    List<Example> prompts = Tasks.builtIn("ifeval").load(TestAssets.externalData("ifeval"), "test");
    assertEquals(541, prompts.size());
    assertFilled(prompts, "prompt", "key", "source_json");
    assertEquals("1000", prompts.get(0).id());
  }

  @Test
  void defaultTemplatesUseOnlyFieldsTheLoadersProvide() {
    for (String name : Tasks.NAMES) {
      if (name.equals("jsonl")) continue;
      Task task = Tasks.builtIn(name);
      Example first =
          task.load(TestAssets.externalData(task.dataFolder()), task.defaultSplit()).get(0);
      task.defaultTemplate().requireKnown(first.fields().keySet(), name);
      String prompt = task.defaultTemplate().render(first.fields());
      assertTrue(prompt.contains(first.input()), name + ": the prompt holds the input");
      assertFalse(prompt.endsWith("\n"), name + ": the answer continues the last line");
    }
  }

  @Test
  void unknownTaskListsTheKnownOnes() {
    DataException e = assertThrows(DataException.class, () -> Tasks.builtIn("medmcqa"));
    assertTrue(
        e.getMessage().contains("unknown task 'medmcqa'") && e.getMessage().contains("pubmedqa"));
  }
}
