package dev.amalgam.io.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * GGUF key-value metadata in file order. Keys are unique; {@link #put} replaces a value in place
 * (keeping its position) and appends new keys. Typed getters return empty when the key is absent
 * and throw {@link IllegalStateException} when it holds another type.
 */
public final class GgufMetadata {
  /**
   * gguf.h: the alignment key, UINT32, default {@value #DEFAULT_ALIGNMENT} ({@link
   * GgufKeys#ALIGNMENT}).
   */
  public static final String ALIGNMENT = GgufKeys.ALIGNMENT;

  /** Default data alignment in bytes. */
  public static final int DEFAULT_ALIGNMENT = 32;

  /** The required architecture key ({@link GgufKeys#ARCHITECTURE}). */
  public static final String ARCHITECTURE = GgufKeys.ARCHITECTURE;

  private final LinkedHashMap<String, GgufValue> entries = new LinkedHashMap<>();

  /** An empty set. */
  public GgufMetadata() {}

  /** A copy of {@code other}. */
  public GgufMetadata(GgufMetadata other) {
    entries.putAll(other.entries);
  }

  /** Sets a key; an existing key keeps its position. */
  public GgufMetadata put(String key, GgufValue value) {
    if (key == null || key.isEmpty()) throw new IllegalArgumentException("empty GGUF key");
    entries.put(key, java.util.Objects.requireNonNull(value, "value"));
    return this;
  }

  /** Removes a key if present. */
  public GgufMetadata remove(String key) {
    entries.remove(key);
    return this;
  }

  /** The value of a key. */
  public Optional<GgufValue> get(String key) {
    return Optional.ofNullable(entries.get(key));
  }

  /** Whether a key is present. */
  public boolean contains(String key) {
    return entries.containsKey(key);
  }

  /** The integer value of a key. */
  public Optional<Long> getLong(String key) {
    return get(key).map(GgufValue::asLong);
  }

  /** The string value of a key. */
  public Optional<String> getString(String key) {
    return get(key).map(GgufValue::asString);
  }

  /** A FLOAT32/FLOAT64/integer value of a key, as a double. */
  public Optional<Double> getDouble(String key) {
    return get(key).map(GgufValue::asDouble);
  }

  /** The boolean value of a key. */
  public Optional<Boolean> getBoolean(String key) {
    return get(key).map(GgufValue::asBoolean);
  }

  /** The data alignment this metadata declares ({@value #DEFAULT_ALIGNMENT} when absent). */
  public int alignment() {
    return getLong(ALIGNMENT).map(Math::toIntExact).orElse(DEFAULT_ALIGNMENT);
  }

  /** Entries in file order (unmodifiable view). */
  public Map<String, GgufValue> entries() {
    return Collections.unmodifiableMap(entries);
  }

  /** Number of keys. */
  public int size() {
    return entries.size();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GgufMetadata m && entries.equals(m.entries);
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  @Override
  public String toString() {
    return "GgufMetadata" + entries;
  }
}
