package dev.amalgam.io.gguf;

import dev.amalgam.io.FormatException;
import dev.amalgam.io.FormatException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Sequential little-endian reads of a GGUF header through a heap buffer refilled from the file
 * channel, so that a header of any size (Llama-3's holds ~10 MB of token strings) is parsed with
 * few system calls. Every read checks the end of the file first and fails with {@link
 * Reason#TRUNCATED} naming what was being read.
 */
final class HeaderInput {
  private static final int BUFFER_BYTES = 1 << 20;

  private final Path path;
  private final FileChannel channel;
  private final long fileSize;
  private final ByteBuffer buffer =
      ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
  private long bufferStart; // file offset of buffer index 0

  HeaderInput(Path path, FileChannel channel, long fileSize) {
    this.path = path;
    this.channel = channel;
    this.fileSize = fileSize;
    buffer.limit(0);
  }

  /** File offset of the next byte to read. */
  long position() {
    return bufferStart + buffer.position();
  }

  /** Bytes between the read position and the end of the file. */
  long remainingInFile() {
    return fileSize - position();
  }

  long fileSize() {
    return fileSize;
  }

  Path path() {
    return path;
  }

  /**
   * Makes {@code n} (at most the buffer size) bytes available in the buffer, or fails naming {@code
   * what}.
   */
  private void need(int n, String what) throws IOException {
    if (buffer.remaining() >= n) return;
    if (remainingInFile() < n) {
      throw new FormatException(
          path,
          Reason.TRUNCATED,
          null,
          "file ends at byte "
              + fileSize
              + " while reading "
              + what
              + " at offset "
              + position()
              + " ("
              + n
              + " bytes needed)");
    }
    bufferStart += buffer.position();
    buffer.compact();
    while (buffer.position() < n) {
      int read = channel.read(buffer, bufferStart + buffer.position());
      if (read < 0) {
        throw new FormatException(
            path, Reason.TRUNCATED, null, "file shrank while reading " + what);
      }
    }
    buffer.flip();
  }

  int u8(String what) throws IOException {
    need(1, what);
    return buffer.get() & 0xFF;
  }

  int u16(String what) throws IOException {
    need(2, what);
    return buffer.getShort() & 0xFFFF;
  }

  /** An unsigned 32-bit value. */
  long u32(String what) throws IOException {
    need(4, what);
    return buffer.getInt() & 0xFFFF_FFFFL;
  }

  /** A 64-bit value (its bits; callers decide whether it is signed). */
  long u64(String what) throws IOException {
    need(8, what);
    return buffer.getLong();
  }

  float f32(String what) throws IOException {
    need(4, what);
    return buffer.getFloat();
  }

  double f64(String what) throws IOException {
    need(8, what);
    return buffer.getDouble();
  }

  /**
   * A GGUF string: u64 byte length, then UTF-8 bytes. The length is checked against the rest of the
   * file before anything is allocated; {@code maxBytes} bounds it further (tensor names), reported
   * with {@code tooLong}.
   */
  String string(String what, long maxBytes, Reason tooLongReason, String tensor)
      throws IOException {
    long length = u64("the length of " + what);
    if (length < 0 || length > remainingInFile()) {
      throw new FormatException(
          path,
          Reason.TRUNCATED,
          tensor,
          what
              + " has length "
              + Long.toUnsignedString(length)
              + " at offset "
              + (position() - 8)
              + ", past the end of the file ("
              + remainingInFile()
              + " bytes left)");
    }
    if (length > maxBytes) {
      throw new FormatException(
          path,
          tooLongReason,
          tensor,
          what + " is " + length + " bytes long, the limit is " + maxBytes);
    }
    if (length > Integer.MAX_VALUE - 16) {
      throw new FormatException(
          path,
          Reason.BAD_VALUE,
          tensor,
          what + " is " + length + " bytes long, more than a Java string can hold");
    }
    int n = (int) length;
    long start = position();
    if (n <= buffer.capacity()) {
      need(n, what);
      String s =
          decode(buffer.array(), buffer.arrayOffset() + buffer.position(), n, what, tensor, start);
      buffer.position(buffer.position() + n);
      return s;
    }
    byte[] bytes = new byte[n];
    int copied = 0;
    while (copied < n) {
      int chunk = Math.min(n - copied, buffer.capacity());
      need(chunk, what);
      buffer.get(bytes, copied, chunk);
      copied += chunk;
    }
    return decode(bytes, 0, n, what, tensor, start);
  }

  private String decode(
      byte[] bytes, int offset, int length, String what, String tensor, long fileOffset)
      throws IOException {
    boolean ascii = true;
    for (int i = offset; i < offset + length; i++) {
      if (bytes[i] < 0) {
        ascii = false;
        break;
      }
    }
    if (ascii) return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    try {
      CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(bytes, offset, length));
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw new FormatException(
          path,
          Reason.HEADER_NOT_UTF8,
          tensor,
          what + " at offset " + fileOffset + " is not valid UTF-8",
          e);
    }
  }
}
