package dev.amalgam.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * An application that embeds amalgam-core gets JavaCPP, Jackson and snakeyaml-engine at run time,
 * and nothing else: no command-line, evaluation or llama.cpp library. The build writes core's
 * resolved runtime dependencies to target/runtime-dependencies.txt (maven-dependency-plugin's list
 * goal); this test reads that file.
 */
class CoreDependenciesTest {
  private static final Set<String> ALLOWED =
      Set.of(
          "org.bytedeco:javacpp",
          "com.fasterxml.jackson.core:jackson-databind",
          "com.fasterxml.jackson.core:jackson-core",
          "com.fasterxml.jackson.core:jackson-annotations",
          "org.snakeyaml:snakeyaml-engine");
  private static final Pattern ARTIFACT = Pattern.compile("^\\s+([\\w.-]+):([\\w.-]+):jar:");

  @Test
  void runtimeDependenciesAreJavacppJacksonAndSnakeyamlOnly() throws IOException {
    Path list =
        Path.of(System.getProperty("amalgam.core.dependencies", "target/runtime-dependencies.txt"));
    assertTrue(
        Files.isRegularFile(list),
        list + " is missing: the build's dependency:list step did not run");
    Set<String> found = new TreeSet<>();
    for (String line : Files.readAllLines(list)) {
      Matcher m = ARTIFACT.matcher(line);
      if (m.find()) found.add(m.group(1) + ":" + m.group(2));
    }
    assertEquals(new TreeSet<>(ALLOWED), found, "amalgam-core's runtime dependencies");
  }
}
