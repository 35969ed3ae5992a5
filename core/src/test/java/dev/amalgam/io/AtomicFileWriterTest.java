package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell the format writers share: ordering of staged and direct bytes, the size check, rename
 * and cleanup.
 */
class AtomicFileWriterTest {
  @TempDir Path dir;

  @Test
  void stagedAndDirectBytesArriveInOrder() throws IOException {
    Random random = new Random(5);
    byte[] heap =
        new byte[AtomicFileWriter.STAGING_BYTES + 12345]; // more than the staging buffer holds
    byte[] direct = new byte[777];
    random.nextBytes(heap);
    random.nextBytes(direct);
    Path target = dir.resolve("f.bin");
    try (AtomicFileWriter out =
        AtomicFileWriter.create(target, AtomicFileWriter.Temporary.UNIQUE, false)) {
      out.setSync(false);
      out.room(4).putInt(0x04030201);
      out.putZeros(3);
      out.write(ByteBuffer.wrap(heap));
      out.write(ByteBuffer.allocateDirect(direct.length).put(direct).flip());
      out.room(1).put((byte) 9);
      assertEquals(4 + 3 + heap.length + direct.length + 1, out.position());
      assertFalse(Files.exists(target), "nothing at the target before finish");
      out.finish(out.position());
      assertTrue(out.committed());
    }
    ByteBuffer want = ByteBuffer.allocate(4 + 3 + heap.length + direct.length + 1);
    want.put(new byte[] {1, 2, 3, 4, 0, 0, 0}).put(heap).put(direct).put((byte) 9);
    assertArrayEquals(want.array(), Files.readAllBytes(target));
    assertEquals(List.of("f.bin"), list());
  }

  @Test
  void wrongSizeIsRefusedAndCloseLeavesNothing() throws IOException {
    Path target = dir.resolve("g.bin");
    try (AtomicFileWriter out =
        AtomicFileWriter.create(target, AtomicFileWriter.Temporary.FIXED, true)) {
      assertEquals(dir.resolve(".g.bin.partial"), out.temporary());
      out.write(ByteBuffer.wrap(new byte[10]));
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> out.finish(11));
      assertEquals(target + ": wrote 10 bytes, expected 11", e.getMessage());
      assertThrows(
          IllegalStateException.class, out::commit, "no commit before the data is finished");
    }
    assertEquals(List.of(), list());
  }

  @Test
  void fixedTemporaryReplacesLeftoversAndTarget() throws IOException {
    Files.writeString(
        dir.resolve(".h.bin.partial"), "left by a crashed run, longer than the new file");
    Path target = Files.writeString(dir.resolve("h.bin"), "old");
    try (AtomicFileWriter out =
        AtomicFileWriter.create(target, AtomicFileWriter.Temporary.FIXED, true)) {
      out.write(ByteBuffer.wrap(new byte[] {'n', 'e', 'w'}));
      out.finish(3);
      IllegalStateException e = assertThrows(IllegalStateException.class, out::ensureWritable);
      assertEquals(target + ": writer is finished", e.getMessage());
    }
    assertEquals("new", Files.readString(target));
    assertEquals(List.of("h.bin"), list());
  }

  @Test
  void withoutOverwriteAnExistingTargetIsKept() throws IOException {
    Path target = Files.writeString(dir.resolve("k.bin"), "keep");
    assertThrows(
        FileAlreadyExistsException.class,
        () -> AtomicFileWriter.create(target, AtomicFileWriter.Temporary.UNIQUE, false));
    Path raced = dir.resolve("r.bin");
    try (AtomicFileWriter out =
        AtomicFileWriter.create(raced, AtomicFileWriter.Temporary.UNIQUE, false)) {
      assertTrue(out.temporary().getFileName().toString().startsWith(".r.bin.amalgam-partial-"));
      Files.writeString(raced, "raced");
      assertThrows(FileAlreadyExistsException.class, () -> out.finish(0));
    }
    assertEquals("keep", Files.readString(target));
    assertEquals("raced", Files.readString(raced));
    assertEquals(List.of("k.bin", "r.bin"), list());
  }

  @Test
  void closedWriterRefusesWrites() throws IOException {
    Path target = dir.resolve("c.bin");
    AtomicFileWriter out =
        AtomicFileWriter.create(target, AtomicFileWriter.Temporary.UNIQUE, false);
    out.close();
    out.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, out::ensureWritable);
    assertEquals(target + ": writer is closed", e.getMessage());
    assertEquals(List.of(), list());
  }

  private List<String> list() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void writeFailuresNameTheFileAndAFullDiskSaysWhatToDo() {
    Path file = Path.of("/out/.m.partial/model.safetensors");
    IOException named =
        AtomicFileWriter.failure(file, "writing", new IOException("No space left on device"));
    assertTrue(named instanceof java.nio.file.FileSystemException, named.toString());
    assertTrue(
        named.getMessage().startsWith(file + ": writing failed: No space left"),
        named.getMessage());
    assertTrue(named.getMessage().contains("free space"), named.getMessage());
    assertTrue(named.getCause() instanceof IOException);
    IOException already = new java.nio.file.AccessDeniedException(file.toString());
    assertTrue(AtomicFileWriter.failure(file, "writing", already) == already, "already named");
  }
}
