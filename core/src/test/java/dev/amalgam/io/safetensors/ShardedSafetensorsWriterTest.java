package dev.amalgam.io.safetensors;

import static dev.amalgam.io.safetensors.Fixtures.info;
import static dev.amalgam.io.safetensors.SafetensorsWriterTest.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsWriterTest {
  @TempDir Path dir;

  /** Byte sizes 40, 40, 30, 100, 10, 0, 50 (U8). */
  static List<TensorInfo> sized(long... bytes) {
    List<TensorInfo> out = new ArrayList<>();
    for (int i = 0; i < bytes.length; i++) out.add(info("t" + i, DType.U8, bytes[i]));
    return out;
  }

  static List<List<String>> names(List<ShardedSafetensorsWriter.Shard> shards) {
    return shards.stream()
        .map(s -> s.tensors().stream().map(TensorInfo::name).collect(Collectors.toList()))
        .collect(Collectors.toList());
  }

  @Test
  void planFollowsMergekitsRule() {
    List<ShardedSafetensorsWriter.Shard> shards =
        ShardedSafetensorsWriter.plan(sized(40, 40, 30, 100, 10, 0, 50), 80);
    assertEquals(
        List.of(List.of("t0", "t1"), List.of("t2"), List.of("t3"), List.of("t4", "t5", "t6")),
        names(shards));
    assertEquals(
        List.of(80L, 30L, 100L, 60L),
        shards.stream()
            .map(ShardedSafetensorsWriter.Shard::dataBytes)
            .collect(Collectors.toList()));
    assertEquals(
        List.of(
            "model-00001-of-00004.safetensors",
            "model-00002-of-00004.safetensors",
            "model-00003-of-00004.safetensors",
            "model-00004-of-00004.safetensors"),
        shards.stream().map(ShardedSafetensorsWriter.Shard::fileName).collect(Collectors.toList()));
    // An oversized first tensor gets a shard of its own.
    assertEquals(
        List.of(List.of("t0"), List.of("t1", "t2")),
        names(ShardedSafetensorsWriter.plan(sized(200, 5, 5), 80)));
    // Everything fits: one shard, unnumbered.
    List<ShardedSafetensorsWriter.Shard> one = ShardedSafetensorsWriter.plan(sized(1, 2, 3), 80);
    assertEquals(1, one.size());
    assertEquals("model.safetensors", one.get(0).fileName());
    // No tensors: one empty shard.
    assertEquals(List.of(List.of()), names(ShardedSafetensorsWriter.plan(List.of(), 80)));
    // No overflow near Long.MAX_VALUE.
    assertEquals(1, ShardedSafetensorsWriter.plan(sized(10, 10), Long.MAX_VALUE - 5).size());
    assertThrows(IllegalArgumentException.class, () -> ShardedSafetensorsWriter.plan(sized(1), 0));
  }

  @Test
  void writesShardsAndIndexThatReadBack() throws IOException {
    Random random = new Random(11);
    List<TensorInfo> tensors =
        List.of(
            info("model.embed_tokens.weight", DType.BF16, 8, 4),
            info("model.layers.0.input_layernorm.weight", DType.F32, 4),
            info("model.layers.0.self_attn.q_proj.weight", DType.BF16, 4, 4),
            info("model.layers.0.empty", DType.F16, 0),
            info("model.norm.weight", DType.F32, 4),
            info("lm_head.weight", DType.BF16, 8, 4));
    Map<String, byte[]> data = Fixtures.randomData(tensors, random);
    long total = tensors.stream().mapToLong(TensorInfo::byteSize).sum();
    Map<String, String> meta = new java.util.LinkedHashMap<>();
    for (String k : List.of("z", "merged_by", "a", "m"))
      meta.put(k, k.toUpperCase(java.util.Locale.ROOT));
    try (ShardedSafetensorsWriter w = ShardedSafetensorsWriter.open(dir, tensors, 64, meta)) {
      assertEquals(
          List.of(
              List.of("model.embed_tokens.weight"),
              List.of(
                  "model.layers.0.input_layernorm.weight",
                  "model.layers.0.self_attn.q_proj.weight",
                  "model.layers.0.empty",
                  "model.norm.weight"),
              List.of("lm_head.weight")),
          names(w.shards()));
      assertEquals(total, w.totalBytes());
      w.setSync(false);
      Fixtures.writeAll(tensors, data, random, w::beginTensor, w::write);
      assertFalse(
          Files.exists(dir.resolve("model-00001-of-00003.safetensors")),
          "renamed only by finish()");
      w.finish();
    }
    assertEquals(
        List.of(
            "model-00001-of-00003.safetensors",
            "model-00002-of-00003.safetensors",
            "model-00003-of-00003.safetensors",
            "model.safetensors.index.json"),
        list(dir));

    String indexText = Files.readString(dir.resolve("model.safetensors.index.json"));
    assertTrue(
        indexText.startsWith("{\n  \"metadata\": {\n    \"total_size\": " + total + "\n  },\n"),
        indexText);
    assertTrue(indexText.endsWith("}\n"), indexText);
    JsonNode index = new ObjectMapper().readTree(indexText);
    assertEquals(total, index.get("metadata").get("total_size").asLong());
    List<String> keys = new ArrayList<>();
    for (Iterator<String> it = index.get("weight_map").fieldNames(); it.hasNext(); )
      keys.add(it.next());
    assertEquals(
        tensors.stream().map(TensorInfo::name).collect(Collectors.toList()), keys, "tensor order");
    assertEquals(
        "model-00002-of-00003.safetensors",
        index.get("weight_map").get("model.norm.weight").asText());
    assertEquals(
        "model-00003-of-00003.safetensors", index.get("weight_map").get("lm_head.weight").asText());

    try (SafetensorsModel m = SafetensorsModel.open(dir)) {
      assertEquals(tensors, m.tensors());
      assertEquals(total, m.totalBytes());
      assertEquals(((Number) m.metadata().get("total_size")).longValue(), total);
      assertEquals(3, m.files().size());
      assertEquals(dir.resolve("model-00002-of-00003.safetensors"), m.files().get(1));
      for (TensorInfo t : tensors) {
        assertEquals(t, m.tensor(t.name()).orElseThrow());
        org.junit.jupiter.api.Assertions.assertArrayEquals(
            data.get(t.name()),
            Fixtures.bytes(m.data(t.name()).slice(0, t.elementCount())),
            t.name());
      }
      for (SafetensorsFile shard : m.shards()) {
        assertEquals(
            List.of("format", "z", "merged_by", "a", "m"),
            new ArrayList<>(shard.metadata().keySet()));
      }
    }
  }

  @Test
  void oneShardIsModelSafetensorsWithoutIndexAndDropsAStaleIndex() throws IOException {
    Files.writeString(
        dir.resolve("model.safetensors.index.json"),
        "{\"weight_map\":{\"old\":\"gone.safetensors\"}}");
    List<TensorInfo> tensors = List.of(info("a", DType.F32, 3), info("b", DType.U8, 5));
    Map<String, byte[]> data = Fixtures.randomData(tensors, new Random(3));
    try (ShardedSafetensorsWriter w =
        ShardedSafetensorsWriter.open(dir, tensors, 1 << 20, Map.of())) {
      Fixtures.writeAll(tensors, data, new Random(4), w::beginTensor, w::write);
      w.finish();
    }
    assertEquals(List.of("model.safetensors"), list(dir));
    try (SafetensorsModel m = SafetensorsModel.open(dir)) {
      assertEquals(tensors, m.tensors());
      assertEquals(Map.of(), m.metadata());
      Fixtures.assertContent(m.shards().get(0), data);
    }
  }

  @Test
  void emptyModelIsOneEmptyFile() throws IOException {
    Path out = dir.resolve("new/sub");
    try (ShardedSafetensorsWriter w = ShardedSafetensorsWriter.open(out, List.of(), 10, Map.of())) {
      w.finish();
    }
    assertEquals(List.of("model.safetensors"), list(out));
    try (SafetensorsModel m = SafetensorsModel.open(out)) {
      assertTrue(m.tensors().isEmpty());
    }
  }

  @Test
  void abortedShardedWriteRemovesEverythingItWrote() throws IOException {
    Files.writeString(dir.resolve("config.json"), "{}");
    List<TensorInfo> tensors = sized(40, 40, 30, 100, 10);
    try (ShardedSafetensorsWriter w = ShardedSafetensorsWriter.open(dir, tensors, 80, Map.of())) {
      w.setSync(false);
      for (String name : List.of("t0", "t1", "t2")) {
        w.beginTensor(name);
        w.write(
            ByteBuffer.allocate((int) tensors.get(Integer.parseInt(name.substring(1))).byteSize()));
      }
      w.beginTensor("t3");
      w.write(ByteBuffer.allocate(10));
      assertThrows(IllegalStateException.class, w::finish);
      assertThrows(IllegalStateException.class, () -> w.beginTensor("t4"), "t3 incomplete");
    }
    assertEquals(List.of("config.json"), list(dir));

    Path fresh = dir.resolve("fresh");
    try (ShardedSafetensorsWriter w = ShardedSafetensorsWriter.open(fresh, tensors, 80, Map.of())) {
      w.beginTensor("t0");
    }
    assertFalse(Files.exists(fresh), "a directory the writer created and left empty is removed");
  }

  @Test
  void misuseIsRejected() throws IOException {
    List<TensorInfo> tensors = sized(4, 4);
    try (ShardedSafetensorsWriter w = ShardedSafetensorsWriter.open(dir, tensors, 4, Map.of())) {
      assertThrows(IllegalStateException.class, () -> w.write(ByteBuffer.allocate(1)));
      assertThrows(IllegalStateException.class, () -> w.beginTensor("t1"));
      w.beginTensor("t0");
      assertThrows(IllegalStateException.class, () -> w.write(ByteBuffer.allocate(5)));
    }
    List<TensorInfo> twice = List.of(info("a", DType.U8, 1), info("a", DType.U8, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> ShardedSafetensorsWriter.open(dir, twice, 1, Map.of()));
    assertEquals(List.of(), list(dir));
  }
}
