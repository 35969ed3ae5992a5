package dev.amalgam.io.safetensors;

import static dev.amalgam.io.FormatException.Reason.BAD_INDEX;
import static dev.amalgam.io.FormatException.Reason.DUPLICATE_NAME;
import static dev.amalgam.io.FormatException.Reason.MISSING_FILE;
import static dev.amalgam.io.FormatException.Reason.SIZE_MISMATCH;
import static dev.amalgam.io.FormatException.Reason.UNSUPPORTED_FORMAT;
import static dev.amalgam.io.safetensors.Fixtures.expectFormat;
import static dev.amalgam.io.safetensors.Fixtures.info;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.FormatException;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsModelTest {
  @TempDir Path dir;

  /** Writes a shard holding one U8 tensor of one byte per name. */
  static Path shard(Path file, String... names) throws IOException {
    List<TensorInfo> tensors = new java.util.ArrayList<>();
    for (String n : names) tensors.add(info(n, DType.U8, 1));
    try (SafetensorsWriter w = SafetensorsWriter.create(file, tensors, Map.of())) {
      w.setSync(false);
      for (String n : names) {
        w.beginTensor(n);
        w.write(ByteBuffer.wrap(new byte[] {(byte) n.length()}));
      }
      w.finish();
    }
    return file;
  }

  Path index(String weightMapJson) throws IOException {
    return Files.writeString(
        dir.resolve("model.safetensors.index.json"),
        "{\"metadata\":{\"total_size\":3,\"extra\":[1,\"x\"]},\"weight_map\":"
            + weightMapJson
            + "}");
  }

  void twoShards() throws IOException {
    shard(dir.resolve("model-00001-of-00002.safetensors"), "a", "b");
    shard(dir.resolve("model-00002-of-00002.safetensors"), "c");
  }

  @Test
  void opensIndexedShards() throws IOException {
    twoShards();
    index(
        "{\"c\":\"model-00002-of-00002.safetensors\",\"a\":\"model-00001-of-00002.safetensors\","
            + "\"b\":\"model-00001-of-00002.safetensors\"}");
    try (SafetensorsModel m = SafetensorsModel.open(dir)) {
      assertEquals(
          List.of("a", "b", "c"),
          m.tensors().stream().map(TensorInfo::name).collect(java.util.stream.Collectors.toList()));
      assertEquals(3, m.totalBytes());
      assertEquals(List.of(1, "x"), m.metadata().get("extra"));
      assertEquals(dir, m.path());
      assertEquals(1, m.data("c").slice(0, 1).get(0));
      assertTrue(m.tensor("zzz").isEmpty());
      assertThrows(IllegalArgumentException.class, () -> m.data("zzz"));
    }
  }

  @Test
  void singleFileAndDirectoryFallbacks() throws IOException {
    Path single = shard(dir.resolve("weights.safetensors"), "w");
    try (SafetensorsModel m = SafetensorsModel.open(single)) {
      assertEquals(List.of(single), m.files());
    }
    try (SafetensorsModel m = SafetensorsModel.open(dir)) { // the only *.safetensors file
      assertEquals(List.of(single), m.files());
    }
    Path second = shard(dir.resolve("other.safetensors"), "o");
    expectFormat(dir, MISSING_FILE, null, () -> SafetensorsModel.open(dir));
    Path model = shard(dir.resolve("model.safetensors"), "m");
    try (SafetensorsModel m = SafetensorsModel.open(dir)) { // model.safetensors wins
      assertEquals(List.of(model), m.files());
      assertEquals(Map.of(), m.metadata());
    }
    Files.delete(second);
    assertThrows(NoSuchFileException.class, () -> SafetensorsModel.open(dir.resolve("absent")));
  }

  @Test
  void emptyDirectory() {
    FormatException e = expectFormat(dir, MISSING_FILE, null, () -> SafetensorsModel.open(dir));
    assertTrue(e.getMessage().contains("no safetensors weights"), e.getMessage());
  }

  @Test
  void pickleOnlyDirectory() throws IOException {
    Files.write(dir.resolve("pytorch_model.bin"), new byte[] {0x50, 0x4b});
    FormatException e =
        expectFormat(dir, UNSUPPORTED_FORMAT, null, () -> SafetensorsModel.open(dir));
    assertTrue(
        e.getMessage().contains("pytorch_model.bin") && e.getMessage().contains("convert"),
        e.getMessage());
    Path sharded = Files.createDirectory(dir.resolve("sharded"));
    Files.writeString(sharded.resolve("pytorch_model.bin.index.json"), "{}");
    expectFormat(sharded, UNSUPPORTED_FORMAT, null, () -> SafetensorsModel.open(sharded));
    Path pth = Files.write(dir.resolve("consolidated.00.pth"), new byte[8]);
    expectFormat(pth, UNSUPPORTED_FORMAT, null, () -> SafetensorsModel.open(pth));
  }

  @Test
  void indexNamingAMissingShard() throws IOException {
    twoShards();
    Path idx =
        index(
            "{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
                + "\"c\":\"model-00003-of-00003.safetensors\"}");
    FormatException e = expectFormat(idx, MISSING_FILE, "c", () -> SafetensorsModel.open(dir));
    assertTrue(e.getMessage().contains("model-00003-of-00003.safetensors"), e.getMessage());
  }

  @Test
  void tensorInAShardButNotInTheIndex() throws IOException {
    twoShards();
    Path idx =
        index(
            "{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}");
    expectFormat(idx, BAD_INDEX, "b", () -> SafetensorsModel.open(dir));
  }

  @Test
  void tensorInTheIndexButInNoShard() throws IOException {
    twoShards();
    Path idx =
        index(
            "{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
                + "\"c\":\"model-00002-of-00002.safetensors\",\"d\":\"model-00002-of-00002.safetensors\"}");
    FormatException e = expectFormat(idx, BAD_INDEX, "d", () -> SafetensorsModel.open(dir));
    assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
  }

  @Test
  void tensorInTheWrongShard() throws IOException {
    twoShards();
    Path idx =
        index(
            "{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\","
                + "\"c\":\"model-00002-of-00002.safetensors\"}");
    FormatException e = expectFormat(idx, BAD_INDEX, "b", () -> SafetensorsModel.open(dir));
    assertTrue(
        e.getMessage().contains("model-00001-of-00002.safetensors")
            && e.getMessage().contains("model-00002-of-00002.safetensors"),
        e.getMessage());
  }

  @Test
  void tensorInTwoShards() throws IOException {
    shard(dir.resolve("model-00001-of-00002.safetensors"), "a", "b");
    Path second = shard(dir.resolve("model-00002-of-00002.safetensors"), "b", "c");
    index(
        "{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
            + "\"c\":\"model-00002-of-00002.safetensors\"}");
    FormatException e = expectFormat(second, DUPLICATE_NAME, "b", () -> SafetensorsModel.open(dir));
    assertTrue(e.getMessage().contains("model-00001-of-00002.safetensors"), e.getMessage());
    // Reported as a duplicate whichever shard the index names.
    index(
        "{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\","
            + "\"c\":\"model-00002-of-00002.safetensors\"}");
    expectFormat(second, DUPLICATE_NAME, "b", () -> SafetensorsModel.open(dir));
  }

  @Test
  void malformedIndexes() throws IOException {
    twoShards();
    Path idx = dir.resolve("model.safetensors.index.json");
    Files.writeString(idx, "{\"weight_map\":");
    expectFormat(idx, BAD_INDEX, null, () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "[]");
    expectFormat(idx, BAD_INDEX, null, () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"metadata\":{}}");
    expectFormat(idx, BAD_INDEX, null, () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"weight_map\":[]}");
    expectFormat(idx, BAD_INDEX, null, () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"weight_map\":{}}");
    expectFormat(idx, BAD_INDEX, null, () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"weight_map\":{\"a\":1}}");
    expectFormat(idx, BAD_INDEX, "a", () -> SafetensorsModel.open(dir));
    Files.writeString(
        idx, "{\"metadata\":3,\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\"}}");
    expectFormat(idx, BAD_INDEX, null, () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}}");
    expectFormat(idx, BAD_INDEX, "a", () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"weight_map\":{\"a\":\"/etc/passwd\"}}");
    expectFormat(idx, BAD_INDEX, "a", () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"weight_map\":{\"a\":\"x.safetensors\",\"a\":\"y.safetensors\"}}");
    expectFormat(idx, DUPLICATE_NAME, "a", () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"weight_map\":{},\"weight_map\":{}}");
    expectFormat(idx, DUPLICATE_NAME, null, () -> SafetensorsModel.open(dir));
    Files.writeString(idx, "{\"weight_map\":{\"a\":\"x.safetensors\"}} x");
    expectFormat(idx, BAD_INDEX, null, () -> SafetensorsModel.open(dir));
    // bytes Jackson reads as broken UTF-32 (the tokenizer.json fuzz finding, here for the index)
    Files.write(idx, new byte[] {1, 0, 0, 0, 0, 0, 0, (byte) 0xf8});
    expectFormat(idx, BAD_INDEX, null, () -> SafetensorsModel.open(dir));
  }

  @Test
  void aCorruptShardIsReportedByItsOwnName() throws IOException {
    twoShards();
    index(
        "{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
            + "\"c\":\"model-00002-of-00002.safetensors\"}");
    Path bad =
        Fixtures.raw(
            dir.resolve("model-00002-of-00002.safetensors"),
            "{\"c\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,1]}}",
            1);
    expectFormat(bad, SIZE_MISMATCH, "c", () -> SafetensorsModel.open(dir));
  }
}
