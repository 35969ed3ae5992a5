package dev.amalgam.merge.config;

import java.util.ArrayDeque;
import java.util.Deque;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.ScalarEvent;

/**
 * Bounds on a configuration document, checked on snakeyaml-engine's event stream before the
 * document is composed into nodes: composing is recursive, so thousands of nested collections would
 * overflow the stack, and the parser that produces events is not. Each exceeded bound is a {@link
 * ConfigException} at the YAML path where it happened.
 */
final class YamlLimits {
  /** Largest configuration file, in bytes (and characters of a text given directly). */
  static final int MAX_DOCUMENT = 4 << 20;

  /** Deepest nesting of mappings and sequences. */
  static final int MAX_DEPTH = 64;

  /** Longest scalar, in characters (a chat template is the longest legitimate one). */
  static final int MAX_SCALAR = 256 << 10;

  private YamlLimits() {}

  /** One open mapping or sequence and where in it the events are. */
  private static final class Frame {
    final boolean mapping;
    final String path;
    boolean expectingKey = true;
    String key;
    int index;

    Frame(boolean mapping, String path) {
      this.mapping = mapping;
      this.path = path;
    }

    /** The path of the value that comes next in this collection. */
    String childPath() {
      if (!mapping) return path + "[" + index + "]";
      String k = key == null ? "?" : key;
      return path.isEmpty() ? k : path + "." + k;
    }

    /** A value (scalar or collection) of this collection ended. */
    void valueDone() {
      if (mapping) {
        expectingKey = true;
      } else {
        index++;
      }
    }
  }

  /**
   * Checks the document's nesting depth and scalar lengths.
   *
   * @throws ConfigException at the YAML path of the first exceeded bound
   * @throws org.snakeyaml.engine.v2.exceptions.YamlEngineException for invalid YAML (the caller
   *     reports it)
   */
  static void check(String yaml, LoadSettings settings) {
    if (yaml.length() > MAX_DOCUMENT) {
      throw new ConfigException(
          "", "the configuration has " + yaml.length() + " characters; at most " + MAX_DOCUMENT);
    }
    Deque<Frame> open = new ArrayDeque<>();
    for (Event event : new Parse(settings).parseString(yaml)) {
      Frame top = open.peek();
      switch (event.getEventId()) {
        case MappingStart, SequenceStart -> {
          String path = top == null ? "" : top.childPath();
          if (open.size() >= MAX_DEPTH) {
            throw new ConfigException(
                path,
                "nested more than " + MAX_DEPTH + " levels deep; a configuration is shallower");
          }
          open.push(new Frame(event.getEventId() == Event.ID.MappingStart, path));
        }
        case MappingEnd, SequenceEnd -> {
          open.pop();
          if (open.peek() != null) open.peek().valueDone();
        }
        case Scalar -> {
          String value = ((ScalarEvent) event).getValue();
          if (top != null && top.mapping && top.expectingKey) {
            if (value.length() > MAX_SCALAR) {
              throw new ConfigException(top.path, "a key of " + value.length() + " characters");
            }
            top.key = value;
            top.expectingKey = false;
          } else {
            if (value.length() > MAX_SCALAR) {
              throw new ConfigException(
                  top == null ? "" : top.childPath(),
                  "a value of "
                      + value.length()
                      + " characters; at most "
                      + MAX_SCALAR
                      + " are accepted");
            }
            if (top != null) top.valueDone();
          }
        }
        case Alias -> {
          if (top != null) {
            if (top.mapping && top.expectingKey) {
              top.key = "*alias";
              top.expectingKey = false;
            } else {
              top.valueDone();
            }
          }
        }
        default -> {
          // stream and document boundaries, comments
        }
      }
    }
  }
}
