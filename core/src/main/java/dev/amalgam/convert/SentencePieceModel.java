package dev.amalgam.convert;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The parts of a SentencePiece {@code tokenizer.model} (sentencepiece_model.proto, a serialized
 * {@code ModelProto}) that a GGUF needs: the pieces with score and type, and the special ids of the
 * trainer spec.
 *
 * <p>Field numbers (checked against google/sentencepiece src/sentencepiece_model.proto): ModelProto
 * {@code pieces = 1}, {@code trainer_spec = 2}, {@code normalizer_spec = 3}; SentencePiece {@code
 * piece = 1} (string), {@code score = 2} (float), {@code type = 3} (enum: NORMAL 1, UNKNOWN 2,
 * CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6; default NORMAL); TrainerSpec {@code model_type = 3}
 * (UNIGRAM 1, BPE 2), {@code vocab_size = 4}, {@code byte_fallback = 35}, {@code unk_id = 40}
 * (default 0), {@code bos_id = 41} (1), {@code eos_id = 42} (2), {@code pad_id = 43} (-1), {@code
 * unk_piece = 45}, {@code bos_piece = 46}, {@code eos_piece = 47}, {@code pad_piece = 48};
 * NormalizerSpec {@code name = 1}, {@code add_dummy_prefix = 3}, {@code remove_extra_whitespaces =
 * 4}, {@code escape_whitespaces = 5}.
 *
 * @param pieces the vocabulary in id order
 * @param trainer the trainer spec's special ids, when the file has a trainer spec
 */
record SentencePieceModel(List<Piece> pieces, Optional<TrainerIds> trainer) {
  /** One vocabulary entry. */
  record Piece(String piece, float score, int type) {}

  /** Special ids of a TrainerSpec; -1 means "none". Defaults are the proto defaults. */
  record TrainerIds(int unk, int bos, int eos, int pad) {
    static TrainerIds defaults() {
      return new TrainerIds(0, 1, 2, -1);
    }
  }

  private static final int MODEL_PIECES = 1;
  private static final int MODEL_TRAINER_SPEC = 2;
  private static final int MODEL_NORMALIZER_SPEC = 3;
  private static final int PIECE_PIECE = 1;
  private static final int PIECE_SCORE = 2;
  private static final int PIECE_TYPE = 3;
  private static final int TRAINER_MODEL_TYPE = 3;
  private static final int TRAINER_VOCAB_SIZE = 4;
  private static final int TRAINER_BYTE_FALLBACK = 35;
  private static final int TRAINER_UNK_ID = 40;
  private static final int TRAINER_BOS_ID = 41;
  private static final int TRAINER_EOS_ID = 42;
  private static final int TRAINER_PAD_ID = 43;
  private static final int TRAINER_UNK_PIECE = 45;
  private static final int TRAINER_BOS_PIECE = 46;
  private static final int TRAINER_EOS_PIECE = 47;
  private static final int TRAINER_PAD_PIECE = 48;
  private static final int NORMALIZER_NAME = 1;
  private static final int NORMALIZER_ADD_DUMMY_PREFIX = 3;
  private static final int NORMALIZER_REMOVE_EXTRA_WHITESPACES = 4;
  private static final int NORMALIZER_ESCAPE_WHITESPACES = 5;

  /** TrainerSpec.ModelType.BPE: the model type of Llama 1/2 tokenizers. */
  private static final int MODEL_TYPE_BPE = 2;

  SentencePieceModel {
    pieces = List.copyOf(pieces);
  }

