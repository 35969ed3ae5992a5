package dev.amalgam.eval.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CompositeTest {
  private static final Map<String, Double> METRICS =
      Map.of("rougeL", 0.30, "bleu", 6.0, "meteor", 0.25, "bertscore_f", 0.85, "rouge1", 0.4);

  @Test
  void defaultIsTheMeanOfFourComponentsOnAHundredPointScale() {
    Composite c = Composite.defaults();
    assertEquals((30.0 + 6.0 + 25.0 + 85.0) / 4, c.compute(METRICS), 1e-12);
    assertEquals("mean(100*rougeL, bleu, 100*meteor, 100*bertscore_f)", c.definition());
    assertEquals(Composite.DEFAULT_SPEC, c.spec());
  }

  @Test
  void weightsAndBareNames() {
    Composite c = Composite.parse("rougeL:2, bleu");
    assertEquals((2 * 30.0 + 6.0) / 3, c.compute(METRICS), 1e-12);
    assertEquals("(2*100*rougeL + 1*bleu) / 3", c.definition());
    assertEquals(List.of("bleu"), Composite.parse("rouge1,bleu").missing(Set.of("rouge1")));
  }

  @Test
  void errorsNameTheComponent() {
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> Composite.parse("rougeX:1"))
            .getMessage()
            .contains("unknown component 'rougeX'"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> Composite.parse("bleu:-1"))
            .getMessage()
            .contains("must be positive"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> Composite.parse("bleu:x"))
            .getMessage()
            .contains("not a number"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> Composite.parse("bleu,bleu"))
            .getMessage()
            .contains("twice"));
    assertThrows(IllegalArgumentException.class, () -> Composite.parse(" , "));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> Composite.parse("meteor").compute(Map.of("bleu", 1.0)))
            .getMessage()
            .contains("meteor was not computed"));
  }
}
