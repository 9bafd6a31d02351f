package dev.graft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir Path dir;

  @Test
  void aFailedWriteLeavesTheOldFileAndNoTemporary() throws IOException {
    Path target = dir.resolve("m.graft");
    AtomicFiles.write(target, ch -> ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3})));
    assertThrows(
        IOException.class,
        () ->
            AtomicFiles.write(
                target,
                ch -> {
                  ch.write(ByteBuffer.wrap(new byte[] {9}));
                  throw new IOException("disk full");
                }));
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
    assertEquals(List.of(target), list());
  }

  @Test
  void temporariesOfDeadProcessesAreRemovedAndThoseOfLiveOnesKept() throws Exception {
    Path target = dir.resolve("m.graft");
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    Path dead = dir.resolve(".m.graft.tmp-" + p.pid() + "-0123abcd");
    Path live = dir.resolve(".m.graft.tmp-" + ProcessHandle.current().pid() + "-89abcdef");
    Path oldStyle = dir.resolve(".m.graft.tmp-123e4567-e89b-12d3-a456-426614174000");
    Path other = dir.resolve(".other.graft.tmp-" + p.pid() + "-0123abcd");
    for (Path f : List.of(dead, live, oldStyle, other)) {
      Files.write(f, new byte[] {7});
    }
    Files.setLastModifiedTime(
        oldStyle,
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 7_200_000L));
    AtomicFiles.write(target, ch -> ch.write(ByteBuffer.wrap(new byte[] {1})));
    assertFalse(Files.exists(dead), "a dead process's temporary file is removed");
    assertFalse(Files.exists(oldStyle), "an hour-old temporary file of an older Graft is removed");
    assertTrue(Files.exists(live), "a live process's temporary file is kept");
    assertTrue(Files.exists(other), "another target's temporary file is kept");
  }

  private List<Path> list() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }
}
