package dev.amalgam.convert;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes the protobuf wire format: the counterpart of {@link ProtoReader} for tokenizer.model
 * files.
 */
final class ProtoWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  private void tag(int field, int wireType) {
    varint((long) field << 3 | wireType);
  }

  private void varint(long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) (v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }

  /**
   * An int32/enum/bool field; negative int32 values take 10 bytes, sign-extended as protobuf
   * requires.
   */
  ProtoWriter int32(int field, int value) {
    tag(field, ProtoReader.VARINT);
    varint(value);
    return this;
  }

  /** A bool field. */
  ProtoWriter bool(int field, boolean value) {
    return int32(field, value ? 1 : 0);
  }

  /** A float field. */
  ProtoWriter float32(int field, float value) {
    tag(field, ProtoReader.FIXED32);
    int bits = Float.floatToRawIntBits(value);
    for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i) & 0xFF);
    return this;
  }

  /** A string field (UTF-8). */
  ProtoWriter string(int field, String value) {
    return bytes(field, value.getBytes(StandardCharsets.UTF_8));
  }

  /** A bytes field. */
  ProtoWriter bytes(int field, byte[] value) {
    tag(field, ProtoReader.LENGTH_DELIMITED);
    varint(value.length);
    out.write(value, 0, value.length);
    return this;
  }

  /** An embedded message field. */
  ProtoWriter message(int field, ProtoWriter message) {
    return bytes(field, message.toByteArray());
  }

  /** The bytes written so far. */
  byte[] toByteArray() {
    return out.toByteArray();
  }
}
