package dev.amalgam.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.merge.config.MergeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sweep file reader, the grid it expands to, and the merge configurations of its points. */
class SweepReaderTest {
  @TempDir Path dir;
  private final List<String> warnings = new ArrayList<>();

  private static final String VALID =
      String.join(
          "\n",
          "models:",
          "  - {name: clinical, path: a.gguf}",
          "  - {name: instruct, path: b.gguf}",
          "grid:",
          "  methods: [linear, slerp, ties]",
          "  t: {from: 0.1, to: 0.3, step: 0.1}",
          "  weight: [0.5]",
          "  density:",
          "    default: {from: 0.2, to: 0.8, count: 2}",
          "  refine: 2",
          "evaluation:",
          "  threads: 2",
          "  tasks:",
          "    - {task: mts-dialog, data: data, limit: 5}",
          "    - {task: ifeval, data: data}",
          "    - {task: jsonl, name: mimic-bhc, data: missing.jsonl, optional: true}",
          "recommend: {tolerance: 0.05}",
          "slurm: {partition: gpu, gres: 'gpu:1', launcher: /opt/amalgam/amalgam}",
          "");

  @BeforeEach
  void inputs() throws IOException {
    Files.writeString(dir.resolve("a.gguf"), "x");
    Files.writeString(dir.resolve("b.gguf"), "y");
    Files.createDirectories(dir.resolve("data"));
  }

  private SweepSpec read(String yaml) throws IOException {
    Path file = dir.resolve("study.yml");
    Files.writeString(file, yaml);
    return SweepReader.read(file, warnings);
  }

