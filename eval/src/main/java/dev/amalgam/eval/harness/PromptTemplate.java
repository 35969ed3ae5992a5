package dev.amalgam.eval.harness;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A prompt template with {@code {field}} placeholders, e.g. {@code Findings:
 * {findings}\n\nImpression:}.
 *
 * <p>Rules: a placeholder is {@code {} + a name of letters, digits and {@code _} + {@code }};
 * {@code {{} and {@code }}} write a literal brace; any other brace is an error. Rendering inserts
 * the field value verbatim (no escaping, no trimming). A template read from a file loses exactly
 * one trailing line break, which editors add, so a template can end right after {@code Answer:}
 * where the answer continues. Written by hand because a general template engine (Mustache,
 * Velocity) brings loops, escaping and silent empty output for unknown names, which a benchmark
 * prompt must not have.
 */
public final class PromptTemplate {
  private final String text;
  private final String source;
  private final List<Object> parts;
  private final Set<String> placeholders;

  private PromptTemplate(String text, String source, List<Object> parts, Set<String> placeholders) {
    this.text = text;
    this.source = source;
    this.parts = parts;
    this.placeholders = placeholders;
  }

  /**
   * Parses a template.
   *
   * @param source where the text comes from (a file or resource name), used in error messages
   * @throws DataException for an unmatched brace or an empty or invalid placeholder name, naming
   *     source and line
   */
  public static PromptTemplate parse(String text, String source) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(source, "source");
    List<Object> parts = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    StringBuilder literal = new StringBuilder();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '{' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
        literal.append('{');
        i += 2;
      } else if (c == '}' && i + 1 < text.length() && text.charAt(i + 1) == '}') {
        literal.append('}');
        i += 2;
      } else if (c == '{') {
        int close = text.indexOf('}', i + 1);
        if (close < 0)
          throw error(
              source, text, i, "'{' without a closing '}' (write '{{' for a literal brace)");
        String name = text.substring(i + 1, close);
        if (!name.matches("[A-Za-z0-9_]+")) {
          throw error(
              source,
              text,
              i,
              "placeholder '{"
                  + name
                  + "}' is not a name of letters, digits and '_'"
                  + " (write '{{' for a literal brace)");
        }
        if (literal.length() > 0) {
          parts.add(literal.toString());
          literal.setLength(0);
        }
        parts.add(new Placeholder(name));
        names.add(name);
        i = close + 1;
      } else if (c == '}') {
        throw error(source, text, i, "'}' without an opening '{' (write '}}' for a literal brace)");
      } else {
        literal.append(c);
        i++;
      }
    }
    if (literal.length() > 0) parts.add(literal.toString());
    return new PromptTemplate(
        text, source, List.copyOf(parts), java.util.Collections.unmodifiableSet(names));
  }

  /** Reads a UTF-8 template file, dropping one trailing line break ({@code \n} or {@code \r\n}). */
  public static PromptTemplate read(Path file) {
    try {
      return parse(
          dropTrailingLineBreak(Files.readString(file, StandardCharsets.UTF_8)), file.toString());
    } catch (IOException e) {
      throw new DataException(file + ": cannot read the template: " + e.getMessage(), e);
    }
  }

  /**
   * The default template of a built-in task, shipped as resource {@code
   * dev/amalgam/eval/templates/<task>.txt}.
   */
  public static PromptTemplate builtIn(String task) {
    String name = "/dev/amalgam/eval/templates/" + task + ".txt";
    try (InputStream in = PromptTemplate.class.getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException("missing template resource " + name);
      return parse(
          dropTrailingLineBreak(new String(in.readAllBytes(), StandardCharsets.UTF_8)),
          "template " + task);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read template resource " + name, e);
    }
  }

  private static String dropTrailingLineBreak(String s) {
    if (s.endsWith("\r\n")) return s.substring(0, s.length() - 2);
    if (s.endsWith("\n")) return s.substring(0, s.length() - 1);
    return s;
  }

  /** The template text as written (recorded in metrics.json). */
  public String text() {
    return text;
  }

  /** Where the template came from. */
  public String source() {
    return source;
  }

  /** The placeholder names in order of first use. */
  public Set<String> placeholders() {
    return placeholders;
  }

  /** Hex SHA-256 of the UTF-8 template text, to tell templates apart in reports. */
  public String sha256() {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /**
   * Checks every placeholder against the fields a task provides, so a typo fails before any model
   * is loaded.
   *
   * @throws DataException naming the template, the unknown placeholder and the known fields
   */
  public void requireKnown(Set<String> fields, String task) {
    for (String name : placeholders) {
      if (!fields.contains(name)) throw unknown(name, fields, task);
    }
  }

  /**
   * Fills in the placeholders.
   *
   * @throws DataException when a placeholder has no value in {@code fields}
   */
  public String render(Map<String, String> fields) {
    StringBuilder out = new StringBuilder();
    for (Object part : parts) {
      if (part instanceof Placeholder) {
        String name = ((Placeholder) part).name;
        String value = fields.get(name);
        if (value == null) throw unknown(name, fields.keySet(), null);
        out.append(value);
      } else {
        out.append((String) part);
      }
    }
    return out.toString();
  }

  private DataException unknown(String name, Set<String> fields, String task) {
    return new DataException(
        source
            + ": unknown placeholder '{"
            + name
            + "}'"
            + (task == null ? "" : " for task " + task)
            + "; known: "
            + new TreeSet<>(fields));
  }

  private static DataException error(String source, String text, int offset, String rule) {
    int line = 1;
    for (int i = 0; i < offset; i++) if (text.charAt(i) == '\n') line++;
    return new DataException(source + ": line " + line + ": " + rule);
  }

  private static final class Placeholder {
    final String name;

    Placeholder(String name) {
      this.name = name;
    }
  }
}
