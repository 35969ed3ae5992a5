package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.testing.TestAssets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code amalgam ifeval}: outputs, the per-example file and exit code 2 for bad input. */
class IfevalCommandTest {
  private static final String INPUT =
      "{\"key\": 1, \"prompt\": \"Say hi\", \"instruction_id_list\":"
          + " [\"punctuation:no_comma\", \"startend:quotation\"], \"kwargs\": [{}, {}]}\n"
          + "{\"key\": 2, \"prompt\": \"Say bye\", \"instruction_id_list\": [\"punctuation:no_comma\"], \"kwargs\": [{}]}\n";
  private static final String RESPONSES =
      "{\"prompt\": \"Say hi\", \"response\": \"Here:\\n\\\"hi\\\"\"}\n"
          + "{\"prompt\": \"Say bye\", \"response\": \"bye, bye\"}\n";

  private static Path write(Path dir, String name, String content) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, content);
    return p;
  }

  @Test
  void jsonOutputAndPerExampleFile(@TempDir Path dir) throws IOException {
    Path in = write(dir, "in.jsonl", INPUT);
    Path responses = write(dir, "r.jsonl", RESPONSES);
    Path perExample = dir.resolve("per.jsonl");
    CliHarness.Run run =
        CliHarness.run(
            "ifeval",
            "--input",
            in.toString(),
            "--responses",
            responses.toString(),
            "--json",
            "--per-example",
            perExample.toString());
    run.assertOk();
    JsonNode n = new ObjectMapper().readTree(run.out());
    assertEquals(
        List.of(
            "prompt_level_strict",
            "inst_level_strict",
            "prompt_level_loose",
            "inst_level_loose",
            "count"),
        fieldNames(n));
    assertEquals(0.0, n.get("prompt_level_strict").asDouble());
    assertEquals(1.0 / 3, n.get("inst_level_strict").asDouble(), 1e-12);
    assertEquals(0.5, n.get("prompt_level_loose").asDouble());
    assertEquals(2.0 / 3, n.get("inst_level_loose").asDouble(), 1e-12);
    assertEquals(2, n.get("count").asInt());
    List<String> lines = Files.readAllLines(perExample);
    assertEquals(2, lines.size());
    assertEquals(
        "{\"key\":1,\"prompt\":\"Say hi\",\"instruction_id_list\":[\"punctuation:no_comma\","
            + "\"startend:quotation\"],\"follow_instruction_list_strict\":[true,false],"
            + "\"follow_instruction_list_loose\":[true,true]}",
        lines.get(0));
    try (var files = Files.list(dir)) {
      assertEquals(3, files.count(), "no temporary file left behind");
    }
  }

  @Test
  void textOutputHasTheFourAccuraciesAndGroups(@TempDir Path dir) throws IOException {
    CliHarness.Run run =
        CliHarness.run(
            "ifeval",
            "--input",
            write(dir, "in.jsonl", INPUT).toString(),
            "--responses",
            write(dir, "r.jsonl", RESPONSES).toString());
    run.assertOk();
    assertTrue(run.out().contains("prompt_level_strict 0.0000 (0)"), run.out());
    assertTrue(run.out().contains("inst_level_loose    0.6667 (2)"), run.out());
    assertTrue(run.out().contains("punctuation               2   0.5000   0.5000"), run.out());
  }

  @Test
  void badInputExitsWithTwoAndOneLine(@TempDir Path dir) throws IOException {
    Path in = write(dir, "in.jsonl", INPUT);
    Path responses = write(dir, "r.jsonl", RESPONSES);
    CliHarness.run(
            "ifeval",
            "--input",
            dir.resolve("missing.jsonl").toString(),
            "--responses",
            responses.toString())
        .assertInvalid("no such file", "missing.jsonl");
    Path malformed = write(dir, "bad.jsonl", INPUT + "{\"key\": 3,\n");
    CliHarness.run("ifeval", "--input", malformed.toString(), "--responses", responses.toString())
        .assertInvalid("bad.jsonl:3: not valid JSON");
    Path unknown =
        write(dir, "unknown.jsonl", INPUT.replace("startend:quotation", "startend:quotes"));
    CliHarness.run("ifeval", "--input", unknown.toString(), "--responses", responses.toString())
        .assertInvalid("unknown.jsonl:1: key 1: unknown instruction id \"startend:quotes\"");
    Path partial = write(dir, "partial.jsonl", RESPONSES.lines().findFirst().orElseThrow() + "\n");
    CliHarness.run("ifeval", "--input", in.toString(), "--responses", partial.toString())
        .assertInvalid("key 2: no response", "--skip-missing");
    CliHarness.Run skipped =
        CliHarness.run(
            "ifeval",
            "--input",
            in.toString(),
            "--responses",
            partial.toString(),
            "--skip-missing",
            "--json");
    skipped.assertOk();
    assertTrue(skipped.err().contains("key 2 has no response; left out"), skipped.err());
    assertTrue(skipped.out().contains("\"count\":1"), skipped.out());
    assertFalse(Files.exists(dir.resolve("per.jsonl")));
  }

  @Test
  void realDataWhenPresent() {
    Path data = TestAssets.externalData("ifeval/data");
    CliHarness.Run run =
        CliHarness.run(
            "ifeval",
            "--input",
            data.resolve("input_data.jsonl").toString(),
            "--responses",
            data.resolve("input_response_data_gpt4_20231107_145030.jsonl").toString(),
            "--skip-missing");
    run.assertOk();
    assertTrue(run.out().contains("prompt_level_loose  0.7981 (431)"), run.out());
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> names = new java.util.ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
