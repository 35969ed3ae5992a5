package dev.amalgam.eval.bertscore;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes tiny ONNX files for the embedder tests. ONNX is protobuf; a handful of fields suffice, so
 * the messages are encoded by hand here rather than adding the onnx protobuf classes as a test
 * dependency. Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto,
 * AttributeProto, ValueInfoProto, TypeProto, TensorShapeProto).
 */
final class TinyOnnx {
  private static final int FLOAT = 1;
  private static final int INT64 = 7;

  private TinyOnnx() {}

  /**
   * input_ids INT64 [batch, seq] -> Cast(FLOAT) -> Unsqueeze(axes=[2]) -> {@code outputName} FLOAT
   * [batch, seq, 1] when {@code rank3}, else the Cast output FLOAT [batch, seq] under {@code
   * outputName}.
   */
  static byte[] castModel(String outputName, boolean rank3) {
    Message graph = new Message();
    Message cast =
        new Message()
            .string(1, "input_ids")
            .string(2, rank3 ? "as_float" : outputName)
            .string(4, "Cast")
            .message(5, new Message().string(1, "to").varint(3, FLOAT).varint(20, 2));
    graph.message(1, cast);
    if (rank3) {
      Message unsqueeze =
          new Message()
              .string(1, "as_float")
              .string(2, outputName)
              .string(4, "Unsqueeze")
              .message(5, new Message().string(1, "axes").varint(8, 2).varint(20, 7));
      graph.message(1, unsqueeze);
    }
    graph.string(2, "tiny");
    graph.message(11, valueInfo("input_ids", INT64, "batch", "seq"));
    graph.message(
        12,
        rank3
            ? valueInfo(outputName, FLOAT, "batch", "seq", null)
            : valueInfo(outputName, FLOAT, "batch", "seq"));
    Message model =
        new Message()
            .varint(1, 6)
            .string(2, "amalgam-test")
            .message(7, graph)
            .message(8, new Message().string(1, "").varint(2, 11));
    return model.bytes();
  }

  /** A value info with symbolic dims; a null name is the fixed dimension 1. */
  private static Message valueInfo(String name, int elemType, String... dims) {
    Message shape = new Message();
    for (String dim : dims) {
      shape.message(1, dim == null ? new Message().varint(1, 1) : new Message().string(2, dim));
    }
    Message tensor = new Message().varint(1, elemType).message(2, shape);
    return new Message().string(1, name).message(2, new Message().message(1, tensor));
  }

  /** A protobuf message under construction (wire types 0 and 2 only). */
  static final class Message {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Message varint(int field, long value) {
      writeVarint((long) field << 3);
      writeVarint(value);
      return this;
    }

    Message string(int field, String value) {
      return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Message message(int field, Message value) {
      return bytes(field, value.bytes());
    }

    private Message bytes(int field, byte[] value) {
      writeVarint(((long) field << 3) | 2);
      writeVarint(value.length);
      out.writeBytes(value);
      return this;
    }

    byte[] bytes() {
      return out.toByteArray();
    }

    private void writeVarint(long value) {
      while ((value & ~0x7FL) != 0) {
        out.write((int) ((value & 0x7F) | 0x80));
        value >>>= 7;
      }
      out.write((int) value);
    }
  }
}
