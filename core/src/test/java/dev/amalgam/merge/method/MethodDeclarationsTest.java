package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.merge.config.ConfigException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The facts every method declares, as the registry reports them: the order of the 20 methods, which
 * outputs follow the base, and the exact words of every input check's errors (the CLI prints them
 * as they are).
 */
class MethodDeclarationsTest {
  private static void accepts(String method, int baseIndex, String... labels) {
    assertDoesNotThrow(
        () -> MergeMethods.forConfig(method).checkInputs(List.of(labels), baseIndex));
  }

  private static void rejects(String message, String method, int baseIndex, String... labels) {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> MergeMethods.forConfig(method).checkInputs(List.of(labels), baseIndex));
    assertEquals(message, e.getMessage());
  }

  @Test
  void registryListsMergekitsMethodsInOrder() {
    assertEquals(
        List.of(
            "linear",
            "slerp",
            "nuslerp",
            "multislerp",
            "karcher",
            "task_arithmetic",
            "ties",
            "dare_ties",
            "dare_linear",
            "breadcrumbs",
            "breadcrumbs_ties",
            "della",
            "della_linear",
            "model_stock",
            "sce",
            "ram",
            "ramplus_tl",
            "nearswap",
            "arcee_fusion",
            "passthrough"),
        MergeMethods.all().stream().map(MergeMethod::name).toList());
  }

  @Test
  void onlySlerpTaskArithmeticAndArceeFusionFollowTheBase() {
    Set<String> following =
        Set.of(
            "slerp",
            "task_arithmetic",
            "ties",
            "dare_ties",
            "dare_linear",
            "breadcrumbs",
            "breadcrumbs_ties",
            "della",
            "della_linear",
            "arcee_fusion");
    for (MergeMethod m : MergeMethods.all()) {
      assertEquals(following.contains(m.name()), m.outputFollowsBase(), m.name());
    }
  }

  @Test
  void methodsThatNeedABaseSayWhatItIsFor() {
    Map<String, String> purposes = new LinkedHashMap<>();
    purposes.put("slerp", "interpolates from base_model to one other model");
    for (String ta :
        List.of(
            "task_arithmetic",
            "ties",
            "dare_ties",
            "dare_linear",
            "breadcrumbs",
            "breadcrumbs_ties",
            "della",
            "della_linear")) {
      purposes.put(ta, "adds task vectors (model - base) to a base model");
    }
    purposes.put("model_stock", "averages the other models around base_model");
    for (String differences : List.of("sce", "ram", "ramplus_tl")) {
      purposes.put(differences, "merges the other models' differences to base_model");
    }
    purposes.put("nearswap", "swaps the other model's values into base_model where they are near");
    purposes.put("arcee_fusion", "fuses one model into base_model");
    purposes.forEach(
        (method, purpose) ->
            rejects(
                "base_model: " + method + " " + purpose + "; set base_model",
                method,
                -1,
                "a",
                "b",
                "c"));
  }

  @Test
  void aRequiredBaseAndOneOtherModel() {
    for (String method : List.of("slerp", "nearswap", "arcee_fusion")) {
      accepts(method, 1, "a", "b");
      rejects(
          "models: "
              + method
              + " merges exactly two models (the base and one other), got 3: a, b, c",
          method,
          0,
          "a",
          "b",
          "c");
      rejects(
          "models: " + method + " merges exactly two models (the base and one other), got 1: a",
          method,
          0,
          "a");
    }
  }

  @Test
  void aRequiredBaseAndAtLeastSomeOthers() {
    accepts("ties", 0, "a", "b");
    accepts("ties", 2, "a", "b", "c");
    rejects(
        "models: ties needs at least 1 model besides base_model, got 0 (inputs: a)",
        "ties",
        0,
        "a");
    rejects(
        "models: ram needs at least 1 model besides base_model, got 0 (inputs: a)", "ram", 0, "a");
    accepts("model_stock", 0, "a", "b", "c");
    rejects(
        "models: model_stock needs at least 2 models besides base_model, got 1 (inputs: a, b)",
        "model_stock",
        1,
        "a",
        "b");
  }

  @Test
  void nuslerpInterpolatesTwoModelsAndAThirdAsBase() {
    accepts("nuslerp", -1, "a", "b");
    accepts("nuslerp", 2, "a", "b", "c");
    rejects(
        "base_model: nuslerp's base_model must be a third model, not one of the two models it interpolates: a, b",
        "nuslerp",
        0,
        "a",
        "b");
    rejects(
        "models: nuslerp interpolates exactly two models (plus an optional base_model), got 3: a, b, c",
        "nuslerp",
        -1,
        "a",
        "b",
        "c");
    rejects(
        "models: nuslerp interpolates exactly two models (plus an optional base_model), got 0: a",
        "nuslerp",
        0,
        "a");
    rejects(
        "models: nuslerp interpolates exactly two models (plus an optional base_model), got 3: a, b, c, d",
        "nuslerp",
        3,
        "a",
        "b",
        "c",
        "d");
  }

  @Test
  void multislerpInterpolatesTwoOrMoreModelsBesidesAnOptionalBase() {
    accepts("multislerp", -1, "a", "b");
    accepts("multislerp", 1, "a", "b", "c");
    rejects(
        "models: multislerp interpolates two or more models besides base_model, got 1: a, b",
        "multislerp",
        0,
        "a",
        "b");
    rejects(
        "models: multislerp interpolates two or more models besides base_model, got 1: a",
        "multislerp",
        -1,
        "a");
  }

  @Test
  void linearKarcherAndPassthroughCountTheBaseAsAModel() {
    accepts("linear", -1, "a");
    accepts("linear", 0, "a", "b");
    rejects("models: linear needs at least one model", "linear", -1);
    accepts("karcher", 0, "a", "b");
    rejects(
        "models: karcher averages two or more models (base_model counts), got 1: a",
        "karcher",
        0,
        "a");
    accepts("passthrough", -1, "a");
    accepts("passthrough", 0, "a");
    rejects(
        "models: passthrough copies exactly one model, got 2 (inputs: a, b); slices (frankenmerges) are not"
            + " supported yet",
        "passthrough",
        1,
        "a",
        "b");
  }
}
