package dev.amalgam.io.safetensors;

import static dev.amalgam.io.safetensors.Fixtures.info;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafetensorsWriterTest {
  @TempDir Path dir;

  static List<TensorInfo> mixedTensors() {
    return List.of(
        info("model.embed.weight", DType.BF16, 17, 9),
        info("scalar", DType.F64),
        info("empty", DType.F32, 0, 3),
        info("layers.0.q", DType.F32, 5, 7),
        info("layers.0.bias", DType.F16, 13),
        info("also.empty", DType.I32, 2, 0, 5),
        info("ids", DType.I64, 3),
        info("mask", DType.BOOL, 11),
        info("bytes", DType.U8, 1),
        info("fp4", DType.F4, 6),
        info("fp6", DType.F6_E2M3, 2, 4),
        info("fp8", DType.F8_E4M3, 5),
        info("complex", DType.C64, 2),
        info("ünïcode \"name\"", DType.I16, 3));
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 5, 8, 1000})
  void roundTripsRandomTensorsByteForByte(long seed) throws IOException {
    Random random = new Random(seed);
    List<TensorInfo> tensors = new ArrayList<>(mixedTensors());
    java.util.Collections.shuffle(tensors, random);
    Map<String, byte[]> data = Fixtures.randomData(tensors, random);
    Path f = dir.resolve("m.safetensors");
    try (SafetensorsWriter w = SafetensorsWriter.create(f, tensors, Map.of("k", "v"))) {
      w.setSync(seed % 2 == 0);
      Fixtures.writeAll(tensors, data, random, w::beginTensor, w::write);
      w.finish();
    }
    assertEquals(List.of("m.safetensors"), list(dir));
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertEquals(tensors, st.tensors(), "written in the given order");
      Fixtures.assertContent(st, data);
      long offset = 8 + st.headerLength();
      for (TensorInfo t : tensors) {
        assertEquals(offset, st.dataOffset(t.name()));
        offset += t.byteSize();
      }
      assertEquals(offset, Files.size(f));
      // Random sub-slices, on byte boundaries for sub-byte types.
      for (TensorInfo t : tensors) {
        long n = t.elementCount();
        int step = t.dtype() == DType.F4 ? 2 : t.dtype().bits() == 6 ? 4 : 1;
        for (int k = 0; k < 20 && n > 0; k++) {
          long first = random.nextInt((int) (n / step) + 1) * (long) step;
          long count = random.nextInt((int) ((n - first) / step) + 1) * (long) step;
          byte[] got = Fixtures.bytes(st.data(t.name()).slice(first, count));
          int from = (int) (first * t.dtype().bits() / 8);
          byte[] want = Arrays.copyOfRange(data.get(t.name()), from, from + got.length);
          assertArrayEquals(want, got, t.name() + " [" + first + ", +" + count + ")");
          assertEquals(count * t.dtype().bits() / 8, got.length);
        }
      }
    }
  }

  @Test
  void headerIsPaddedToEightWithMetadataFirstAndFormatPt() throws IOException {
    for (int nameLength = 1; nameLength <= 9; nameLength++) {
      String name = "x".repeat(nameLength);
      Path f = dir.resolve(name + ".safetensors");
      List<TensorInfo> tensors = List.of(info(name, DType.U8, 3));
      try (SafetensorsWriter w = SafetensorsWriter.create(f, tensors, Map.of())) {
        w.beginTensor(name);
        w.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        w.finish();
      }
      byte[] bytes = Files.readAllBytes(f);
      long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      assertEquals(0, (8 + n) % 8, "8 + N must be a multiple of 8");
      String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
      assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"}"), header);
      String trimmed = header.stripTrailing();
      assertTrue(trimmed.endsWith("}"));
      assertTrue(
          header.substring(trimmed.length()).chars().allMatch(c -> c == ' '), "pads with spaces");
      assertTrue(header.length() - trimmed.length() < 8);
      try (SafetensorsFile st = SafetensorsFile.open(f)) {
        assertEquals(Map.of("format", "pt"), st.metadata());
      }
    }
  }

  @Test
  void callerMetadataKeepsItsOrderAndItsFormat() throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("z", "1");
    meta.put("format", "mlx");
    meta.put("a", "ü");
    Path f = dir.resolve("meta.safetensors");
    try (SafetensorsWriter w = SafetensorsWriter.create(f, List.of(), meta)) {
      w.finish();
    }
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertEquals(List.of("z", "format", "a"), new ArrayList<>(st.metadata().keySet()));
      assertEquals(meta, st.metadata());
      assertTrue(st.tensors().isEmpty());
    }
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put("b", "2");
    Path g = dir.resolve("meta2.safetensors");
    try (SafetensorsWriter w = SafetensorsWriter.create(g, List.of(), extra)) {
      w.finish();
    }
    try (SafetensorsFile st = SafetensorsFile.open(g)) {
      assertEquals(List.of("format", "b"), new ArrayList<>(st.metadata().keySet()));
    }
  }

  @Test
  void largeHeapBufferIsWrittenInPieces() throws IOException {
    TensorInfo t = info("big", DType.F32, 3 << 18); // 3 MiB
    byte[] bytes = new byte[(int) t.byteSize()];
    new Random(7).nextBytes(bytes);
    Path f = dir.resolve("big.safetensors");
    try (SafetensorsWriter w = SafetensorsWriter.create(f, List.of(t), Map.of())) {
      w.setSync(false);
      w.beginTensor("big");
      w.write(ByteBuffer.wrap(bytes));
      w.finish();
    }
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      Fixtures.assertContent(st, Map.of("big", bytes));
    }
  }

  @Test
  void replacesAnExistingTarget() throws IOException {
    Path f = Files.writeString(dir.resolve("old.safetensors"), "junk");
    SafetensorsWriter w = SafetensorsWriter.create(f, List.of(info("a", DType.U8, 1)), Map.of());
    w.beginTensor("a");
    w.write(ByteBuffer.wrap(new byte[] {42}));
    assertEquals("junk", Files.readString(f), "the target is untouched until finish()");
    w.finish();
    w.close(); // after finish(): keeps the file, however often
    w.close();
    assertThrows(IllegalStateException.class, () -> w.beginTensor("a"));
    try (SafetensorsFile st = SafetensorsFile.open(f)) {
      assertEquals(42, st.data("a").slice(0, 1).get(0));
    }
    assertEquals(List.of("old.safetensors"), list(dir));
  }

  @Test
  void abortedWriteLeavesNothing() throws IOException {
    Path f = dir.resolve("aborted.safetensors");
    List<TensorInfo> tensors = List.of(info("a", DType.F32, 4), info("b", DType.F32, 4));
    try (SafetensorsWriter w = SafetensorsWriter.create(f, tensors, Map.of())) {
      assertTrue(Files.exists(dir.resolve(".aborted.safetensors.partial")));
      w.beginTensor("a");
      w.write(ByteBuffer.allocate(16));
      w.beginTensor("b");
      w.write(ByteBuffer.allocate(8));
      // no finish(): e.g. an exception in the merge
    }
    assertEquals(List.of(), list(dir));
  }

  @Test
  void misuseIsRejectedAndLeavesNothing() throws IOException {
    Path f = dir.resolve("misuse.safetensors");
    List<TensorInfo> tensors =
        List.of(info("a", DType.F32, 2), info("e", DType.F32, 0), info("b", DType.U8, 3));
    try (SafetensorsWriter w = SafetensorsWriter.create(f, tensors, Map.of())) {
      assertThrows(
          IllegalStateException.class, () -> w.write(ByteBuffer.allocate(1)), "write before begin");
      assertThrows(IllegalStateException.class, () -> w.beginTensor("b"), "out of order");
      w.beginTensor("a");
      ByteBuffer tooMuch = ByteBuffer.allocate(9);
      assertThrows(IllegalStateException.class, () -> w.write(tooMuch));
      assertEquals(9, tooMuch.remaining(), "nothing written on overrun");
      w.write(ByteBuffer.allocate(5));
      assertThrows(
          IllegalStateException.class, () -> w.beginTensor("e"), "previous tensor incomplete");
      assertThrows(IllegalStateException.class, w::finish);
      w.write(ByteBuffer.allocate(3));
      w.beginTensor("e");
      assertThrows(
          IllegalStateException.class, () -> w.write(ByteBuffer.allocate(1)), "empty tensor");
      w.write(ByteBuffer.allocate(0));
      IllegalStateException missing = assertThrows(IllegalStateException.class, w::finish);
      assertTrue(missing.getMessage().contains("'b'"), missing.getMessage());
      w.beginTensor("b");
      w.write(ByteBuffer.allocate(3));
      assertThrows(IllegalStateException.class, () -> w.beginTensor("c"), "not planned");
    }
    assertEquals(List.of(), list(dir));
  }

  @Test
  void invalidPlansAreRejectedBeforeAnythingIsWritten() throws IOException {
    Path f = dir.resolve("x.safetensors");
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SafetensorsWriter.create(
                f, List.of(info("a", DType.U8, 1), info("a", DType.U8, 1)), Map.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> SafetensorsWriter.create(f, List.of(info("__metadata__", DType.U8, 1)), Map.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> SafetensorsWriter.create(f, List.of(info("a", DType.U8, 1L << 48, 0)), Map.of()));
    assertFalse(Files.exists(f));
    assertTrue(list(dir).isEmpty());
  }

  static List<String> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }
}
