package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.merge.config.ConfigException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The shared input check: placeholders are filled once, and a rule's errors must fit what it does
 * with the base.
 */
class InputRuleTest {
  @Test
  void labelsAreInsertedAsWritten() {
    InputRule rule =
        InputRule.baseMerged(1, 1, "{method} takes one model, got {count} of {total}: {inputs}");
    // a label that looks like a placeholder or a regex group reference stays as it is
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> rule.check("copy", List.of("{method}/$1", "{count}"), -1));
    assertEquals("models: copy takes one model, got 2 of 2: {method}/$1, {count}", e.getMessage());
  }

  @Test
  void aRequiredBaseIsNotCountedAndAMergedOneIs() {
    InputRule required = InputRule.baseAndAtLeast(2, "needs a base");
    required.check("m", List.of("a", "b", "c"), 1);
    assertThrows(ConfigException.class, () -> required.check("m", List.of("a", "b"), 1));
    InputRule merged = InputRule.baseMerged(2, 2, "{method}: {count}");
    merged.check("m", List.of("a", "b"), 1);
    assertEquals(
        "models: m: 3",
        assertThrows(ConfigException.class, () -> merged.check("m", List.of("a", "b", "c"), 1))
            .getMessage());
  }

  @Test
  void errorsMustMatchTheBasesRole() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new InputRule(
                InputRule.Base.REQUIRED, 1, 1, Optional.empty(), Optional.empty(), "{method}"));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new InputRule(
                InputRule.Base.OPTIONAL,
                1,
                1,
                Optional.of("{method}"),
                Optional.empty(),
                "{method}"));
    assertThrows(
        IllegalArgumentException.class,
        () -> InputRule.baseMerged(1, 1, "{method}").withBaseAmongModels("{method}"));
  }
}
