package dev.graft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rules of {@code docs/architecture.md} that the sources can prove: package imports form no
 * cycle, {@code error} imports nothing from Graft, and the trainer runs a plan without reading the
 * assembled graph back. Reads the imports and qualified names in the code of {@code src/main/java},
 * comments left out (Maven runs tests in the project directory).
 */
class ArchitectureRulesTest {
  private static final Path SOURCES = Path.of("src/main/java/dev/graft");

  /** An import, or a qualified name in code: {@code dev.graft.pkg.Type}. */
  private static final Pattern REFERENCE =
      Pattern.compile("\\b(dev\\.graft\\.(?:[a-z]\\w*\\.)*[A-Z]\\w*)");

  /** For each Graft package, the Graft classes its files refer to (fully qualified). */
  private static final Map<String, Set<String>> IMPORTS = new TreeMap<>();

  @BeforeAll
  static void readImports() throws IOException {
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String pkg = "dev.graft" + packageSuffix(SOURCES.relativize(f.getParent()));
        Set<String> into = IMPORTS.computeIfAbsent(pkg, k -> new TreeSet<>());
        for (String line : Files.readAllLines(f)) {
          String t = line.strip();
          if (t.startsWith("*") || t.startsWith("//") || t.startsWith("/*")) {
            continue; // Javadoc links are not dependencies
          }
          Matcher m = REFERENCE.matcher(line);
          while (m.find()) {
            into.add(m.group(1));
          }
        }
      }
    }
  }

  private static String packageSuffix(Path rel) {
    String s = rel.toString().replace('/', '.').replace('\\', '.');
    return s.isEmpty() ? "" : "." + s;
  }

  /** The package a fully qualified class name (or static member) lives in. */
  private static String packageOf(String qualified) {
    String best = "dev.graft";
    for (String pkg : IMPORTS.keySet()) {
      if (qualified.startsWith(pkg + ".")
          && Character.isUpperCase(qualified.charAt(pkg.length() + 1))
          && pkg.length() > best.length()) {
        best = pkg;
      }
    }
    return best;
  }

  @Test
  void packagesImportEachOtherInOneDirection() {
    Map<String, Set<String>> arrows = new TreeMap<>();
    IMPORTS.forEach(
        (pkg, classes) -> {
          Set<String> to = new TreeSet<>();
          classes.stream().map(ArchitectureRulesTest::packageOf).forEach(to::add);
          to.remove(pkg);
          arrows.put(pkg, to);
        });
    assertTrue(arrows.size() > 10, "found the packages: " + arrows.keySet());
    List<String> cycle = findCycle(arrows);
    assertTrue(cycle.isEmpty(), "import cycle between packages: " + String.join(" -> ", cycle));
  }

  /**
   * The package map in {@code docs/architecture.md} matches the code: every arrow it draws exists,
   * and every arrow between top-level packages (sub-packages folded in, arrows into {@code error}
   * left out as the page says) is drawn or named in the note under the picture ("{@code x} also
   * reaches {@code y}").
   */
  @Test
  void thePackageMapInTheDocsMatchesTheCode() throws IOException {
    String doc = Files.readString(Path.of("docs/architecture.md"));
    String picture =
        doc.substring(doc.indexOf("```mermaid"), doc.indexOf("```", doc.indexOf("```mermaid") + 3));
    Set<String> drawn = new TreeSet<>();
    Matcher arrow =
        Pattern.compile("(?m)^\\s*(\\w+)(?:\\[[^\\]]*\\])?\\s*-->\\s*(\\w+)").matcher(picture);
    while (arrow.find()) {
      drawn.add(arrow.group(1) + "->" + arrow.group(2));
    }
    assertTrue(drawn.size() > 10, "read the picture: " + drawn);
    Set<String> code = topLevelArrows();
    Set<String> stale = new TreeSet<>(drawn);
    stale.removeAll(code);
    assertEquals(
        Set.of(), stale, "arrows drawn in docs/architecture.md that the code does not have");

    int noteStart = doc.indexOf("```", doc.indexOf("```mermaid") + 3) + 3;
    String note = doc.substring(noteStart, doc.indexOf("\n\n|", noteStart));
    Set<String> named = new TreeSet<>();
    for (String clause : note.split("\\.\\s|;|\\.\\)")) {
      Matcher verb = Pattern.compile("\\b(reach|reaches|call|calls)\\b").matcher(clause);
      if (!verb.find()) {
        continue;
      }
      for (String from : packagesNamed(clause.substring(0, verb.start()))) {
        for (String to : packagesNamed(clause.substring(verb.end()))) {
          named.add(from + "->" + to);
        }
      }
    }
    Set<String> missing = new TreeSet<>(code);
    missing.removeAll(drawn);
    missing.removeAll(named);
    assertEquals(
        Set.of(), missing, "arrows in the code that docs/architecture.md neither draws nor names");
  }

  /** Backticked package names in a piece of the note ({@code perf.NativeTuning} names perf). */
  private static List<String> packagesNamed(String text) {
    Set<String> known = new TreeSet<>();
    IMPORTS.keySet().forEach(p -> known.add(shortName(p)));
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("`(\\w+)[^`]*`").matcher(text);
    while (m.find()) {
      if (known.contains(m.group(1))) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  /** Arrows between top-level packages as the picture names them ("root" for dev.graft). */
  private static Set<String> topLevelArrows() {
    Set<String> arrows = new TreeSet<>();
    IMPORTS.forEach(
        (pkg, classes) ->
            classes.stream()
                .map(ArchitectureRulesTest::packageOf)
                .map(ArchitectureRulesTest::shortName)
                .filter(to -> !to.equals(shortName(pkg)) && !to.equals("error"))
                .forEach(to -> arrows.add(shortName(pkg) + "->" + to)));
    return arrows;
  }

  /** {@code dev.graft.base.keras} -> {@code base}; {@code dev.graft} -> {@code root}. */
  private static String shortName(String pkg) {
    if (pkg.equals("dev.graft")) {
      return "root";
    }
    String rest = pkg.substring("dev.graft.".length());
    int dot = rest.indexOf('.');
    return dot < 0 ? rest : rest.substring(0, dot);
  }

  /** A class over ~400 lines says at its top why it is one class (a sentence with "Why"). */
  @Test
  void longClassesSayWhyTheyAreOneClass() throws IOException {
    List<String> silent = new ArrayList<>();
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        List<String> lines = Files.readAllLines(f);
        if (lines.size() <= 420) {
          continue;
        }
        String top = String.join("\n", lines.subList(0, topEnd(lines)));
        if (!top.contains("Why")) {
          silent.add(SOURCES.relativize(f) + " (" + lines.size() + " lines)");
        }
      }
    }
    assertEquals(List.of(), silent, "long classes without a reason at their top");
  }

  /** Index of the first type declaration line: the top is everything above it. */
  private static int topEnd(List<String> lines) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines
          .get(i)
          .matches("(public |abstract |final |sealed )*(class|interface|enum|record) .*")) {
        return i;
      }
    }
    return lines.size();
  }

  @Test
  void errorImportsNothingFromGraft() {
    assertEquals(Set.of(), IMPORTS.get("dev.graft.error"));
  }

  @Test
  void theTrainerRunsAPlanAndDoesNotReadTheGraphBack() {
    Set<String> train = IMPORTS.get("dev.graft.train");
    assertTrue(train.contains("dev.graft.strategy.TrainingPlan"), train.toString());
    assertFalse(train.contains("dev.graft.strategy.TransferGraph"), train.toString());
  }

  @Test
  void thePlanIsDataAndNoCodeAsksAFeedItsType() throws IOException {
    Pattern feedInstanceof = Pattern.compile("instanceof\\s+(TrainingPlan\\.)?Feed\\.");
    List<String> offenders = new ArrayList<>();
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        if (feedInstanceof.matcher(Files.readString(f)).find()) {
          offenders.add(SOURCES.relativize(f).toString());
        }
      }
    }
    assertEquals(List.of(), offenders, "dispatch on a Feed through Feed.Visitor, not instanceof");
    // the plan holds specifications, not closures into the graph it was made from
    String plan = Files.readString(SOURCES.resolve("strategy/TrainingPlan.java"));
    for (String closure : List.of("Supplier<", "Function<", "PhaseNetwork")) {
      assertFalse(plan.contains(closure), "TrainingPlan holds a closure: " + closure);
    }
  }

  @Test
  void theTrainingLoopReadsInOneScreen() throws IOException {
    // the loop trains and validates; each other concern is an EpochHook
    String trainer = Files.readString(SOURCES.resolve("train/Trainer.java"));
    int start = trainer.indexOf("private void runPhase(");
    int end = trainer.indexOf("\n  }\n", start);
    long lines = trainer.substring(start, end).lines().count();
    assertTrue(lines <= 35, "Trainer.runPhase is " + lines + " lines");
    for (String concern : List.of("sinceBest", "CheckpointFile", "log.info(")) {
      assertFalse(
          trainer.substring(start, end).contains(concern),
          "the loop handles " + concern + " itself instead of a hook");
    }
  }

  /** Code lines of every main source file, comments left out, by path under {@code dev/graft}. */
  private static Map<String, List<String>> codeLines() throws IOException {
    Map<String, List<String>> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        List<String> code = new ArrayList<>();
        for (String line : Files.readAllLines(f)) {
          String t = line.strip();
          if (!(t.startsWith("*") || t.startsWith("//") || t.startsWith("/*"))) {
            code.add(line);
          }
        }
        out.put(SOURCES.relativize(f).toString(), code);
      }
    }
    return out;
  }

  /** Where code matches {@code pattern}: "file: line" for each hit. */
  private static List<String> hits(Pattern pattern) throws IOException {
    List<String> found = new ArrayList<>();
    codeLines()
        .forEach(
            (file, lines) ->
                lines.stream()
                    .filter(l -> pattern.matcher(l).find())
                    .forEach(l -> found.add(file + ": " + l.strip())));
    return found;
  }

  /** A {@code Weights} variant loads itself ({@code Weights.loadInto}); nobody dispatches on it. */
  @Test
  void noInstanceofDispatchOnWeights() throws IOException {
    assertEquals(
        List.of(),
        hits(Pattern.compile("instanceof\\s+(dev\\.graft\\.base\\.)?Weights\\.")),
        "instanceof on Weights variants");
  }

  /** The most lines a CLI command's {@code run()} may have: parsing, one library call, printing. */
  private static final int COMMAND_BUDGET = 60;

  /** Each CLI command's {@code run()} stays within {@link #COMMAND_BUDGET} lines. */
  @Test
  void noCliCommandIsOverItsBudget() throws IOException {
    List<String> over = new ArrayList<>();
    int commands = 0;
    for (var e : codeLines().entrySet()) {
      if (!e.getKey().matches("cli/\\w+Command\\.java")) {
        continue;
      }
      List<String> lines = e.getValue();
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).matches("  (public )?(int|Integer) (run|call)\\(\\).*\\{")) {
          commands++;
          int end = i + 1;
          while (end < lines.size() && !lines.get(end).equals("  }")) {
            end++;
          }
          if (end - i + 1 > COMMAND_BUDGET) {
            over.add(e.getKey() + " (" + (end - i + 1) + " lines)");
          }
        }
      }
    }
    assertTrue(commands >= 6, "found the commands' run(): " + commands);
    assertEquals(List.of(), over, "CLI commands over " + COMMAND_BUDGET + " lines");
  }

  /**
   * Settings are read typed ({@code ModelInfo.provenance()}), in the library and its tests; only
   * {@code model/Provenance.java} parses the model file's string settings.
   */
  @Test
  void noStringKeyedSettingsLookup() throws IOException {
    Pattern lookup = Pattern.compile("settings\\(\\)\\s*\\.\\s*(get|getOrDefault|containsKey)\\(");
    List<String> found = new ArrayList<>(hits(lookup));
    found.removeIf(h -> h.startsWith("model/Provenance.java"));
    try (Stream<Path> tests = Files.walk(Path.of("src/test/java"))) {
      for (Path f : tests.filter(p -> p.toString().endsWith(".java")).toList()) {
        for (String line : Files.readAllLines(f)) {
          if (lookup.matcher(line).find()) {
            found.add(f + ": " + line.strip());
          }
        }
      }
    }
    assertEquals(List.of(), found, "string-keyed settings lookups");
  }

  /** Hits of {@code pattern} outside the files allowed to hold it. */
  private static List<String> hitsOutside(Pattern pattern, String... allowed) throws IOException {
    List<String> found = new ArrayList<>(hits(pattern));
    found.removeIf(h -> List.of(allowed).stream().anyMatch(a -> h.startsWith(a + ": ")));
    return found;
  }

  /**
   * One place checks each run setting's range ({@code error/Ranges.java}): no other file compares a
   * batch size, an epoch count or a patience with its bound, or words the refusal itself.
   */
  @Test
  void oneRangeCheckForEachRunSetting() throws IOException {
    Pattern compare =
        Pattern.compile(
            "\\b(batch|batchSize|epochs)\\s*(<\\s*1|<=\\s*0)\\b|\\bpatience\\s*<\\s*0\\b");
    Pattern refusal =
        Pattern.compile(
            "\"(batch size|epochs|early-stopping patience|weight decay|learning rate) must");
    assertEquals(List.of(), hitsOutside(compare, "error/Ranges.java"), "range checks");
    assertEquals(List.of(), hitsOutside(refusal, "error/Ranges.java"), "range refusals");
  }

  /**
   * One place holds the rule of a logistic-regression head ({@code Strategy.checkHead}): nobody
   * else asks whether a strategy trains the head only, or words the refusal.
   */
  @Test
  void oneRuleForALogisticRegressionHead() throws IOException {
    assertEquals(
        List.of(),
        hitsOutside(
            Pattern.compile("\\bheadOnly\\(\\)"),
            "strategy/Strategy.java",
            "strategy/HeadOnly.java"),
        "headOnly() asked outside the rule");
    assertEquals(
        List.of(),
        hitsOutside(
            Pattern.compile("logistic-regression head is fitted on (the )?cached"),
            "strategy/Strategy.java"),
        "the rule worded outside Strategy.checkHead");
  }

  /**
   * One key type spells every cache key ({@code features/FeatureKey.java}): no other file writes a
   * key component as a {@code "|name="} literal.
   */
  @Test
  void oneCacheKeyFormat() throws IOException {
    assertEquals(
        List.of(),
        hitsOutside(Pattern.compile("\"\\|[a-zA-Z0-9-]+="), "features/FeatureKey.java"),
        "cache key text written outside FeatureKey");
  }

  /**
   * The settings a run records are written in one place ({@code RunSpec.settings} and {@code
   * recorded}): no other file puts a training setting, as text, into a settings map by name.
   */
  @Test
  void oneWriterOfTheRunSettings() throws IOException {
    assertEquals(
        List.of(),
        hitsOutside(
            Pattern.compile(
                "\\.put\\(\\s*\"(epochs|batchSize|learningRate|earlyStopping|classWeights"
                    + "|weightDecay|augmentation|cachedActivations|restoredEpoch|unfrozen"
                    + "|trainingSeconds)\",\\s*(Integer|Double|Boolean|Long|String)\\."),
            "RunSpec.java"),
        "settings written outside RunSpec");
  }

  /** A cycle as a path that starts and ends at the same package, or empty when there is none. */
  private static List<String> findCycle(Map<String, Set<String>> arrows) {
    Map<String, Integer> state = new TreeMap<>(); // 1: on the path, 2: done
    List<String> path = new ArrayList<>();
    for (String start : arrows.keySet()) {
      List<String> c = visit(start, arrows, state, path);
      if (!c.isEmpty()) {
        return c;
      }
    }
    return List.of();
  }

  private static List<String> visit(
      String pkg, Map<String, Set<String>> arrows, Map<String, Integer> state, List<String> path) {
    Integer s = state.get(pkg);
    if (s != null && s == 2) {
      return List.of();
    }
    if (s != null && s == 1) {
      List<String> cycle = new ArrayList<>(path.subList(path.indexOf(pkg), path.size()));
      cycle.add(pkg);
      return cycle;
    }
    state.put(pkg, 1);
    path.add(pkg);
    for (String next : arrows.getOrDefault(pkg, Set.of())) {
      List<String> c = visit(next, arrows, state, path);
      if (!c.isEmpty()) {
        return c;
      }
    }
    path.remove(path.size() - 1);
    state.put(pkg, 2);
    return List.of();
  }
}
