package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.error.GraftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDatasetTest {

  static final Path MNIST = Path.of("src/test/resources/mnist");

  @TempDir Path dir;

  @Test
  void mnistFolderHasTenSortedClassesOfTwenty() throws Exception {
    ImageDataset data = ImageFolder.of(MNIST);
    assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), data.labels());
    assertEquals(200, data.size());
    assertArrayEquals(new int[] {20, 20, 20, 20, 20, 20, 20, 20, 20, 20}, data.classCounts());
    assertEquals(1.0, data.imbalance(), 1e-9);
    assertTrue(data.skipped().isEmpty());
    // Stable order: by class, then by file name.
    Sample first = data.samples().get(0);
    assertEquals(0, first.label());
    assertEquals(MNIST.resolve("0").resolve(ImageDecoderTest.firstFile("0")), first.path());
    for (int i = 1; i < data.size(); i++) {
      Sample a = data.samples().get(i - 1);
      Sample b = data.samples().get(i);
      assertTrue(
          a.label() < b.label()
              || (a.label() == b.label()
                  && a.path().toString().compareTo(b.path().toString()) < 0));
    }
    String d = data.describe();
    assertTrue(d.contains("200 images, 10 classes"), d);
    assertTrue(d.contains("imbalance 1.00"), d);
  }

  /** A folder per class with nested folders, hidden files and junk. */
  private Path folder() throws IOException {
    Path root = dir.resolve("pets");
    TestImages.write(TestImages.photo(40, 30, 1), "jpeg", root.resolve("cat/a.jpg"));
    TestImages.write(TestImages.photo(40, 30, 2), "png", root.resolve("cat/2019/b.png"));
    TestImages.write(TestImages.photo(40, 30, 3), "png", root.resolve("cat/.hidden.png"));
    TestImages.write(TestImages.photo(40, 30, 4), "png", root.resolve("cat/.thumbs/c.png"));
    Files.writeString(root.resolve("cat/Thumbs.db"), "junk");
    TestImages.write(TestImages.photo(40, 30, 5), "bmp", root.resolve("dog/x.bmp"));
    TestImages.write(TestImages.photo(40, 30, 6), "gif", root.resolve("dog/y.gif"));
    TestImages.write(TestImages.photo(40, 30, 7), "tiff", root.resolve("dog/z.TIF"));
    TestImages.write(TestImages.photo(40, 30, 8), "png", root.resolve(".git/objects/o.png"));
    TestImages.write(TestImages.photo(40, 30, 9), "png", root.resolve("__MACOSX/cat/a.png"));
    Files.writeString(root.resolve("README.md"), "about my pets");
    return root;
  }

  @Test
  void nestedFoldersAreIncludedAndHiddenIgnored() throws Exception {
    Path root = folder();
    ImageDataset data = ImageFolder.of(root);
    assertEquals(List.of("cat", "dog"), data.labels());
    List<String> names =
        data.samples().stream().map(s -> root.relativize(s.path()).toString()).toList();
    assertEquals(
        List.of("cat/2019/b.png", "cat/a.jpg", "dog/x.bmp", "dog/y.gif", "dog/z.TIF"), names);
    assertTrue(data.skipped().isEmpty(), data.skipped().toString());
  }

  @Test
  void badFilesAreSkippedAndListedOrStopAStrictScan() throws Exception {
    Path root = folder();
    Files.createFile(root.resolve("dog/empty.png"));
    Files.writeString(root.resolve("dog/notes.jpg"), "not a picture");
    Files.writeString(root.resolve("dog/labels.txt"), "dog");
    Path good = root.resolve("cat/a.jpg");
    TestImages.truncate(good, root.resolve("cat/cut.jpg"), 0.5);

    ImageDataset data = ImageFolder.of(root);
    Set<String> skipped = new HashSet<>();
    data.skipped().forEach(s -> skipped.add(s.path().getFileName() + " " + s.reason()));
    assertEquals(3, data.skipped().size(), data.skipped().toString());
    assertTrue(skipped.contains("empty.png zero-byte file"), skipped.toString());
    assertTrue(skipped.stream().anyMatch(s -> s.startsWith("notes.jpg not an image")));
    assertTrue(skipped.stream().anyMatch(s -> s.startsWith("labels.txt not an image file")));
    // The truncated JPEG passes the header check: ImageBatches skips it later, or verify now.
    assertEquals(6, data.size());
    assertTrue(data.describe().contains("skipped 3"), data.describe());

    ImageDataset verified = ImageFolder.of(root, ScanOptions.defaults().withVerify(true));
    assertEquals(5, verified.size());
    assertEquals(4, verified.skipped().size());
    assertTrue(
        verified.skipped().stream().anyMatch(s -> s.path().endsWith("cut.jpg")),
        verified.skipped().toString());

    GraftException e =
        assertThrows(
            GraftException.class,
            () -> ImageFolder.of(root, ScanOptions.defaults().withStrict(true)));
    assertTrue(e.getMessage().contains(root.resolve("dog").toString()), e.getMessage());
    e = assertThrows(GraftException.class, () -> ImageFolder.of(root, new ScanOptions(true, true)));
    assertTrue(
        e.getMessage().contains("cat/cut.jpg"), "first bad file in order: " + e.getMessage());
  }

  @Test
  void missingEmptyAndSingleClassFoldersAreClearErrors() throws Exception {
    Path missing = dir.resolve("nope");
    GraftException e = assertThrows(GraftException.class, () -> ImageFolder.of(missing));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

    Path root = folder();
    Path empty = Files.createDirectories(root.resolve("empty"));
    e = assertThrows(GraftException.class, () -> ImageFolder.of(root));
    assertTrue(
        e.getMessage().contains(empty.toString()) && e.getMessage().contains("no images"),
        e.getMessage());

    Path single = dir.resolve("single");
    TestImages.write(TestImages.photo(20, 20, 1), "png", single.resolve("only/a.png"));
    e = assertThrows(GraftException.class, () -> ImageFolder.of(single));
    assertTrue(
        e.getMessage().contains(single.toString()) && e.getMessage().contains("one class"),
        e.getMessage());

    Path flat = dir.resolve("flat");
    TestImages.write(TestImages.photo(20, 20, 1), "png", flat.resolve("a.png"));
    e = assertThrows(GraftException.class, () -> ImageFolder.of(flat));
    assertTrue(e.getMessage().contains("no class folders"), e.getMessage());

    Path file = Files.writeString(dir.resolve("file.txt"), "x");
    e = assertThrows(GraftException.class, () -> ImageFolder.of(file));
    assertTrue(e.getMessage().contains("file.txt"), e.getMessage());
  }

  @Test
  void fixedLabelsMapFoldersByName() throws Exception {
    Path root = dir.resolve("eval");
    TestImages.write(TestImages.photo(20, 20, 1), "png", root.resolve("dog/a.png"));
    ImageDataset data = ImageFolder.of(root, List.of("bird", "cat", "dog"), ScanOptions.defaults());
    assertEquals(List.of("bird", "cat", "dog"), data.labels());
    assertEquals(2, data.samples().get(0).label());
    TestImages.write(TestImages.photo(20, 20, 1), "png", root.resolve("cow/a.png"));
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> ImageFolder.of(root, List.of("bird", "cat", "dog"), ScanOptions.defaults()));
    assertTrue(e.getMessage().contains("cow"), e.getMessage());
  }

  @Test
  void splitIsStratifiedReproducibleAndDisjoint() throws Exception {
    ImageDataset data = ImageFolder.of(MNIST);
    Split a = data.split(0.75, 42);
    Split b = data.split(0.75, 42);
    Split c = data.split(0.75, 43);
    assertEquals(a.train().samples(), b.train().samples());
    assertEquals(a.validation().samples(), b.validation().samples());
    assertNotEquals(a.train().samples(), c.train().samples());
    assertArrayEquals(new int[] {15, 15, 15, 15, 15, 15, 15, 15, 15, 15}, a.train().classCounts());
    assertArrayEquals(new int[] {5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, a.validation().classCounts());
    Set<Sample> all = new HashSet<>(a.train().samples());
    all.addAll(a.validation().samples());
    assertEquals(200, all.size());
    assertEquals(data.labels(), a.validation().labels());

    ThreeWaySplit t = data.split(0.6, 0.2, 7);
    assertArrayEquals(new int[] {12, 12, 12, 12, 12, 12, 12, 12, 12, 12}, t.train().classCounts());
    assertArrayEquals(new int[] {4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, t.validation().classCounts());
    assertArrayEquals(new int[] {4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, t.test().classCounts());
    Set<Sample> three = new HashSet<>(t.train().samples());
    three.addAll(t.validation().samples());
    three.addAll(t.test().samples());
    assertEquals(200, three.size());
    assertEquals(t.test().samples(), data.split(0.6, 0.2, 7).test().samples());

    assertThrows(GraftException.class, () -> data.split(1.0, 1));
    assertThrows(GraftException.class, () -> data.split(0.7, 0.3, 1));
  }

  @Test
  void smallAndUnevenClassesStillGetBothParts() {
    List<Sample> samples = new ArrayList<>();
    int[] sizes = {2, 3, 7, 50};
    for (int c = 0; c < sizes.length; c++) {
      for (int i = 0; i < sizes[c]; i++) {
        samples.add(new Sample(Path.of("c" + c + "/" + i + ".png"), c));
      }
    }
    ImageDataset data = ImageDataset.of(List.of("a", "b", "c", "d"), samples);
    Split s = data.split(0.9, 1);
    assertArrayEquals(new int[] {1, 2, 6, 45}, s.train().classCounts());
    assertArrayEquals(new int[] {1, 1, 1, 5}, s.validation().classCounts());
    assertEquals(25.0, data.imbalance(), 1e-9);
    assertTrue(data.describe().contains("class weights"), data.describe());
    ThreeWaySplit t = data.split(0.8, 0.1, 1);
    assertArrayEquals(new int[] {2, 1, 5, 40}, t.train().classCounts());
    assertArrayEquals(new int[] {0, 1, 1, 5}, t.validation().classCounts());
    assertArrayEquals(new int[] {0, 1, 1, 5}, t.test().classCounts());
  }

  @Test
  void perClassAndFilterLabels() throws Exception {
    ImageDataset data = ImageFolder.of(MNIST);
    ImageDataset few = data.perClass(3, 5);
    assertArrayEquals(new int[] {3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, few.classCounts());
    assertEquals(few.samples(), data.perClass(3, 5).samples());
    assertNotEquals(few.samples(), data.perClass(3, 6).samples());
    assertEquals(200, data.perClass(100, 1).size());

    ImageDataset sevensAndOnes = data.filterLabels(List.of("7", "1"));
    assertEquals(List.of("7", "1"), sevensAndOnes.labels());
    assertArrayEquals(new int[] {20, 20}, sevensAndOnes.classCounts());
    for (Sample s : sevensAndOnes.samples()) {
      String folder = s.path().getParent().getFileName().toString();
      assertEquals(folder.equals("7") ? 0 : 1, s.label());
    }
    GraftException e = assertThrows(GraftException.class, () -> data.filterLabels(List.of("x")));
    assertTrue(e.getMessage().contains("'x'"));
    ImageDataset back = sevensAndOnes.relabel(data.labels());
    assertEquals(data.labels(), back.labels());
    for (Sample s : back.samples()) {
      assertEquals(s.path().getParent().getFileName().toString(), back.labels().get(s.label()));
    }
  }

  @Test
  void badLabelsAreRejected() {
    assertThrows(GraftException.class, () -> ImageDataset.of(List.of(), List.of()));
    assertThrows(GraftException.class, () -> ImageDataset.of(List.of("a", "a"), List.of()));
    GraftException e =
        assertThrows(
            GraftException.class,
            () -> ImageDataset.of(List.of("a"), List.of(new Sample(Path.of("x.png"), 3))));
    assertTrue(e.getMessage().contains("x.png"));
  }

  @Test
  void csvWithHeaderQuotesAndRelativePaths() throws Exception {
    Path imgs = dir.resolve("data/images");
    TestImages.write(TestImages.photo(20, 20, 1), "png", imgs.resolve("1.png"));
    TestImages.write(TestImages.photo(20, 20, 2), "jpeg", imgs.resolve("with, comma.jpg"));
    TestImages.write(TestImages.photo(20, 20, 3), "png", imgs.resolve("3.png"));
    Path abs = TestImages.write(TestImages.photo(20, 20, 4), "png", dir.resolve("elsewhere/4.png"));
    Path csv =
        Files.writeString(
            dir.resolve("data/train.csv"),
            String.join(
                "\n",
                "filename,species",
                "images/1.png,dog",
                "\"images/with, comma.jpg\",cat",
                "",
                "# a comment",
                "images/3.png,dog",
                abs.toAbsolutePath() + ",cat",
                "images/missing.png,cat",
                ""));
    ImageDataset data = ImageList.fromCsv(csv);
    assertEquals(List.of("cat", "dog"), data.labels());
    assertEquals(4, data.size());
    assertEquals(1, data.samples().get(0).label());
    assertEquals(imgs.resolve("1.png").toAbsolutePath().normalize(), data.samples().get(0).path());
    assertEquals(0, data.samples().get(1).label());
    assertEquals(1, data.skipped().size());
    assertEquals("file not found", data.skipped().get(0).reason());

    // No header, tab-separated, another base folder.
    Path tsv = Files.writeString(dir.resolve("list.tsv"), "1.png\ta\n3.png\tb\n");
    ImageDataset t = ImageList.fromCsv(tsv, imgs);
    assertEquals(List.of("a", "b"), t.labels());
    assertEquals(2, t.size());

    GraftException e =
        assertThrows(
            GraftException.class,
            () -> ImageList.fromCsv(csv, null, ScanOptions.defaults().withStrict(true)));
    assertTrue(e.getMessage().contains("missing.png"), e.getMessage());
    Path bad = Files.writeString(dir.resolve("bad.csv"), "path,label\nonly-a-path\n");
    e = assertThrows(GraftException.class, () -> ImageList.fromCsv(bad));
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    Path one = Files.writeString(dir.resolve("one.csv"), "data/images/1.png,dog\n");
    e = assertThrows(GraftException.class, () -> ImageList.fromCsv(one));
    assertTrue(e.getMessage().contains("one label"), e.getMessage());
    e = assertThrows(GraftException.class, () -> ImageList.fromCsv(dir.resolve("none.csv")));
    assertTrue(e.getMessage().contains("none.csv"), e.getMessage());
  }
}
