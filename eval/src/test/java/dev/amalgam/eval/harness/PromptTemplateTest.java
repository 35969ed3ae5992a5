package dev.amalgam.eval.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Template rendering and errors; few-shot selection and layout. */
class PromptTemplateTest {
  @Test
  void rendersPlaceholdersAndLiteralBraces() {
    PromptTemplate t = PromptTemplate.parse("Q: {question}\n{{json}} {options}\nAnswer:", "test");
    assertEquals(List.of("question", "options"), List.copyOf(t.placeholders()));
    assertEquals(
        "Q: why?\n{json} A. x\nAnswer:", t.render(Map.of("question", "why?", "options", "A. x")));
    // Values are inserted verbatim: braces in data are not placeholders.
    assertEquals("Q: {a}\n{json} \nAnswer:", t.render(Map.of("question", "{a}", "options", "")));
  }

  @Test
  void unknownAndMalformedPlaceholdersAreClearErrors() {
    PromptTemplate t = PromptTemplate.parse("line one\nFindings: {finding}", "my.txt");
    DataException e =
        assertThrows(
            DataException.class, () -> t.requireKnown(Set.of("findings", "uid"), "iu-xray"));
    assertEquals(
        "my.txt: unknown placeholder '{finding}' for task iu-xray; known: [findings, uid]",
        e.getMessage());
    assertThrows(DataException.class, () -> t.render(Map.of("findings", "x")));
    DataException open =
        assertThrows(DataException.class, () -> PromptTemplate.parse("a\nb {x", "f.txt"));
    assertTrue(
        open.getMessage().startsWith("f.txt: line 2: '{' without a closing '}'"),
        open.getMessage());
    assertThrows(DataException.class, () -> PromptTemplate.parse("a {x y} b", "f.txt"));
    assertThrows(DataException.class, () -> PromptTemplate.parse("a } b", "f.txt"));
    assertThrows(DataException.class, () -> PromptTemplate.parse("a {} b", "f.txt"));
  }

  @Test
  void fileTemplatesLoseOneTrailingLineBreak(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("t.txt");
    Files.writeString(f, "Answer:\n");
    assertEquals("Answer:", PromptTemplate.read(f).text());
    Files.writeString(f, "Answer:\n\n");
    assertEquals("Answer:\n", PromptTemplate.read(f).text());
    assertEquals(
        "Question: {question}\n{options}\nAnswer:", PromptTemplate.builtIn("medqa").text());
    assertNotEquals(
        PromptTemplate.builtIn("medqa").sha256(), PromptTemplate.builtIn("pubmedqa").sha256());
  }

  private static List<Example> pool(int n) {
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Example.generation("id" + i, "in" + i, "ref" + i, Map.of("input", "in" + i)));
    }
    return out;
  }

  @Test
  void fewShotIsDeterministicForASeedAndNeverShowsTheQuery() {
    List<Example> pool = pool(6);
    FewShot a = FewShot.prepare(pool, 3, 1234, true, "pool");
    FewShot b = FewShot.prepare(pool, 3, 1234, true, "pool");
    FewShot c = FewShot.prepare(pool, 3, 99, true, "pool");
    boolean differs = false;
    for (Example q : pool) {
      List<Example> shots = a.shotsFor(q);
      assertEquals(3, shots.size());
      assertTrue(
          shots.stream().noneMatch(s -> s.id().equals(q.id())), "the query is never its own shot");
      assertEquals(shots, b.shotsFor(q), "same seed, same shots");
      differs |= !shots.equals(c.shotsFor(q));
    }
    assertTrue(differs, "another seed picks other shots");
    assertThrows(
        DataException.class, () -> FewShot.prepare(pool, 6, 1, true, "pool"), "needs one spare");
    assertEquals(6, FewShot.prepare(pool, 6, 1, false, "train").shotsFor(pool.get(0)).size());
  }

  @Test
  void fewShotLayoutIsShotAnswerBlankLineQuery() {
    PromptTemplate t = PromptTemplate.parse("In: {input}\nOut:", "t");
    List<Example> pool = pool(3);
    FewShot shots = FewShot.prepare(pool, 2, 7, false, "train");
    Example query = Example.generation("q", "hello", "r", Map.of("input", "hello"));
    List<Example> picked = shots.shotsFor(query);
    String expected =
        "In: "
            + picked.get(0).input()
            + "\nOut: "
            + picked.get(0).reference()
            + "\n\n"
            + "In: "
            + picked.get(1).input()
            + "\nOut: "
            + picked.get(1).reference()
            + "\n\nIn: hello\nOut:";
    assertEquals(expected, shots.prompt(t, query));
    assertEquals("In: hello\nOut:", FewShot.prepare(pool, 0, 7, false, "train").prompt(t, query));
  }
}
