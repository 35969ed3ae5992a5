package dev.amalgam.eval.ifeval;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The arguments of one instruction, read with errors that name the example's key, the instruction
 * id and the argument. A null value counts as absent (the Hugging Face copy of the data lists every
 * argument, mostly null). An absent argument is an error: the reference would draw a random value,
 * which no evaluation can repeat.
 */
final class Kwargs {
  /** The reference's two comparison relations. */
  static final String LESS_THAN = "less than";

  static final String AT_LEAST = "at least";

  private final String key;
  private final String id;
  private final Map<String, Object> values;

  Kwargs(String key, String id, Map<String, Object> values) {
    this.key = key;
    this.id = id;
    this.values = values;
  }

  /**
   * Rejects arguments the instruction does not take (the reference's build_description raises a
   * TypeError).
   */
  void allowOnly(String... names) {
    Set<String> unknown = new TreeSet<>();
    for (Map.Entry<String, Object> e : values.entrySet()) {
      if (e.getValue() != null && !List.of(names).contains(e.getKey())) unknown.add(e.getKey());
    }
    if (!unknown.isEmpty()) {
      throw error("unexpected kwargs " + unknown + "; this instruction takes " + List.of(names));
    }
  }

  IfevalException error(String rule) {
    return new IfevalException("key " + key + ", instruction " + id + ": " + rule);
  }

  private Object required(String name) {
    Object v = values.get(name);
    if (v == null) {
      throw error("kwargs '" + name + "' is missing (the reference would draw it at random)");
    }
    return v;
  }

  int integer(String name) {
    Object v = required(name);
    if (v instanceof Integer || v instanceof Long || v instanceof Short) {
      long n = ((Number) v).longValue();
      if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE)
        throw error("kwargs '" + name + "' = " + n + " is too large");
      return (int) n;
    }
    throw error("kwargs '" + name + "' must be an integer, not " + describe(v));
  }

  /** A non-negative integer: the reference replaces negative thresholds by random ones. */
  int count(String name) {
    int n = integer(name);
    if (n < 0)
      throw error(
          "kwargs '" + name + "' = " + n + " is negative (the reference would draw it at random)");
    return n;
  }

  String string(String name) {
    Object v = required(name);
    if (v instanceof String s) return s;
    throw error("kwargs '" + name + "' must be a string, not " + describe(v));
  }

  List<String> strings(String name) {
    Object v = required(name);
    if (v instanceof List<?> list && !list.isEmpty()) {
      List<String> out = new ArrayList<>();
      for (Object o : list) {
        if (!(o instanceof String s))
          throw error("kwargs '" + name + "' must hold strings, not " + describe(o));
        out.add(s);
      }
      return out;
    }
    throw error("kwargs '" + name + "' must be a non-empty list of strings, not " + describe(v));
  }

  /** "less than" or "at least", the only relations the reference accepts. */
  String relation(String name) {
    String r = string(name);
    if (!r.equals(LESS_THAN) && !r.equals(AT_LEAST)) {
      throw error("kwargs '" + name + "' = \"" + r + "\" must be \"less than\" or \"at least\"");
    }
    return r;
  }

  private static String describe(Object v) {
    if (v instanceof String s) return "the string \"" + s + "\"";
    if (v instanceof List) return "a list";
    if (v instanceof Map) return "an object";
    return v.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + " " + v;
  }

  /** Applies a "less than" / "at least" relation as the reference does. */
  static boolean compare(int actual, String relation, int threshold) {
    return relation.equals(LESS_THAN) ? actual < threshold : actual >= threshold;
  }
}
