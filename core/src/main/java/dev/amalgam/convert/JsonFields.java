package dev.amalgam.convert;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Typed access to the fields of one JSON file, turning type errors into {@link
 * ConversionException}s that name the file and the key. A JSON {@code null} counts as absent, as it
 * does for transformers.
 */
final class JsonFields {
  private final Path file;

  JsonFields(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  ConversionException error(String key, String detail) {
    return new ConversionException(file, key, detail);
  }

  /** The value of a key, empty when absent or null. */
  Optional<JsonNode> get(JsonNode object, String key) {
    JsonNode v = object.get(key);
    return v == null || v.isNull() ? Optional.empty() : Optional.of(v);
  }

  /** An integer in [min, max], empty when absent. */
  OptionalLong optLong(JsonNode object, String key, long min, long max) throws ConversionException {
    Optional<JsonNode> v = get(object, key);
    if (v.isEmpty()) return OptionalLong.empty();
    JsonNode n = v.get();
    if (!n.isIntegralNumber()) {
      throw error(key, "expected an integer, got " + describe(n));
    }
    if (!n.canConvertToLong() || n.longValue() < min || n.longValue() > max) {
      throw error(key, "value " + n.asText() + " is outside [" + min + ", " + max + "]");
    }
    return OptionalLong.of(n.longValue());
  }

  /** A required integer in [min, max]. */
  long requireLong(JsonNode object, String key, long min, long max) throws ConversionException {
    OptionalLong v = optLong(object, key, min, max);
    if (v.isEmpty()) throw error(key, "required key is missing");
    return v.getAsLong();
  }

  /** A finite number, empty when absent. */
  Optional<Double> optDouble(JsonNode object, String key) throws ConversionException {
    Optional<JsonNode> v = get(object, key);
    if (v.isEmpty()) return Optional.empty();
    if (!v.get().isNumber()) throw error(key, "expected a number, got " + describe(v.get()));
    double d = v.get().doubleValue();
    if (!Double.isFinite(d)) throw error(key, "value " + v.get().asText() + " is not finite");
    return Optional.of(d);
  }

  /** A required finite number. */
  double requireDouble(JsonNode object, String key) throws ConversionException {
    return optDouble(object, key).orElseThrow(() -> error(key, "required key is missing"));
  }

  /** A string, empty when absent. */
  Optional<String> optString(JsonNode object, String key) throws ConversionException {
    Optional<JsonNode> v = get(object, key);
    if (v.isEmpty()) return Optional.empty();
    if (!v.get().isTextual()) throw error(key, "expected a string, got " + describe(v.get()));
    return Optional.of(v.get().textValue());
  }

  /** A boolean, empty when absent. */
  Optional<Boolean> optBoolean(JsonNode object, String key) throws ConversionException {
    Optional<JsonNode> v = get(object, key);
    if (v.isEmpty()) return Optional.empty();
    if (!v.get().isBoolean()) throw error(key, "expected true or false, got " + describe(v.get()));
    return Optional.of(v.get().booleanValue());
  }

  /** An object, empty when absent. */
  Optional<JsonNode> optObject(JsonNode object, String key) throws ConversionException {
    Optional<JsonNode> v = get(object, key);
    if (v.isPresent() && !v.get().isObject())
      throw error(key, "expected an object, got " + describe(v.get()));
    return v;
  }

  /** An array, empty when absent. */
  Optional<JsonNode> optArray(JsonNode object, String key) throws ConversionException {
    Optional<JsonNode> v = get(object, key);
    if (v.isPresent() && !v.get().isArray())
      throw error(key, "expected an array, got " + describe(v.get()));
    return v;
  }

  /** The JSON type and a short rendering of a value, for messages. */
  static String describe(JsonNode n) {
    String text = n.toString();
    if (text.length() > 60) text = text.substring(0, 57) + "...";
    return n.getNodeType() + " " + text;
  }
}
