package dev.amalgam.io.safetensors;

import static dev.amalgam.io.FormatException.Reason.BAD_HEADER;
import static dev.amalgam.io.FormatException.Reason.BAD_OFFSETS;
import static dev.amalgam.io.FormatException.Reason.BAD_SHAPE;
import static dev.amalgam.io.FormatException.Reason.DATA_PAST_END;
import static dev.amalgam.io.FormatException.Reason.DUPLICATE_NAME;
import static dev.amalgam.io.FormatException.Reason.FILE_TOO_SMALL;
import static dev.amalgam.io.FormatException.Reason.HEADER_NOT_UTF8;
import static dev.amalgam.io.FormatException.Reason.HEADER_PAST_END;
import static dev.amalgam.io.FormatException.Reason.HEADER_TOO_LARGE;
import static dev.amalgam.io.FormatException.Reason.NOT_BYTE_ALIGNED;
import static dev.amalgam.io.FormatException.Reason.SIZE_MISMATCH;
import static dev.amalgam.io.FormatException.Reason.SIZE_OVERFLOW;
import static dev.amalgam.io.FormatException.Reason.TRAILING_BYTES;
import static dev.amalgam.io.FormatException.Reason.UNKNOWN_DTYPE;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.amalgam.io.FormatException;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads and validates the header of one safetensors file: every check of the reference reader
 * ({@code SafeTensors::read_metadata} and {@code Metadata::validate}, docs/formats.md §1.3) plus
 * duplicate keys, the JSON schema's 2^48 − 1 bound and a distinction between trailing bytes and
 * missing data.
 */
final class SafetensorsHeader {
  /** {@code MAX_HEADER_SIZE} of the reference reader. */
  static final long MAX_HEADER_BYTES = 100_000_000L;

  /** Largest dimension or offset the JSON schema allows. */
  static final long MAX_SCHEMA_VALUE = (1L << 48) - 1;

  /** The reserved key of the string-to-string metadata map. */
  static final String METADATA_KEY = "__metadata__";

  private static final String DUPLICATE_PREFIX = "Duplicate field '";

