package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.graft.Graft;
import dev.graft.base.Bases;
import dev.graft.base.Preprocessing;
import dev.graft.base.Weights;
import dev.graft.data.ImageFolder;
import dev.graft.data.Split;
import dev.graft.demo.DemoData;
import dev.graft.demo.MnistTransferDemo;
import dev.graft.head.Head;
import dev.graft.metrics.ClassificationReport;
import dev.graft.model.TransferModel;
import dev.graft.strategy.Strategy;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every {@code java} block of Graft's README, user guide and recipes page, compiled as written against the
 * installed Graft: a block that no longer compiles fails this build. Each block becomes the body
 * of one method; its page's {@code import} lines are its imports (nothing is imported for it), and
 * a name the page uses without declaring it (such as {@code loaded}, declared by an earlier block)
 * becomes a parameter from {@link #GIVENS}, filled with a real object made through Graft's API.
 *
 * <p>Blocks are then run in the working directory this test prepares (digit images, a small CNN
 * saved as {@code my-cnn.zip}, a JPEG), except those that need ImageNet weights
 * ({@code .imagenet()}): they would download about 100 MB, so they are compiled only, and this
 * test says so.
 */
class DocSnippetsTest {
  private static final Path WORK = Path.of("").toAbsolutePath();
  private static final Pattern FENCE = Pattern.compile("(?ms)^```java\\n(.*?)^```");

  /** Names the docs use without declaring them: their type, and how to make a real one. */
  private static final Map<String, Given> GIVENS = new LinkedHashMap<>();

  record Given(String type, Supplier<Object> value) {}

  private static TransferModel model;
  private static TransferModel loaded;

  @BeforeAll
  static void prepareTheWorkingDirectory() throws Exception {
    Files.createDirectories(WORK);
    DemoData digits = DemoData.load();
    Path flowers = digits.extract(WORK.resolve("flowers"), List.of(3, 7), 0, 12);
    Path flowersTest = digits.extract(WORK.resolve("flowers-test"), List.of(3, 7), 500, 5);
    // A base of your own, as the user guide's block loads it: 28 px input, cut at "pool2".
    ModelSerializer.writeModel(MnistTransferDemo.cnn(2, 7), WORK.resolve("my-cnn.zip").toFile(), true);
    ImageIO.write(rgb(digits.image(3, 0)), "jpg", WORK.resolve("a.jpg").toFile());
    ImageIO.write(rgb(digits.image(7, 0)), "jpg", WORK.resolve("rose.jpg").toFile());

    Split split = ImageFolder.of(flowers).split(0.75, 42);
    model = Graft.base(Bases.fromFile(WORK.resolve("my-cnn.zip")).inputSize(28)
            .preprocessing(Preprocessing.unit()).cut("pool2").load())
        .head(Head.averagePooling())
        .strategy(Strategy.features())
        .epochs(2)
        .fit(split.train(), split.validation());
    model.save(WORK.resolve("flowers.graft"));
    loaded = TransferModel.load(WORK.resolve("flowers.graft"));
    ClassificationReport r = loaded.evaluate(ImageFolder.of(flowersTest));
    List<Path> files = List.of(WORK.resolve("a.jpg"), WORK.resolve("rose.jpg"));

    GIVENS.put("model", new Given("dev.graft.model.TransferModel", () -> model));
    GIVENS.put("loaded", new Given("dev.graft.model.TransferModel", () -> loaded));
    GIVENS.put("r", new Given("dev.graft.metrics.ClassificationReport", () -> r));
    GIVENS.put("bufferedImage", new Given("java.awt.image.BufferedImage", () -> rgb(digits.image(7, 1))));
    GIVENS.put("preprocessedChw", new Given("float[]", () -> {
      float[] chw = new float[3 * 28 * 28];
      Arrays.fill(chw, 0.5f);
      return chw;
    }));
    GIVENS.put("files", new Given("java.util.List<java.nio.file.Path>", () -> files));
    // docs/recipes.md: VGG16's real architecture at 32 px with random weights (ImageNet's are a
    // 58 MB download), on a few digit images, so that the article's listings run in seconds.
    Split digits32 = ImageFolder.of(flowers).split(0.75, 42);
    GIVENS.put("vgg16", new Given("dev.graft.base.Base", once(() -> {
      try {
        return Bases.vgg16().weights(Weights.none()).inputSize(32).load();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    })));
    GIVENS.put("train", new Given("dev.graft.data.ImageDataset", digits32::train));
    GIVENS.put("validation", new Given("dev.graft.data.ImageDataset", digits32::validation));
  }

  @TestFactory
  List<DynamicTest> readme() throws IOException {
    return blocks("README.md");
  }

  @TestFactory
  List<DynamicTest> userGuide() throws IOException {
    return blocks("docs/user-guide.md");
  }

  @TestFactory
  List<DynamicTest> recipes() throws IOException {
    return blocks("docs/recipes.md");
  }

  /** A supplier that makes its value once. */
  private static Supplier<Object> once(Supplier<Object> make) {
    Object[] held = {null};
    return () -> held[0] != null ? held[0] : (held[0] = make.get());
  }

  private List<DynamicTest> blocks(String page) throws IOException {
    String text = Files.readString(Path.of(System.getProperty("graft.root")).resolve(page));
    List<String> bodies = new ArrayList<>();
    Set<String> imports = new LinkedHashSet<>();
    Matcher m = FENCE.matcher(text);
    while (m.find()) {
      StringBuilder body = new StringBuilder();
      for (String line : m.group(1).split("\n")) {
        if (line.startsWith("import ")) {
          imports.add(line.strip());
        } else {
          body.append(line).append('\n');
        }
      }
      bodies.add(body.toString());
    }
    assertFalse(bodies.isEmpty(), page + " has java blocks");
    List<DynamicTest> tests = new ArrayList<>();
    for (int i = 0; i < bodies.size(); i++) {
      String body = bodies.get(i);
      String name = page.replaceAll("\\W", "_") + "_block" + (i + 1);
      tests.add(DynamicTest.dynamicTest(page + " block " + (i + 1), () -> compileAndRun(name, imports, body)));
    }
    return tests;
  }

  private void compileAndRun(String name, Set<String> imports, String body) throws Exception {
    List<String> params = new ArrayList<>();
    List<Object> args = new ArrayList<>();
    for (Map.Entry<String, Given> g : GIVENS.entrySet()) {
      boolean used = Pattern.compile("(?<![\\w.])" + g.getKey() + "\\b").matcher(body).find();
      boolean declared = Pattern.compile("[\\w>\\]]\\s+" + g.getKey() + "\\s*=").matcher(body).find();
      if (used && !declared) {
        params.add(g.getValue().type() + " " + g.getKey());
        args.add(g.getValue().value().get());
      }
    }
    String source = String.join("\n", imports) + "\n\npublic class " + name + " {\n"
        + "  public static void run(" + String.join(", ", params) + ") throws Exception {\n"
        + body + "  }\n}\n";
    Path dir = Files.createDirectories(WORK.resolve("snippets").resolve(name));
    Path file = dir.resolve(name + ".java");
    Files.writeString(file, source);

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    StringWriter out = new StringWriter();
    try (StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, null, null)) {
      boolean ok = javac.getTask(out, fm, diagnostics,
          List.of("-classpath", System.getProperty("java.class.path"), "-d", dir.toString(), "-proc:none"),
          null, fm.getJavaFileObjects(file)).call();
      if (!ok) {
        StringBuilder sb = new StringBuilder("the docs' block does not compile against Graft (" + file + "):\n");
        diagnostics.getDiagnostics().forEach(d -> sb.append("  line ").append(d.getLineNumber()).append(": ")
            .append(d.getMessage(null)).append('\n'));
        fail(sb + "\n" + source);
      }
    }
    if (body.contains(".imagenet()")) {
      System.out.println(name + ": compiled; not run (needs ImageNet weights, a download of about 100 MB)");
      return;
    }
    try (URLClassLoader cl = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      Method run = Arrays.stream(cl.loadClass(name).getMethods()).filter(x -> x.getName().equals("run"))
          .findFirst().orElseThrow();
      run.invoke(null, args.toArray());
    }
    System.out.println(name + ": compiled and run");
  }

  private static BufferedImage rgb(BufferedImage gray) {
    BufferedImage out = new BufferedImage(gray.getWidth(), gray.getHeight(), BufferedImage.TYPE_INT_RGB);
    out.getGraphics().drawImage(gray, 0, 0, null);
    return out;
  }

  @org.junit.jupiter.api.Test
  void theWorkingDirectoryHoldsWhatTheBlocksRead() {
    assertTrue(Files.isRegularFile(WORK.resolve("my-cnn.zip")));
    assertEquals(2, loaded.labels().size());
  }
}
