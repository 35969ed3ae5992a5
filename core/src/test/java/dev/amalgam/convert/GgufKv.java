package dev.amalgam.convert;

import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufValueType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads just the key-value section of a small GGUF file, so these tests can use stories260K's real
 * tokenizer metadata without depending on the GGUF reader (written in parallel elsewhere).
 */
final class GgufKv {
  private GgufKv() {}

  static GgufMetadata read(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    if (b.getInt() != 0x46554747) throw new IOException(file + ": not GGUF");
    int version = b.getInt();
    if (version != 3 && version != 2) throw new IOException(file + ": version " + version);
    b.getLong(); // tensor count
    long kvCount = b.getLong();
    GgufMetadata m = new GgufMetadata();
    for (long i = 0; i < kvCount; i++) {
      String key = string(b);
      GgufValueType type = GgufValueType.fromId(b.getInt()).orElseThrow();
      m.put(key, value(b, type));
    }
    return m;
  }

  private static String string(ByteBuffer b) {
    byte[] s = new byte[Math.toIntExact(b.getLong())];
    b.get(s);
    return new String(s, StandardCharsets.UTF_8);
  }

  private static GgufValue value(ByteBuffer b, GgufValueType type) {
    if (type == GgufValueType.ARRAY) {
      GgufValueType element = GgufValueType.fromId(b.getInt()).orElseThrow();
      int n = Math.toIntExact(b.getLong());
      switch (element) {
        case STRING -> {
          String[] s = new String[n];
          for (int i = 0; i < n; i++) s[i] = string(b);
          return GgufValue.strings(s);
        }
        case FLOAT32 -> {
          float[] f = new float[n];
          for (int i = 0; i < n; i++) f[i] = b.getFloat();
          return GgufValue.float32s(f);
        }
        default -> {
          long[] v = new long[n];
          for (int i = 0; i < n; i++) v[i] = integer(b, element);
          return GgufValue.integers(element, v);
        }
      }
    }
    return switch (type) {
      case STRING -> GgufValue.string(string(b));
      case FLOAT32 -> GgufValue.float32(b.getFloat());
      case FLOAT64 -> new GgufValue(type, null, b.getDouble());
      case BOOL -> GgufValue.bool(b.get() != 0);
      default -> new GgufValue(type, null, integer(b, type));
    };
  }

  private static long integer(ByteBuffer b, GgufValueType type) {
    return switch (type) {
      case UINT8 -> b.get() & 0xFF;
      case INT8 -> b.get();
      case UINT16 -> b.getShort() & 0xFFFF;
      case INT16 -> b.getShort();
      case UINT32 -> b.getInt() & 0xFFFF_FFFFL;
      case INT32 -> b.getInt();
      case UINT64, INT64 -> b.getLong();
      default -> throw new IllegalArgumentException(type.toString());
    };
  }
}
