package dev.amalgam.eval.ifeval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Strict and loose evaluation, aggregation, and the jsonl readers' errors. */
class IfevalEvaluatorTest {
  private static IfevalInput input(
      String key, String prompt, String id, Map<String, Object> kwargs) {
    return new IfevalInput(key, prompt, List.of(id), List.of(kwargs));
  }

  @Test
  void looseVariantsFollowTheReferenceOrder() {
    assertEquals(
        List.of("*a*\nb\nc", "a\nb\nc", "b\nc", "*a*\nb", "b", "b\nc", "a\nb", "b"),
        IfevalEvaluator.looseVariants("*a*\nb\nc"));
    assertEquals(
        List.of("one", "one", "", "", "", "", "", ""), IfevalEvaluator.looseVariants("one"));
  }

  @Test
  void looseForgivesAnIntroLineAndMarkdownStars() {
    IfevalInput quote = input("1", "p", "startend:quotation", Map.of());
    IfevalResult r = IfevalEvaluator.evaluate(quote, "Sure, here it is:\n\"Quoted text.\"");
    assertEquals(List.of(false), r.strict());
    assertEquals(List.of(true), r.loose(), "removing the first line passes");
    IfevalInput lower = input("2", "p", "startend:end_checker", Map.of("end_phrase", "The end."));
    r = IfevalEvaluator.evaluate(lower, "Story.\n**The end.**");
    assertEquals(List.of(false), r.strict());
    assertEquals(List.of(true), r.loose(), "removing '*' passes");
  }

  @Test
  void anEmptyResponseFollowsNothing() {
    IfevalInput noComma = input("3", "p", "punctuation:no_comma", Map.of());
    IfevalResult r = IfevalEvaluator.evaluate(noComma, "  \n ");
    assertEquals(List.of(false), r.strict());
    assertEquals(List.of(false), r.loose());
    assertTrue(IfevalEvaluator.evaluate(noComma, "fine").followAllStrict());
  }

  @Test
  void reportAggregatesPromptsInstructionsIdsAndGroups() {
    IfevalInput a =
        new IfevalInput(
            "1",
            "pa",
            List.of("punctuation:no_comma", "startend:quotation"),
            List.of(Map.of(), Map.of()));
    IfevalInput b = input("2", "pb", "punctuation:no_comma", Map.of());
    IfevalReport report =
        IfevalEvaluator.evaluate(List.of(a, b), Map.of("pa", "Intro\n\"no commas\"", "pb", "a, b"));
    assertEquals(2, report.count());
    assertEquals(new IfevalReport.Accuracy(0, 2), report.promptLevelStrict());
    assertEquals(new IfevalReport.Accuracy(1, 3), report.instructionLevelStrict());
    assertEquals(new IfevalReport.Accuracy(1, 2), report.promptLevelLoose());
    assertEquals(new IfevalReport.Accuracy(2, 3), report.instructionLevelLoose());
    assertEquals(new IfevalReport.Accuracy(1, 2), report.strictById().get("punctuation:no_comma"));
    assertEquals(new IfevalReport.Accuracy(1, 1), report.looseByGroup().get("startend"));
    assertEquals(List.of("punctuation", "startend"), List.copyOf(report.strictByGroup().keySet()));
  }

  @Test
  void aMissingResponseNamesTheKey() {
    IfevalInput a = input("42", "the prompt", "punctuation:no_comma", Map.of());
    IfevalException e =
        assertThrows(
            IfevalException.class,
            () -> IfevalEvaluator.evaluate(List.of(a), Map.of("the prompt ", "x")));
    assertTrue(e.getMessage().startsWith("key 42: no response for its prompt"), e.getMessage());
  }

  @Test
  void inputsNeedOneKwargsMapPerInstruction() {
    assertThrows(
        IfevalException.class,
        () -> new IfevalInput("1", "p", List.of("punctuation:no_comma"), List.of()));
  }

  @Test
  void readersParseAndNameFileLineAndField(@TempDir Path dir) throws IOException {
    Path in = dir.resolve("in.jsonl");
    Files.writeString(
        in,
        "{\"key\": 1000, \"prompt\": \"p\", \"instruction_id_list\": [\"keywords:frequency\"],"
            + " \"kwargs\": [{\"keyword\": \"a\", \"frequency\": 2, \"relation\": \"at least\"}]}\n\n");
    List<IfevalInput> inputs = IfevalData.readInputs(in);
    assertEquals("1000", inputs.get(0).key());
    assertEquals(2, inputs.get(0).kwargs().get(0).get("frequency"));

    Files.writeString(
        in,
        "{\"key\": 1, \"prompt\": \"p\", \"instruction_id_list\": [], \"kwargs\": []}\n{oops\n");
    IfevalException e = assertThrows(IfevalException.class, () -> IfevalData.readInputs(in));
    assertTrue(e.getMessage().startsWith(in + ":2: not valid JSON"), e.getMessage());

    Files.writeString(
        in,
        "{\"key\": 5, \"prompt\": \"p\", \"instruction_id_list\": [\"x:y\"], \"kwargs\": [{}]}\n");
    e = assertThrows(IfevalException.class, () -> IfevalData.readInputs(in));
    assertEquals(
        in
            + ":1: key 5: unknown instruction id \"x:y\" in field \"instruction_id_list\" (not one of the ids"
            + " active in IFEval's registry)",
        e.getMessage());

    Files.writeString(
        in, "{\"key\": 5, \"prompt\": 3, \"instruction_id_list\": [], \"kwargs\": []}\n");
    e = assertThrows(IfevalException.class, () -> IfevalData.readInputs(in));
    assertEquals(in + ":1: field \"prompt\" must be a string", e.getMessage());

    Files.writeString(
        in,
        "{\"key\": 5, \"prompt\": \"p\", \"instruction_id_list\": [\"punctuation:no_comma\"],"
            + " \"kwargs\": []}\n");
    e = assertThrows(IfevalException.class, () -> IfevalData.readInputs(in));
    assertTrue(
        e.getMessage().contains("field \"kwargs\" must be a list of 1 objects"), e.getMessage());

    Path responses = dir.resolve("r.jsonl");
    Files.writeString(
        responses,
        "{\"prompt\": \"p\", \"response\": \"one\"}\n{\"prompt\": \"p\", \"response\": \"two\"}\n");
    assertEquals(
        Map.of("p", "two"),
        IfevalData.readResponses(responses),
        "the last response wins, as in a dict");
    Files.writeString(responses, "{\"prompt\": \"p\"}\n");
    e = assertThrows(IfevalException.class, () -> IfevalData.readResponses(responses));
    assertEquals(responses + ":1: field \"response\" must be a string", e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }
}
