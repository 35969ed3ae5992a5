package dev.amalgam.fuzzing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the committed fuzz seed corpora equal to what {@link FuzzSeeds} generates. After a writer
 * changes, regenerate them with {@code mvn -B -o test -pl core -am -Dtest=FuzzSeedsTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Damalgam.fuzz.writeSeeds=true -Damalgam.fuzz.skip=true}.
 */
class FuzzSeedsTest {
  private static final Path RESOURCES =
      Path.of(System.getProperty("amalgam.repo.dir", ".."), "core", "src", "test", "resources");

  @Test
  void committedSeedsAreTheGeneratedOnes(@TempDir Path dir) throws IOException {
    List<Path> generated = FuzzSeeds.writeAll(dir);
    assertTrue(generated.size() >= 10, "seeds: " + generated);
    for (Path g : generated) {
      Path committed = RESOURCES.resolve(dir.relativize(g).toString());
      assertTrue(Files.isRegularFile(committed), committed + " is missing; regenerate the seeds");
      assertArrayEquals(
          Files.readAllBytes(g),
          Files.readAllBytes(committed),
          committed + " differs from the generated seed; regenerate the seeds");
      assertTrue(Files.size(g) < 64 << 10, g + " is too large for a seed");
    }
    try (Stream<Path> all = Files.walk(RESOURCES)) {
      long committedSeeds =
          all.filter(p -> p.toString().contains("FuzzTestInputs"))
              .filter(Files::isRegularFile)
              .filter(p -> !isFinding(p))
              .count();
      assertEquals(
          generated.size(), committedSeeds, "committed seeds the generator does not write");
    }
  }

  /** Inputs Jazzer found crashing or hanging, kept beside the seeds as regression inputs. */
  private static boolean isFinding(Path p) {
    String name = p.getFileName().toString();
    return name.startsWith("crash-") || name.startsWith("timeout-") || name.startsWith("oom-");
  }

  @Test
  @EnabledIfSystemProperty(named = "amalgam.fuzz.writeSeeds", matches = "true")
  void regenerateSeeds() throws IOException {
    FuzzSeeds.writeAll(RESOURCES);
  }
}