  private void assertError(String yaml, String message) {
    SweepException e = assertThrows(SweepException.class, () -> read(yaml));
    assertTrue(e.getMessage().startsWith(dir.resolve("study.yml") + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(message), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
  }

  @Test
  void readsEverySectionWithDefaultsAndResolvesPathsAgainstTheFile() throws IOException {
    SweepSpec spec = read(VALID);
    assertEquals("study", spec.name());
    assertEquals("clinical", spec.base());
    assertEquals(dir.resolve("a.gguf"), spec.models().get(0).path());
    assertEquals(List.of(0.1, 0.2, 0.3), spec.grid().axes().get("t").get(""));
    assertEquals(List.of(0.2, 0.8), spec.grid().axes().get("density").get(""));
    assertEquals(2, spec.grid().refine());
    assertEquals(2, spec.evaluation().tasks().size(), "the optional task without data is left out");
    assertEquals(1, warnings.size());
    assertTrue(warnings.get(0).contains("mimic-bhc left out"), warnings.get(0));
    SweepSpec.TaskSpec clinical = spec.evaluation().tasks().get(0);
    assertEquals("clinical", clinical.objective());
    assertEquals("composite", clinical.metric());
    SweepSpec.TaskSpec ifeval = spec.evaluation().tasks().get(1);
    assertEquals("instruction", ifeval.objective());
    assertEquals("prompt_level_strict_acc", ifeval.metric());
    assertNull(ifeval.limit());
    assertEquals("within-tolerance", spec.recommend().rule());
    assertEquals("instruct", spec.recommend().reference());
    assertEquals(0.05, spec.recommend().tolerance());
    assertEquals("gpu:1", spec.slurm().gres());
    assertEquals(List.of("/opt/amalgam/amalgam"), spec.slurm().launcher());
    assertEquals(2, spec.slurm().maxRetries());
    assertEquals(false, spec.output().keep());
  }

  @Test
  void expandsTheGridWithTheInputsFirst() throws IOException {
    List<GridPoint> grid = Grid.expand(read(VALID));
    List<String> labels = grid.stream().map(GridPoint::label).toList();
    assertEquals(
        List.of(
            "input clinical",
            "input instruct",
            "linear t=0.1",
            "linear t=0.2",
            "linear t=0.3",
            "slerp t=0.1",
            "slerp t=0.2",
            "slerp t=0.3",
            "ties weight=0.5 density=0.2",
            "ties weight=0.5 density=0.8"),
        labels);
    assertEquals(0.0, grid.get(0).t());
    assertEquals(1.0, grid.get(1).t());
    for (int i = 0; i < grid.size(); i++) assertEquals(i, grid.get(i).index());
    GridPoint back = GridPoint.fromJson(grid.get(9).toJson());
    assertEquals(grid.get(9), back);
  }

  @Test
  void perFilterValuesMultiplyAndBecomeMergekitRules() throws IOException {
    SweepSpec spec =
        read(
            VALID
                .replace(
                    "  t: {from: 0.1, to: 0.3, step: 0.1}",
                    "  t: {self_attn: [0.2, 0.4], mlp: [0.6], default: 0.5}")
                .replace("[linear, slerp, ties]", "[slerp]"));
    List<GridPoint> grid = Grid.expand(spec);
    assertEquals(
        List.of(
            "slerp t[self_attn]=0.2 t[mlp]=0.6 t=0.5", "slerp t[self_attn]=0.4 t[mlp]=0.6 t=0.5"),
        grid.subList(2, 4).stream().map(GridPoint::label).toList());
    assertEquals(0.5, grid.get(3).t(), "the position is the mean over the filters");
    String yaml = MergeStep.configYaml(spec, grid.get(2), m -> m.path().toString());
    assertTrue(
        yaml.contains(
            "t: [{filter: \"self_attn\", value: 0.2}, {filter: \"mlp\", value: 0.6}, {value: 0.5}]"),
        yaml);
    MergeConfig config = ConfigReader.parse(yaml, "point", dir);
    assertEquals("slerp", config.mergeMethod());
  }

  @Test
  void everyMethodsConfigurationIsValidMergekitYaml() throws IOException {
    SweepSpec spec =
        read(
            VALID.replace(
                "[linear, slerp, ties]",
                "[linear, slerp, task_arithmetic, ties, dare_ties, dare_linear]"));
    for (GridPoint p : Grid.expand(spec)) {
      if (p.isInput()) continue;
      String yaml = MergeStep.configYaml(spec, p, m -> m.path().toString());
      assertEquals(p.method(), ConfigReader.parse(yaml, p.label(), dir).mergeMethod(), yaml);
    }
    GridPoint linear = Grid.expand(spec).get(2);
    String yaml = MergeStep.configYaml(spec, linear, m -> m.name());
    assertEquals(
        "merge_method: linear\nmodels:\n  - model: \"clinical\"\n    parameters:\n      weight: 0.9\n"
            + "  - model: \"instruct\"\n    parameters:\n      weight: 0.1\n",
        yaml);
  }

  @Test
  void errorsNameTheFileAndTheYamlPath() {
    assertError(VALID.replace("step: 0.1}", "step: x}"), "grid.t.step: not a number: x");
    assertError(
        VALID.replace("[linear, slerp, ties]", "[linear, nearswap]"),
        "grid.methods[1]: unknown method 'nearswap'");
    assertError(
        VALID.replace("  refine: 2\n", "  refine: 2\n  refin: 3\n"), "grid.refin: unknown key");
    assertError(VALID.replace("path: b.gguf", "path: nope.gguf"), "models[1].path: no such model:");
    assertError(
        VALID.replace("task: ifeval, data: data}", "task: ifeval, data: gone}"),
        "evaluation.tasks[1].data: no such file or folder");
    assertError(
        VALID.replace("weight: [0.5]", "weight: [0.5, 0.5]"),
        "grid.weight: the value 0.5 is given twice");
    assertError(VALID.replace("  weight: [0.5]\n", ""), "grid.weight: required by method ties");
    assertError(
        VALID.replace("{tolerance: 0.05}", "{rule: best}"),
        "recommend.rule: one of within-tolerance");
    assertError(VALID + "base: other\n", "base: no model is named 'other'");
    assertError(
        VALID.replace("density:\n    default:", "density:\n    mlp:"),
        "grid.density: per-filter values need a default");
    assertError("models: [\n", "not valid YAML");
  }

  @Test
  void aMissingFileIsOneLine() {
    SweepException e =
        assertThrows(
            SweepException.class, () -> SweepReader.read(dir.resolve("none.yml"), warnings));
    assertEquals("sweep file " + dir.resolve("none.yml") + " does not exist", e.getMessage());
    assertTrue(Map.of().isEmpty());
  }
}
