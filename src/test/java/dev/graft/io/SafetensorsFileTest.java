package dev.graft.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Real safetensors files, good and hostile: read exactly, or refused naming the tensor. */
class SafetensorsFileTest {
  @TempDir Path dir;

  @Test
  void readsF32F16Bf16TensorsWithShapesOrderAndMetadata() throws Exception {
    INDArray a =
        Nd4j.createFromArray(new float[] {1.5f, -2.25f, 0f, 3e-5f, 65504f, -0.125f}).reshape(2, 3);
    INDArray b = Nd4j.createFromArray(new float[] {0.5f, -1f, 6.103515625e-5f, 1f / 1024 / 16});
    INDArray c = Nd4j.createFromArray(new float[] {1f, -3.5f, 0x1p100f, 256f}).reshape(2, 1, 2);
    Path f =
        new SafetensorsWriter()
            .metadata("format", "pt")
            .add("z.weight", a)
            .add("a.half", b, "F16")
            .add("m.bf16", c, "BF16")
            .write(dir.resolve("m.safetensors"));
    try (SafetensorsFile s = SafetensorsFile.open(f)) {
      assertEquals(List.of("z.weight", "a.half", "m.bf16"), s.names());
      assertEquals(Map.of("format", "pt"), s.metadata());
      assertArrayEquals(new long[] {2, 3}, s.shape("z.weight"));
      assertEquals("F16", s.dtype("a.half"));
      assertEquals(a, s.read("z.weight"));
      assertEquals(b, s.read("a.half"));
      assertArrayEquals(new long[] {2, 1, 2}, s.read("m.bf16").shape());
      assertEquals(c, s.read("m.bf16"));
      assertThrows(IllegalArgumentException.class, () -> s.read("nope"));
    }
  }

  @Test
  void halfConversionIsExactIncludingSubnormalsAndSpecials() {
    assertEquals(1f, SafetensorsFile.halfToFloat((short) 0x3c00));
    assertEquals(-2f, SafetensorsFile.halfToFloat((short) 0xc000));
    assertEquals(65504f, SafetensorsFile.halfToFloat((short) 0x7bff));
    assertEquals(0x1p-24f, SafetensorsFile.halfToFloat((short) 0x0001));
    assertEquals(Float.NEGATIVE_INFINITY, SafetensorsFile.halfToFloat((short) 0xfc00));
    assertTrue(Float.isNaN(SafetensorsFile.halfToFloat((short) 0x7e00)));
    assertEquals(
        Float.floatToIntBits(-0f),
        Float.floatToIntBits(SafetensorsFile.halfToFloat((short) 0x8000)));
  }

  private RefusedFileException refused(Path file) {
    return assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () -> assertThrows(RefusedFileException.class, () -> SafetensorsFile.open(file).close()));
  }

  private Path hostile(String header) throws IOException {
    return new SafetensorsWriter()
        .add("w", Nd4j.ones(2, 2))
        .write(dir.resolve("h" + header.hashCode() + ".safetensors"), header);
  }

  @Test
  void duplicateKeysAreRefused() throws Exception {
    RefusedFileException e =
        refused(
            hostile(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                    + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"));
    assertTrue(e.getMessage().contains("Duplicate field 'w'"), e.getMessage());
  }

  @Test
  void longNumbersAndNegativeOrFractionalSizesAreRefused() throws Exception {
    String digits = "1".repeat(5000);
    refused(
        hostile("{\"w\":{\"dtype\":\"F32\",\"shape\":[" + digits + "],\"data_offsets\":[0,16]}}"));
    refused(hostile("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,-2],\"data_offsets\":[0,16]}}"));
    refused(hostile("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0,2],\"data_offsets\":[0,16]}}"));
  }

  @Test
  void offsetsOutsideTheFileOrOverlappingAreRefusedNamingTheTensor() throws Exception {
    RefusedFileException outside =
        refused(hostile("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}"));
    assertEquals("w", outside.entry());
    assertTrue(outside.getMessage().contains("outside the data section"), outside.getMessage());
    Path two =
        new SafetensorsWriter()
            .add("a", Nd4j.ones(2, 2))
            .add("b", Nd4j.ones(2, 2))
            .write(
                dir.resolve("overlap.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                    + "\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}");
    RefusedFileException overlap = refused(two);
    assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());
  }

  @Test
  void sizesMustMatchShapeTimesDtypeAndOverflowIsCaught() throws Exception {
    refused(hostile("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}"));
    refused(hostile("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"));
    refused(
        hostile(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                + "\"data_offsets\":[0,16]}}"));
  }

  @Test
  void otherDtypesAndNonStringMetadataAreRefused() throws Exception {
    RefusedFileException e =
        refused(hostile("{\"w\":{\"dtype\":\"X64\",\"shape\":[2],\"data_offsets\":[0,16]}}"));
    assertTrue(e.getMessage().contains("'X64'"), e.getMessage());
    // an I64 counter may be listed, and is refused only when read
    Path counter = hostile("{\"w\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}");
    try (SafetensorsFile s = SafetensorsFile.open(counter)) {
      assertEquals("I64", s.dtype("w"));
      RefusedFileException r = assertThrows(RefusedFileException.class, () -> s.read("w"));
      assertTrue(r.getMessage().contains("I64"), r.getMessage());
    }
    refused(
        hostile(
            "{\"__metadata__\":{\"k\":3},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"));
  }

  @Test
  void hugeOrLyingHeaderLengthsAreRefusedWithoutAllocating() throws Exception {
    Path f = dir.resolve("huge.safetensors");
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(Long.MAX_VALUE).putLong(0);
    Files.write(f, b.array());
    assertTrue(refused(f).getMessage().contains("header length"));
    b.clear();
    b.putLong(1L << 20).putLong(0);
    Files.write(f, b.array());
    assertTrue(refused(f).getMessage().contains("truncated"));
    Files.write(f, new byte[] {1, 2, 3});
    refused(f);
    Path pickle = dir.resolve("p.safetensors");
    Files.write(pickle, new byte[] {(byte) 0x80, 2, 'c', 'o', 's', '\n', 0, 0, 0, 0, 0, 0});
    refused(pickle);
  }

  @Test
  void deepNestingIsRefused() throws Exception {
    refused(hostile("{\"__metadata__\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}"));
  }
}