  /**
   * Parses a serialized ModelProto. Unknown fields are skipped; pieces must be non-empty strings
   * with a type in 1..6.
   */
  static SentencePieceModel parse(byte[] bytes, Path file) throws ConversionException {
    ProtoReader r = ProtoReader.of(bytes, file, "ModelProto");
    List<Piece> pieces = new ArrayList<>();
    TrainerIds trainer = null;
    while (r.hasMore()) {
      int tag = r.readTag();
      switch (tag >>> 3) {
        case MODEL_PIECES -> {
          r.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "pieces");
          pieces.add(parsePiece(r.readMessage("pieces[" + pieces.size() + "]")));
        }
        case MODEL_TRAINER_SPEC -> {
          r.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "trainer_spec");
          trainer =
              parseTrainer(
                  r.readMessage("trainer_spec"), trainer == null ? TrainerIds.defaults() : trainer);
        }
        default -> r.skip(tag);
      }
    }
    if (pieces.isEmpty())
      throw new ConversionException(file, "ModelProto.pieces", "the model has no pieces");
    return new SentencePieceModel(pieces, Optional.ofNullable(trainer));
  }

  private static Piece parsePiece(ProtoReader r) throws ConversionException {
    String piece = null;
    float score = 0;
    int type = TokenizerKeys.TYPE_NORMAL;
    while (r.hasMore()) {
      int tag = r.readTag();
      switch (tag >>> 3) {
        case PIECE_PIECE -> {
          r.expectWireType(tag, ProtoReader.LENGTH_DELIMITED, "piece");
          piece = r.readString();
        }
        case PIECE_SCORE -> {
          r.expectWireType(tag, ProtoReader.FIXED32, "score");
          score = r.readFloat();
        }
        case PIECE_TYPE -> {
          r.expectWireType(tag, ProtoReader.VARINT, "type");
          long t = r.readVarint();
          if (t < TokenizerKeys.TYPE_NORMAL || t > TokenizerKeys.TYPE_BYTE)
            throw r.error("unknown piece type " + t);
          type = (int) t;
        }
        default -> r.skip(tag);
      }
    }
    if (piece == null || piece.isEmpty()) throw r.error("piece text is missing or empty");
    return new Piece(piece, score, type);
  }

  private static TrainerIds parseTrainer(ProtoReader r, TrainerIds ids) throws ConversionException {
    int unk = ids.unk(), bos = ids.bos(), eos = ids.eos(), pad = ids.pad();
    while (r.hasMore()) {
      int tag = r.readTag();
      int field = tag >>> 3;
      if (field >= TRAINER_UNK_ID && field <= TRAINER_PAD_ID) {
        r.expectWireType(tag, ProtoReader.VARINT, "id field " + field);
        int v = (int) r.readVarint(); // int32: negative values are sign-extended 64-bit varints
        switch (field) {
          case TRAINER_UNK_ID -> unk = v;
          case TRAINER_BOS_ID -> bos = v;
          case TRAINER_EOS_ID -> eos = v;
          default -> pad = v;
        }
      } else {
        r.skip(tag);
      }
    }
    return new TrainerIds(unk, bos, eos, pad);
  }

  /**
   * Serializes the model as a Llama-style tokenizer.model: the pieces, a trainer spec (BPE model
   * type, the vocabulary size, byte fallback when byte pieces exist, the special ids and pieces)
   * and an identity normalizer with a dummy prefix and without whitespace collapsing, as Llama
   * 1/2's tokenizer.model has.
   */
  byte[] toBytes() {
    ProtoWriter model = new ProtoWriter();
    Set<String> seen = new HashSet<>();
    boolean hasBytes = false;
    for (Piece p : pieces) {
      if (p.piece().isEmpty()) throw new IllegalArgumentException("empty piece");
      if (!seen.add(p.piece()))
        throw new IllegalArgumentException("duplicate piece '" + p.piece() + "'");
      hasBytes |= p.type() == TokenizerKeys.TYPE_BYTE;
      model.message(
          MODEL_PIECES,
          new ProtoWriter()
              .string(PIECE_PIECE, p.piece())
              .float32(PIECE_SCORE, p.score())
              .int32(PIECE_TYPE, p.type()));
    }
    TrainerIds ids = trainer.orElse(TrainerIds.defaults());
    ProtoWriter spec =
        new ProtoWriter()
            .int32(TRAINER_MODEL_TYPE, MODEL_TYPE_BPE)
            .int32(TRAINER_VOCAB_SIZE, pieces.size())
            .bool(TRAINER_BYTE_FALLBACK, hasBytes)
            .int32(TRAINER_UNK_ID, ids.unk())
            .int32(TRAINER_BOS_ID, ids.bos())
            .int32(TRAINER_EOS_ID, ids.eos())
            .int32(TRAINER_PAD_ID, ids.pad());
    pieceName(ids.unk()).ifPresent(s -> spec.string(TRAINER_UNK_PIECE, s));
    pieceName(ids.bos()).ifPresent(s -> spec.string(TRAINER_BOS_PIECE, s));
    pieceName(ids.eos()).ifPresent(s -> spec.string(TRAINER_EOS_PIECE, s));
    pieceName(ids.pad()).ifPresent(s -> spec.string(TRAINER_PAD_PIECE, s));
    model.message(MODEL_TRAINER_SPEC, spec);
    model.message(
        MODEL_NORMALIZER_SPEC,
        new ProtoWriter()
            .string(NORMALIZER_NAME, "identity")
            .bool(NORMALIZER_ADD_DUMMY_PREFIX, true)
            .bool(NORMALIZER_REMOVE_EXTRA_WHITESPACES, false)
            .bool(NORMALIZER_ESCAPE_WHITESPACES, true));
    return model.toByteArray();
  }

  private Optional<String> pieceName(int id) {
    return id >= 0 && id < pieces.size() ? Optional.of(pieces.get(id).piece()) : Optional.empty();
  }
}