  /**
   * Shared by the reader, the writer and the index code: duplicate keys are errors, long strings
   * allowed.
   */
  static final JsonFactory JSON =
      JsonFactory.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          // Jackson's default caps (20 M chars per string, 50 k per name) are below what the
          // reference reader
          // accepts; the header length bound already limits both.
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxStringLength((int) MAX_HEADER_BYTES)
                  .maxNameLength((int) MAX_HEADER_BYTES)
                  .build())
          .build();

  /** One tensor: its description and its byte range [begin, end) relative to the data section. */
  record Entry(TensorInfo info, long begin, long end) {}

  final long headerLength;
  final Map<String, String> metadata;
  final List<Entry> entries;

  private SafetensorsHeader(long headerLength, Map<String, String> metadata, List<Entry> entries) {
    this.headerLength = headerLength;
    this.metadata = metadata;
    this.entries = entries;
  }

  /**
   * Reads the header of {@code file} through {@code channel} and validates it against the file
   * size.
   */
  static SafetensorsHeader read(Path file, FileChannel channel) throws IOException {
    long fileSize = channel.size();
    if (fileSize < 8) {
      throw new FormatException(
          file,
          FILE_TOO_SMALL,
          null,
          "file has " + fileSize + " bytes, fewer than the 8-byte header length field");
    }
    ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(file, channel, prefix, 0);
    long n = prefix.getLong(0); // u64 little-endian
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw new FormatException(
          file,
          HEADER_TOO_LARGE,
          null,
          "header length "
              + Long.toUnsignedString(n)
              + " exceeds the limit of "
              + MAX_HEADER_BYTES
              + " bytes");
    }
    if (8 + n > fileSize) {
      throw new FormatException(
          file,
          HEADER_PAST_END,
          null,
          "header length "
              + n
              + " runs past the end of the file: 8 + "
              + n
              + " > "
              + fileSize
              + " bytes");
    }
    ByteBuffer header = ByteBuffer.allocate((int) n);
    readFully(file, channel, header, 8);
    CharBuffer json = decodeUtf8(file, header.array());
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = parseJson(file, json.array(), json.position(), metadata);
    entries = validateLayout(file, entries, n, fileSize);
    return new SafetensorsHeader(n, Collections.unmodifiableMap(metadata), entries);
  }

  private static void readFully(Path file, FileChannel channel, ByteBuffer dst, long position)
      throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int r = channel.read(dst, pos);
      if (r < 0) throw new EOFException(file + ": file shrank while its header was read");
      pos += r;
    }
  }

  /** The decoded header in {@code [0, position())} of the returned buffer's array. */
  private static CharBuffer decodeUtf8(Path file, byte[] bytes) throws FormatException {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out =
        CharBuffer.allocate(bytes.length); // UTF-8 never yields more UTF-16 units than bytes
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) result = decoder.flush(out);
    if (result.isError()) {
      throw new FormatException(
          file,
          HEADER_NOT_UTF8,
          null,
          "header is not valid UTF-8 (bad byte sequence at header byte " + in.position() + ")");
    }
    return out;
  }

  private static List<Entry> parseJson(
      Path file, char[] json, int length, Map<String, String> metadata) throws IOException {
    if (length == 0 || json[0] != '{') {
      throw new FormatException(
          file,
          BAD_HEADER,
          null,
          "header must be a JSON object starting with '{', but "
              + (length == 0 ? "it is empty" : "it starts with " + describeChar(json[0])));
    }
    List<Entry> entries = new ArrayList<>();
    String context = null; // the tensor being parsed, for messages
    try (JsonParser p = JSON.createParser(json, 0, length)) {
      p.nextToken(); // START_OBJECT: the first character is '{'
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        p.nextToken();
        if (key.equals(METADATA_KEY)) {
          context = METADATA_KEY;
          readMetadata(file, p, metadata);
        } else {
          context = key;
          entries.add(readEntry(file, p, key));
        }
        context = null;
      }
      if (t != JsonToken.END_OBJECT)
        throw new IllegalStateException("Jackson returned " + t + " inside an object");
      // The reference reader (serde_json) accepts trailing JSON whitespace, writers pad with
      // spaces; nothing else.
      JsonToken after;
      try {
        after = p.nextToken();
      } catch (JsonProcessingException e) {
        after = JsonToken.NOT_AVAILABLE;
      }
      if (after != null) {
        throw new FormatException(
            file,
            BAD_HEADER,
            null,
            "unexpected content after the header's JSON object at character "
                + p.currentLocation().getCharOffset()
                + " (only whitespace may follow it)");
      }
    } catch (JsonProcessingException e) {
      String duplicate = duplicateKey(e);
      if (duplicate != null) {
        if (context == null) {
          if (duplicate.equals(METADATA_KEY)) {
            throw new FormatException(
                file, DUPLICATE_NAME, null, "the header repeats the key '__metadata__'", e);
          }
          throw new FormatException(
              file, DUPLICATE_NAME, duplicate, "the header names this tensor twice", e);
        }
        String where = context.equals(METADATA_KEY) ? "__metadata__" : "the entry";
        throw new FormatException(
            file,
            DUPLICATE_NAME,
            context.equals(METADATA_KEY) ? null : context,
            where + " repeats the key '" + duplicate + "'",
            e);
      }
      throw new FormatException(
          file,
          BAD_HEADER,
          context != null && !context.equals(METADATA_KEY) ? context : null,
          "header is not valid JSON at character "
              + e.getLocation().getCharOffset()
              + ": "
              + jsonMessage(e),
          e);
    }
    return entries;
  }

  /**
   * Jackson's message without its source placeholder: "... (start marker at line: 1, column: 1)".
   */
  static String jsonMessage(JsonProcessingException e) {
    String m = String.valueOf(e.getOriginalMessage());
    return m.replaceAll("\\[Source: [^;\\]]*; (line: \\d+, column: \\d+)\\]", "$1");
  }

  /** The repeated key if Jackson's duplicate detection raised {@code e}, else null. */
  static String duplicateKey(JsonProcessingException e) {
    String m = e.getOriginalMessage();
    if (m != null && m.startsWith(DUPLICATE_PREFIX) && m.endsWith("'")) {
      return m.substring(DUPLICATE_PREFIX.length(), m.length() - 1);
    }
    return null;
  }

  private static void readMetadata(Path file, JsonParser p, Map<String, String> metadata)
      throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw new FormatException(
          file,
          BAD_HEADER,
          null,
          "__metadata__ must be an object of string values, found " + describe(p));
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      if (p.nextToken() != JsonToken.VALUE_STRING) {
        throw new FormatException(
            file,
            BAD_HEADER,
            null,
            "__metadata__ value of key '" + key + "' must be a string, found " + describe(p));
      }
      metadata.put(key, p.getText());
    }
  }

  private static Entry readEntry(Path file, JsonParser p, String name) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw new FormatException(
          file,
          BAD_HEADER,
          name,
          "entry must be an object with dtype, shape and data_offsets, found " + describe(p));
    }
    DType dtype = null;
    long[] shape = null;
    long[] offsets = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      switch (field) {
        case "dtype":
          dtype = readDtype(file, p, name);
          break;
        case "shape":
          shape = readShape(file, p, name);
          break;
        case "data_offsets":
          offsets = readOffsets(file, p, name);
          break;
        default:
          // The JSON schema forbids other fields, but the reference reader ignores them; so do we.
          p.skipChildren();
      }
    }
    for (Object[] f :
        new Object[][] {{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}}) {
      if (f[1] == null)
        throw new FormatException(file, BAD_HEADER, name, "entry lacks the field '" + f[0] + "'");
    }
    long begin = offsets[0];
    long end = offsets[1];
    long numel = 1;
    for (long d : shape) {
      try {
        numel = Math.multiplyExact(numel, d);
      } catch (ArithmeticException e) {
        throw new FormatException(
            file,
            SIZE_OVERFLOW,
            name,
            "element count of shape " + Arrays.toString(shape) + " overflows 64 bits");
      }
    }
    long bits;
    try {
      bits = Math.multiplyExact(numel, (long) dtype.bits());
    } catch (ArithmeticException e) {
      throw new FormatException(
          file,
          SIZE_OVERFLOW,
          name,
          "size of shape "
              + Arrays.toString(shape)
              + " x "
              + dtype
              + " ("
              + numel
              + " elements) overflows 64 bits");
    }
    if (bits % 8 != 0) {
      throw new FormatException(
          file,
          NOT_BYTE_ALIGNED,
          name,
          "shape "
              + Arrays.toString(shape)
              + " x "
              + dtype
              + " is "
              + bits
              + " bits, which do not end on a byte boundary");
    }
    if (end - begin != bits / 8) {
      throw new FormatException(
          file,
          SIZE_MISMATCH,
          name,
          "data_offsets ["
              + begin
              + ", "
              + end
              + ") hold "
              + bytes(end - begin)
              + " but shape "
              + Arrays.toString(shape)
              + " x "
              + dtype
              + " needs "
              + bits / 8);
    }
    return new Entry(new TensorInfo(name, dtype, shape), begin, end);
  }

  private static DType readDtype(Path file, JsonParser p, String name) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_STRING) {
      throw new FormatException(
          file, BAD_HEADER, name, "dtype must be a string, found " + describe(p));
    }
    String s = p.getText();
    return DType.fromSafetensorsName(s)
        .orElseThrow(
            () -> {
              String upper = s.toUpperCase(Locale.ROOT);
              String hint =
                  !upper.equals(s) && DType.fromSafetensorsName(upper).isPresent()
                      ? " (dtype names are case-sensitive: did you mean \"" + upper + "\"?)"
                      : "";
              return new FormatException(
                  file, UNKNOWN_DTYPE, name, "unknown dtype \"" + s + "\"" + hint);
            });
  }

  private static long[] readShape(Path file, JsonParser p, String name) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw new FormatException(
          file, BAD_SHAPE, name, "shape must be an array of integers, found " + describe(p));
    }
    long[] dims = new long[4];
    int rank = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      long d = readCount(file, p, name, BAD_SHAPE, "dimension " + rank + " of the shape");
      if (rank == dims.length) dims = Arrays.copyOf(dims, rank * 2);
      dims[rank++] = d;
    }
    return Arrays.copyOf(dims, rank);
  }

  private static long[] readOffsets(Path file, JsonParser p, String name) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw new FormatException(
          file,
          BAD_OFFSETS,
          name,
          "data_offsets must be an array [begin, end], found " + describe(p));
    }
    long[] v = new long[2];
    int count = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      long x =
          readCount(
              file, p, name, BAD_OFFSETS, count == 0 ? "data_offsets begin" : "data_offsets end");
      if (count < 2) v[count] = x;
      count++;
    }
    if (count != 2) {
      throw new FormatException(
          file,
          BAD_OFFSETS,
          name,
          "data_offsets must hold exactly 2 integers [begin, end], found " + count);
    }
    if (v[0] > v[1]) {
      throw new FormatException(
          file,
          BAD_OFFSETS,
          name,
          "data_offsets [" + v[0] + ", " + v[1] + "] end before they begin");
    }
    return v;
  }

  /** A non-negative integer no larger than the schema's bound. */
  private static long readCount(
      Path file, JsonParser p, String name, FormatException.Reason reason, String what)
      throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NUMBER_INT) {
      if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
        String text = p.getText();
        throw new FormatException(
            file,
            reason,
            name,
            what + " is " + text + (text.startsWith("-") ? ", negative" : ", above 2^48 - 1"));
      }
      long v = p.getLongValue();
      if (v < 0) throw new FormatException(file, reason, name, what + " is " + v + ", negative");
      if (v > MAX_SCHEMA_VALUE)
        throw new FormatException(file, reason, name, what + " is " + v + ", above 2^48 - 1");
      return v;
    }
    if (t == JsonToken.VALUE_NUMBER_FLOAT) {
      throw new FormatException(
          file, reason, name, what + " is " + p.getText() + ", not an integer");
    }
    throw new FormatException(
        file, reason, name, what + " must be an integer, found " + describe(p));
  }

  /**
   * Sorts the entries by data offset and checks the layout: contiguous from 0, no holes or
   * overlaps, and the data ends exactly at the end of the file.
   */
  private static List<Entry> validateLayout(
      Path file, List<Entry> entries, long headerLength, long fileSize) throws FormatException {
    List<Entry> sorted = new ArrayList<>(entries);
    // Stable: several empty tensors may share an offset; they keep their header order.
    sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long position = 0;
    Entry previous = null;
    for (Entry e : sorted) {
      if (e.begin() != position) {
        String range = "data [" + e.begin() + ", " + e.end() + ")";
        String detail;
        if (previous == null) {
          detail =
              range
                  + " starts at "
                  + e.begin()
                  + ", but the first tensor must start at offset 0 (leading gap)";
        } else if (e.begin() > position) {
          detail =
              range
                  + " leaves a hole of "
                  + bytes(e.begin() - position)
                  + " after tensor '"
                  + previous.info().name()
                  + "', which ends at "
                  + position;
        } else {
          detail =
              range
                  + " overlaps tensor '"
                  + previous.info().name()
                  + "' at ["
                  + previous.begin()
                  + ", "
                  + previous.end()
                  + ")";
        }
        throw new FormatException(file, BAD_OFFSETS, e.info().name(), detail);
      }
      position = e.end();
      previous = e;
    }
    long dataStart = 8 + headerLength;
    long expected = dataStart + position; // both bounded (100 MB, 2^48), cannot overflow
    if (expected < fileSize) {
      throw new FormatException(
          file,
          TRAILING_BYTES,
          null,
          bytes(fileSize - expected)
              + " follow the last tensor's data, which ends at file offset "
              + expected);
    }
    if (expected > fileSize) {
      for (Entry e : sorted) {
        if (dataStart + e.end() > fileSize) {
          throw new FormatException(
              file,
              DATA_PAST_END,
              e.info().name(),
              "data ends at file offset "
                  + (dataStart + e.end())
                  + ", past the end of the file ("
                  + fileSize
                  + " bytes); the file is truncated");
        }
      }
    }
    return Collections.unmodifiableList(sorted);
  }

  private static String describe(JsonParser p) {
    JsonToken t = p.currentToken();
    if (t == null) return "nothing";
    switch (t) {
      case START_OBJECT:
        return "an object";
      case START_ARRAY:
        return "an array";
      case VALUE_STRING:
        return "a string";
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return "a number";
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "a boolean";
      case VALUE_NULL:
        return "null";
      default:
        return t.toString();
    }
  }

  private static String bytes(long n) {
    return n == 1 ? "1 byte" : n + " bytes";
  }

  private static String describeChar(char c) {
    return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
  }
}
