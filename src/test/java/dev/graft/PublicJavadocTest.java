package dev.graft;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.ModifiersTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.DocTrees;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreePathScanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.lang.model.element.Modifier;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Every public type, constructor, method, field and enum constant of the API packages has a Javadoc
 * comment, so that an IDE explains it. Doclint's own "missing" group (in the javadoc build) would
 * also demand {@code @param}/{@code @return} on every method and comments on private serialized
 * fields; this test asks for what a user reads: a comment. Overrides inherit theirs. Parses {@code
 * src/main/java} only (no compilation), in a few seconds.
 */
class PublicJavadocTest {
  /**
   * The packages a library user calls (cli, graph, io, nn, perf and demo are internal or tools).
   */
  static final Set<String> API =
      Set.of(
          "dev.graft",
          "dev.graft.base",
          "dev.graft.data",
          "dev.graft.error",
          "dev.graft.features",
          "dev.graft.head",
          "dev.graft.metrics",
          "dev.graft.model",
          "dev.graft.report",
          "dev.graft.spark",
          "dev.graft.strategy",
          "dev.graft.train");

  @Test
  void everyPublicDeclarationOfTheApiPackagesHasJavadoc() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(Path.of("src/main/java/dev/graft"))) {
      files = s.filter(p -> p.toString().endsWith(".java")).toList();
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<String> missing = new ArrayList<>();
    try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null)) {
      JavacTask task =
          (JavacTask)
              javac.getTask(
                  null,
                  fm,
                  null,
                  List.of("-proc:none"),
                  null,
                  fm.getJavaFileObjectsFromPaths(files));
      DocTrees docs = DocTrees.instance(task);
      for (CompilationUnitTree unit : task.parse()) {
        String pkg = unit.getPackageName() == null ? "" : unit.getPackageName().toString();
        if (!API.contains(pkg)) {
          continue;
        }
        new TreePathScanner<Void, Boolean>() {
          /** {@code visible}: whether the enclosing type is visible to users. */
          @Override
          public Void visitClass(ClassTree t, Boolean visible) {
            boolean inInterface = isInterface(getCurrentPath().getParentPath());
            boolean me = visible && (isPublic(t.getModifiers()) || inInterface);
            if (me) {
              check(t.getSimpleName().toString(), getCurrentPath());
            }
            return super.visitClass(t, me);
          }

          @Override
          public Void visitMethod(MethodTree m, Boolean visible) {
            boolean inInterface = isInterface(getCurrentPath().getParentPath());
            boolean compact = isCompactConstructor(m);
            if (visible
                && !compact
                && !isPrivate(m.getModifiers())
                && (isPublic(m.getModifiers()) || inInterface)
                && !overrides(m.getModifiers())) {
              check(m.getName() + "()", getCurrentPath());
            }
            return null; // nothing inside a method body is API
          }

          @Override
          public Void visitVariable(VariableTree v, Boolean visible) {
            Tree parent = getCurrentPath().getParentPath().getLeaf();
            boolean member = parent instanceof ClassTree;
            boolean enumConstant =
                member && parent.getKind() == Tree.Kind.ENUM && isEnumConstant(v);
            if (visible && member && (isPublic(v.getModifiers()) || enumConstant)) {
              check(v.getName().toString(), getCurrentPath());
            }
            return null;
          }

          /**
           * A record's compact canonical constructor: the parser fills in the components as its
           * parameters, but its source has no parameter list ("Name {"); the record's {@code
           * @param} tags document it.
           */
          private boolean isCompactConstructor(MethodTree m) {
            if (!m.getName().contentEquals("<init>")
                || getCurrentPath().getParentPath().getLeaf().getKind() != Tree.Kind.RECORD
                || m.getBody() == null) {
              return false;
            }
            try {
              String src = unit.getSourceFile().getCharContent(true).toString();
              long from = docs.getSourcePositions().getStartPosition(unit, m);
              long to = docs.getSourcePositions().getStartPosition(unit, m.getBody());
              return !src.substring((int) from, (int) to).contains("(");
            } catch (IOException e) {
              return false;
            }
          }

          private void check(String name, TreePath path) {
            if (docs.getDocCommentTree(path) == null) {
              long line =
                  unit.getLineMap()
                      .getLineNumber(
                          docs.getSourcePositions().getStartPosition(unit, path.getLeaf()));
              missing.add(unit.getSourceFile().getName() + ":" + line + " " + name);
            }
          }
        }.scan(unit, true);
      }
    }
    assertTrue(
        missing.isEmpty(),
        missing.size()
            + " public declarations of the API packages have no Javadoc:\n  "
            + String.join("\n  ", missing));
  }

  private static boolean isPublic(ModifiersTree m) {
    return m.getFlags().contains(Modifier.PUBLIC);
  }

  private static boolean isPrivate(ModifiersTree m) {
    return m.getFlags().contains(Modifier.PRIVATE);
  }

  private static boolean overrides(ModifiersTree m) {
    return m.getAnnotations().stream()
        .anyMatch(a -> a.getAnnotationType().toString().endsWith("Override"));
  }

  private static boolean isInterface(TreePath p) {
    return p != null
        && (p.getLeaf().getKind() == Tree.Kind.INTERFACE
            || p.getLeaf().getKind() == Tree.Kind.ANNOTATION_TYPE);
  }

  private static boolean isEnumConstant(VariableTree v) {
    return v.getInitializer() != null
        && v.getInitializer().getKind() == Tree.Kind.NEW_CLASS
        && v.getType() != null
        && v.getModifiers().getFlags().isEmpty();
  }
}
