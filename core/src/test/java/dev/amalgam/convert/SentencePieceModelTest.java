package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.convert.SentencePieceModel.Piece;
import dev.amalgam.convert.SentencePieceModel.TrainerIds;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SentencePieceModelTest {
  private static final Path FILE = Path.of("m/tokenizer.model");

  /** Hand-assembled protobuf bytes, independent of ProtoWriter. */
  private static final class Bytes {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Bytes varint(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) (v & 0x7F) | 0x80);
        v >>>= 7;
      }
      out.write((int) v);
      return this;
    }

    Bytes tag(int field, int wire) {
      return varint((long) field << 3 | wire);
    }

    Bytes raw(int... b) {
      for (int x : b) out.write(x);
      return this;
    }

    Bytes string(int field, String s) {
      byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      tag(field, 2).varint(b.length);
      out.write(b, 0, b.length);
      return this;
    }

    Bytes message(int field, Bytes m) {
      byte[] b = m.bytes();
      tag(field, 2).varint(b.length);
      out.write(b, 0, b.length);
      return this;
    }

    Bytes float32(int field, float f) {
      tag(field, 5);
      int bits = Float.floatToIntBits(f);
      return raw(bits & 0xFF, bits >>> 8 & 0xFF, bits >>> 16 & 0xFF, bits >>> 24 & 0xFF);
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }

  private static Bytes piece(String text, float score, int type) {
    return new Bytes().string(1, text).float32(2, score).tag(3, 0).varint(type);
  }

  @Test
  void readsPiecesAndTrainerIdsSkippingUnknownFieldsOfEveryWireType() throws Exception {
    Bytes pieceWithExtras =
        new Bytes()
            .tag(200, 0)
            .varint(123456789012L) // unknown varint extension
            .string(1, "▁the")
            .tag(201, 1)
            .raw(1, 2, 3, 4, 5, 6, 7, 8) // unknown fixed64
            .float32(2, -3.5f)
            .tag(202, 5)
            .raw(9, 9, 9, 9) // unknown fixed32
            .tag(3, 0)
            .varint(1)
            .tag(203, 3)
            .tag(1, 0)
            .varint(7)
            .tag(2, 2)
            .varint(1)
            .raw('x')
            .tag(203, 4); // unknown group
    Bytes trainer =
        new Bytes()
            .string(2, "prefix") // model_prefix, skipped
            .tag(3, 0)
            .varint(2) // model_type BPE
            .tag(40, 0)
            .varint(3) // unk_id
            .tag(42, 0)
            .varint(-1L) // eos_id = -1: ten-byte sign-extended varint
            .tag(43, 0)
            .varint(4); // pad_id; bos_id absent -> default 1
    byte[] model =
        new Bytes()
            .message(1, piece("<unk>", 0, 2))
            .message(1, piece("<s>", 0, 3))
            .message(4, new Bytes().string(1, "self test data")) // unknown to us: skipped
            .message(1, pieceWithExtras)
            .message(2, trainer)
            .message(3, new Bytes().string(1, "identity"))
            .message(1, new Bytes().string(1, "<0x41>").tag(3, 0).varint(6)) // no score: 0
            .bytes();
    SentencePieceModel m = SentencePieceModel.parse(model, FILE);
    assertEquals(
        List.of(
            new Piece("<unk>", 0, 2),
            new Piece("<s>", 0, 3),
            new Piece("▁the", -3.5f, 1),
            new Piece("<0x41>", 0, 6)),
        m.pieces());
    assertEquals(Optional.of(new TrainerIds(3, 1, -1, 4)), m.trainer());
  }

  @Test
  void typeDefaultsToNormalAndTrainerSpecIsOptional() throws Exception {
    SentencePieceModel m =
        SentencePieceModel.parse(new Bytes().message(1, new Bytes().string(1, "a")).bytes(), FILE);
    assertEquals(List.of(new Piece("a", 0, 1)), m.pieces());
    assertEquals(Optional.empty(), m.trainer());
  }

  @Test
  void writerOutputParsesBackIdentically() throws Exception {
    List<Piece> pieces =
        List.of(
            new Piece("<unk>", 0, 2),
            new Piece("<s>", 0, 3),
            new Piece("</s>", 0, 3),
            new Piece("<0x00>", 0, 6),
            new Piece("▁a", -1, 1),
            new Piece("é", -2.25f, 1),
            new Piece("[X]", 0, 4),
            new Piece("[PAD7]", -1000, 5));
    SentencePieceModel m = new SentencePieceModel(pieces, Optional.of(new TrainerIds(0, 1, 2, -1)));
    SentencePieceModel back = SentencePieceModel.parse(m.toBytes(), FILE);
    assertEquals(m, back);
  }

  @Test
  void writerRejectsDuplicateAndEmptyPieces() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new SentencePieceModel(
                    List.of(new Piece("a", 0, 1), new Piece("a", 0, 1)), Optional.empty())
                .toBytes());
    assertThrows(
        IllegalArgumentException.class,
        () -> new SentencePieceModel(List.of(new Piece("", 0, 1)), Optional.empty()).toBytes());
  }

  private static ConversionException fails(byte[] bytes) {
    return assertThrows(ConversionException.class, () -> SentencePieceModel.parse(bytes, FILE));
  }

  @Test
  void truncatedInputFailsWithTheFileAndOffset() throws Exception {
    byte[] good =
        new Bytes().message(1, piece("hello", -1, 1)).message(1, piece("world", -2, 1)).bytes();
    int boundary =
        new Bytes().message(1, piece("hello", -1, 1)).bytes().length; // a valid one-piece model
    for (int cut = 1; cut < good.length; cut++) {
      if (cut == boundary) continue;
      byte[] truncated = Arrays.copyOf(good, cut);
      ConversionException e = fails(truncated);
      assertTrue(e.getMessage().startsWith(FILE + ": key 'ModelProto"), e.getMessage());
      assertTrue(e.getMessage().contains("offset"), e.getMessage());
    }
  }

  @Test
  void malformedInputFailsClearly() {
    ConversionException e = fails(new Bytes().raw(0x80, 0x80).bytes());
    assertTrue(e.getMessage().contains("truncated varint"), e.getMessage());
    e =
        fails(
            new Bytes()
                .raw(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01)
                .bytes());
    assertTrue(e.getMessage().contains("longer than 10 bytes"), e.getMessage());
    e = fails(new Bytes().tag(9, 7).bytes());
    assertTrue(e.getMessage().contains("invalid wire type 7"), e.getMessage());
    e = fails(new Bytes().tag(0, 0).varint(1).bytes());
    assertTrue(e.getMessage().contains("invalid field number 0"), e.getMessage());
    e = fails(new Bytes().tag(1, 0).varint(5).bytes());
    assertTrue(e.getMessage().contains("wire type 0, expected 2"), e.getMessage());
    e = fails(new Bytes().tag(1, 2).varint(1000).raw(1, 2).bytes());
    assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
    e = fails(new Bytes().message(1, new Bytes().tag(1, 2).varint(2).raw(0xC3, 0x28)).bytes());
    assertTrue(
        e.getMessage().contains("ModelProto.pieces[0]") && e.getMessage().contains("UTF-8"),
        e.getMessage());
    e = fails(new Bytes().message(1, piece("a", 0, 9)).bytes());
    assertTrue(e.getMessage().contains("unknown piece type 9"), e.getMessage());
    e = fails(new Bytes().message(1, new Bytes().float32(2, 1f)).bytes());
    assertTrue(e.getMessage().contains("missing or empty"), e.getMessage());
    e = fails(new Bytes().tag(5, 3).tag(1, 0).varint(1).bytes());
    assertTrue(e.getMessage().contains("not closed"), e.getMessage());
    e = fails(new Bytes().tag(5, 3).tag(6, 4).bytes());
    assertTrue(e.getMessage().contains("closed by end tag of field 6"), e.getMessage());
    e = fails(new byte[0]);
    assertTrue(e.getMessage().contains("no pieces"), e.getMessage());
  }
}
