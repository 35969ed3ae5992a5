package dev.amalgam.convert;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads the protobuf wire format (varints, fixed 32/64-bit values, length-delimited fields and
 * groups) from a byte range. Amalgam reads SentencePiece's tokenizer.model with it instead of
 * depending on protobuf-java: only three messages and a handful of fields are needed, and unknown
 * fields are simply skipped by wire type.
 *
 * <p>Every read checks bounds; malformed input raises a {@link ConversionException} naming the
 * file, the field path being read and the byte offset.
 */
final class ProtoReader {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH_DELIMITED = 2;
  static final int START_GROUP = 3;
  static final int END_GROUP = 4;
  static final int FIXED32 = 5;

  /** Nested messages deeper than this are rejected (protobuf's default recursion limit). */
  private static final int MAX_DEPTH = 100;

  private final byte[] data;
  private final Path file;
  private final String path;
  private final int end;
  private final int depth;
  private int position;

  private ProtoReader(byte[] data, int start, int end, Path file, String path, int depth) {
    this.data = data;
    this.position = start;
    this.end = end;
    this.file = file;
    this.path = path;
    this.depth = depth;
  }

  /** A reader over a whole message. */
  static ProtoReader of(byte[] data, Path file, String messageName) {
    return new ProtoReader(data, 0, data.length, file, messageName, 0);
  }

  /** Whether bytes remain in this message. */
  boolean hasMore() {
    return position < end;
  }

  /** Offset of the next byte in the file. */
  int position() {
    return position;
  }

  /** The field path used in messages. */
  String path() {
    return path;
  }

  ConversionException error(String detail) {
    return new ConversionException(file, path, "offset " + position + ": " + detail);
  }

  /** Reads a field tag; returns {@code field << 3 | wireType}. */
  int readTag() throws ConversionException {
    int at = position;
    long tag = readVarint();
    long field = tag >>> 3;
    if (field == 0 || field > 0x1FFF_FFFF) {
      position = at;
      throw error("invalid field number " + field);
    }
    return (int) tag;
  }

  /** Reads a base-128 varint of at most 10 bytes. */
  long readVarint() throws ConversionException {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (position >= end) throw error("truncated varint");
      byte b = data[position++];
      result |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) return result;
    }
    throw error("varint longer than 10 bytes");
  }

  /** Reads a little-endian 32-bit value (fixed32, sfixed32, float). */
  int readFixed32() throws ConversionException {
    require(4, "fixed32");
    int v =
        (data[position] & 0xFF)
            | (data[position + 1] & 0xFF) << 8
            | (data[position + 2] & 0xFF) << 16
            | (data[position + 3] & 0xFF) << 24;
    position += 4;
    return v;
  }

  /** Reads a little-endian 64-bit value. */
  long readFixed64() throws ConversionException {
    long lo = readFixed32() & 0xFFFF_FFFFL;
    long hi = readFixed32() & 0xFFFF_FFFFL;
    return lo | hi << 32;
  }

  /** Reads a float field value. */
  float readFloat() throws ConversionException {
    return Float.intBitsToFloat(readFixed32());
  }

  /** Reads the length prefix of a length-delimited field and checks it fits in this message. */
  private int readLength(String what) throws ConversionException {
    long length = readVarint();
    if (length < 0 || length > end - position) {
      throw error(
          what
              + " of "
              + length
              + " bytes runs past the end of its message ("
              + (end - position)
              + " bytes left)");
    }
    return (int) length;
  }

  /** Reads a length-delimited field as bytes. */
  byte[] readBytes() throws ConversionException {
    int length = readLength("bytes field");
    byte[] out = new byte[length];
    System.arraycopy(data, position, out, 0, length);
    position += length;
    return out;
  }

  /** Reads a length-delimited field as strict UTF-8. */
  String readString() throws ConversionException {
    int length = readLength("string");
    int at = position;
    try {
      String s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(data, position, length))
              .toString();
      position += length;
      return s;
    } catch (CharacterCodingException e) {
      position = at;
      throw error("string is not valid UTF-8");
    }
  }

  /**
   * Reads a length-delimited field as an embedded message; {@code name} extends the field path for
   * messages.
   */
  ProtoReader readMessage(String name) throws ConversionException {
    if (depth + 1 > MAX_DEPTH) throw error("messages nested deeper than " + MAX_DEPTH);
    int length = readLength("message " + name);
    ProtoReader sub =
        new ProtoReader(data, position, position + length, file, path + "." + name, depth + 1);
    position += length;
    return sub;
  }

  /** Skips the value of a field whose tag was just read. */
  void skip(int tag) throws ConversionException {
    int wireType = tag & 7;
    switch (wireType) {
      case VARINT -> readVarint();
      case FIXED64 -> {
        require(8, "fixed64");
        position += 8;
      }
      case LENGTH_DELIMITED -> {
        int length = readLength("field " + (tag >>> 3));
        position += length;
      }
      case FIXED32 -> {
        require(4, "fixed32");
        position += 4;
      }
      case START_GROUP -> skipGroup(tag >>> 3, 1);
      default -> throw error("invalid wire type " + wireType + " for field " + (tag >>> 3));
    }
  }

  private void skipGroup(int field, int nesting) throws ConversionException {
    if (depth + nesting > MAX_DEPTH) throw error("groups nested deeper than " + MAX_DEPTH);
    while (true) {
      if (!hasMore()) throw error("group " + field + " is not closed");
      int tag = readTag();
      if ((tag & 7) == END_GROUP) {
        if (tag >>> 3 != field)
          throw error("group " + field + " closed by end tag of field " + (tag >>> 3));
        return;
      }
      if ((tag & 7) == START_GROUP) {
        skipGroup(tag >>> 3, nesting + 1);
      } else {
        skip(tag);
      }
    }
  }

  /** Checks that a value's wire type is the one its field declares. */
  void expectWireType(int tag, int wireType, String field) throws ConversionException {
    if ((tag & 7) != wireType) {
      throw error("field " + field + " has wire type " + (tag & 7) + ", expected " + wireType);
    }
  }

  private void require(int bytes, String what) throws ConversionException {
    if (end - position < bytes) throw error("truncated " + what);
  }
}
