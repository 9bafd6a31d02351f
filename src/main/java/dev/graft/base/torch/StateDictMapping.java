package dev.graft.base.torch;

import dev.graft.error.GraftException;
import dev.graft.io.RefusedFileException;
import dev.graft.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a base's DL4J graph takes a PyTorch state dict: each tensor of the architecture's canonical
 * state dict ({@link Target}: name → graph vertex, parameter key and {@link TensorConversion}), and
 * the publishers' namings of it ({@link Dialect}: torchvision's, timm's, Meta's...), each with the
 * names it leaves aside (the ImageNet classifier, BatchNorm's {@code num_batches_tracked}).
 *
 * <p>{@link #load} reads only the header first, and before any tensor data is read it checks:
 *
 * <ol>
 *   <li>that one dialect accounts for every name in the file, except the ones it ignores; when none
 *       does, the file is refused naming the first names the closest dialect did not expect, and
 *       the names it lacks;
 *   <li>that every target whose vertex is in the graph (a graph cut early has fewer) finds its
 *       tensor, in a float dtype, whose shape {@link TensorConversion#fits fits} the parameter. A
 *       parameter may be declared under two canonical forms (a fused query/key/value projection,
 *       and the three separate ones some publishers write): a file needs one of them, and is
 *       refused when it holds both;
 *   <li>that every parameter of the graph is filled by some target (nothing is left random).
 * </ol>
 *
 * Then each tensor is read ({@link SafetensorsFile#read}) and written into its parameter. A failed
 * check is a {@link GraftException} (a {@link RefusedFileException} for a file that is not the
 * architecture's state dict) naming the file and the tensor, thrown with the graph unchanged.
 *
 * <h2>Plugging in a new architecture</h2>
 *
 * <ol>
 *   <li>Build the DL4J graph with one vertex per PyTorch module that holds weights, so that names
 *       map one to one (see {@link TorchResNet}); use {@code useLogStd(false)} on BatchNorm layers
 *       (parameters {@code gamma, beta, mean, var}) and PyTorch's epsilons.
 *   <li>Declare the canonical names (those of one publisher, e.g. torchvision's) with {@link
 *       Builder#add}: {@code add("layer1.0.conv1.weight", "layer1.0.conv1", "W",
 *       TensorConversion.SAME)}. For a layout no constant of {@link TensorConversion} covers,
 *       implement one.
 *   <li>Declare each publisher as a {@link Dialect}: a function from its names to the canonical
 *       ones ({@code null} for a name it does not know) and the names it leaves aside. The
 *       canonical publisher's dialect is {@code UnaryOperator.identity()}.
 *   <li>Give the mapping to the architecture's catalog entry ({@code dev.graft.base.Architecture}),
 *       which then takes {@code Weights.safetensors(path)} and {@code --weights FILE.safetensors}.
 * </ol>
 *
 * <pre>{@code
 * StateDictMapping m = StateDictMapping.builder("resnet50-torchvision")
 *     .add("conv1.weight", "conv1", "W", TensorConversion.SAME)
 *     ...
 *     .dialect(new Dialect("torchvision", UnaryOperator.identity(), n -> n.startsWith("fc.")))
 *     .build();
 * StateDictMapping.Result r = m.load(graph, Path.of("resnet50.safetensors"));
 * }</pre>
 */
public final class StateDictMapping {
  private static final Logger LOG = LoggerFactory.getLogger(StateDictMapping.class);

  /** How many unexpected or missing names a refusal lists. */
  private static final int SHOWN = 5;

  /**
   * One tensor of the canonical state dict and the parameter it fills.
   *
   * @param name canonical tensor name, e.g. {@code layer1.0.conv1.weight}
   * @param vertex graph vertex (layer) name
   * @param param DL4J parameter key of that layer ({@code W}, {@code b}, {@code gamma}, ...)
   * @param conversion how the PyTorch layout becomes DL4J's
   */
  public record Target(String name, String vertex, String param, TensorConversion conversion) {
    /** Checks that nothing is null. */
    public Target {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(vertex, "vertex");
      Objects.requireNonNull(param, "param");
      Objects.requireNonNull(conversion, "conversion");
    }
  }

  /**
   * One publisher's naming of the state dict.
   *
   * @param publisher for messages and provenance, e.g. {@code torchvision}, {@code timm}
   * @param toCanonical a file name to its canonical name, or {@code null} when unknown
   * @param ignored names this publisher writes that the base does not need (its ImageNet
   *     classifier, counters)
   */
  public record Dialect(
      String publisher, UnaryOperator<String> toCanonical, Predicate<String> ignored) {
    /** Checks that nothing is null. */
    public Dialect {
      Objects.requireNonNull(publisher, "publisher");
      Objects.requireNonNull(toCanonical, "toCanonical");
      Objects.requireNonNull(ignored, "ignored");
    }
  }

  /**
   * What {@link #load} did.
   *
   * @param publisher the dialect the file's names matched
   * @param tensors tensors written into the graph
   * @param values parameter values written
   * @param ignored names of the file left aside (classifier, counters, tensors of vertices the cut
   *     removed)
   */
  public record Result(String publisher, int tensors, long values, List<String> ignored) {}

  private final String architecture;
  private final Map<String, List<Target>> targets;
  private final List<Dialect> dialects;

  private StateDictMapping(
      String architecture, Map<String, List<Target>> targets, List<Dialect> dialects) {
    this.architecture = architecture;
    this.targets = targets;
    this.dialects = dialects;
  }

  /** A builder for the mapping of architecture {@code architecture} (named in messages). */
  public static Builder builder(String architecture) {
    return new Builder(architecture);
  }

  /** The architecture's name, as messages give it. */
  public String architecture() {
    return architecture;
  }

  /** The canonical tensor names, in declaration order. */
  public List<String> names() {
    return List.copyOf(targets.keySet());
  }

  /** Every target, in declaration order (a tensor filling several parameters appears once each). */
  public List<Target> targets() {
    return targets.values().stream().flatMap(List::stream).toList();
  }

  /** The publishers whose namings are accepted, in the order they are tried. */
  public List<String> publishers() {
    return dialects.stream().map(Dialect::publisher).toList();
  }

  /**
   * Loads the state dict in {@code file} into {@code graph}, after the checks of the class comment.
   *
   * @throws java.nio.file.NoSuchFileException when there is no such file
   * @throws RefusedFileException when the file is hostile or not this architecture's state dict
   * @throws GraftException when a tensor's shape or dtype does not fit the graph
   * @throws IOException when reading fails
   */
  public Result load(ComputationGraph graph, Path file) throws IOException {
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      return load(graph, f);
    }
  }

  /** As {@link #load(ComputationGraph, Path)}, from a file already open. */
  public Result load(ComputationGraph graph, SafetensorsFile file) throws IOException {
    Objects.requireNonNull(graph, "graph");
    if (graph.getVertices() == null) {
      throw new GraftException("the graph must be initialised before loading " + file.file());
    }
    Plan plan = plan(graph, file);
    long values = 0;
    for (Assignment a : plan.assignments()) {
      INDArray source = file.read(a.fileName());
      INDArray param = a.param();
      param.assign(a.target().conversion().apply(source, param.shape()));
      values += param.length();
    }
    LOG.info(
        "Loaded {} tensors ({} values) of {}'s {} state dict from {}",
        plan.assignments().size(),
        values,
        architecture,
        plan.dialect().publisher(),
        file.file());
    return new Result(
        plan.dialect().publisher(), plan.assignments().size(), values, plan.ignored());
  }

  /** One file tensor bound to one parameter of the graph. */
  private record Assignment(String fileName, Target target, INDArray param) {}

  private record Plan(Dialect dialect, List<Assignment> assignments, List<String> ignored) {}

  /** How well a dialect accounts for the file's names. */
  private record Fit(
      Dialect dialect,
      Map<String, String> canonicalToFile,
      List<String> unexpected,
      List<String> missing,
      List<String> ignored) {
    int misses() {
      return unexpected.size() + missing.size();
    }
  }

  private Plan plan(ComputationGraph graph, SafetensorsFile file) {
    Fit best = null;
    for (Dialect d : dialects) {
      Fit fit = fit(d, file, graph);
      if (best == null || fit.misses() < best.misses()) {
        best = fit;
      }
      if (fit.misses() == 0) {
        break;
      }
    }
    if (best == null || best.misses() > 0) {
      throw refusal(file, best);
    }
    List<Assignment> out = new ArrayList<>();
    Set<String> filled = new HashSet<>();
    for (Map.Entry<String, String> e : best.canonicalToFile().entrySet()) {
      String fileName = e.getValue();
      for (Target t : targets.get(e.getKey())) {
        GraphVertex v = graph.getVertex(t.vertex());
        if (v == null) {
          continue;
        }
        INDArray param = v.hasLayer() ? v.getLayer().getParam(t.param()) : null;
        if (param == null) {
          throw new GraftException(
              architecture
                  + "'s mapping names parameter '"
                  + t.param()
                  + "' of vertex '"
                  + t.vertex()
                  + "', which the graph lacks");
        }
        String dtype = file.dtype(fileName);
        if (!SafetensorsFile.readable(dtype)) {
          throw new RefusedFileException(
              file.file(), fileName, "dtype " + dtype + "; " + t.vertex() + " needs floats");
        }
        long[] shape = file.shape(fileName);
        if (!t.conversion().fits(shape, param.shape())) {
          throw new GraftException(
              file.file()
                  + ": tensor '"
                  + fileName
                  + "' has shape "
                  + Arrays.toString(shape)
                  + " but "
                  + architecture
                  + " at this size needs "
                  + t.conversion().expected(param.shape())
                  + " (for "
                  + t.vertex()
                  + "."
                  + t.param()
                  + "); is it another model width or depth?");
        }
        String key = t.vertex() + "/" + t.param();
        if (!filled.add(key)) {
          String why = "fills " + key + " a second time: the file holds two forms of one tensor";
          throw new RefusedFileException(file.file(), fileName, why);
        }
        out.add(new Assignment(fileName, t, param));
      }
    }
    for (GraphVertex v : graph.getVertices()) {
      if (!v.hasLayer() || v.getLayer().numParams() == 0) {
        continue;
      }
      Layer l = v.getLayer();
      for (String p : l.paramTable().keySet()) {
        if (!filled.contains(v.getVertexName() + "/" + p)) {
          throw new GraftException(
              architecture
                  + "'s mapping fills no tensor into "
                  + v.getVertexName()
                  + "."
                  + p
                  + "; the graph and its mapping disagree");
        }
      }
    }
    return new Plan(best.dialect(), List.copyOf(out), best.ignored());
  }

  private Fit fit(Dialect d, SafetensorsFile file, ComputationGraph graph) {
    Map<String, String> canonicalToFile = new LinkedHashMap<>();
    List<String> unexpected = new ArrayList<>();
    List<String> ignored = new ArrayList<>();
    for (String n : file.names()) {
      if (d.ignored().test(n)) {
        ignored.add(n);
        continue;
      }
      String c = d.toCanonical().apply(n);
      if (c == null || !targets.containsKey(c) || canonicalToFile.containsKey(c)) {
        unexpected.add(n);
      } else {
        canonicalToFile.put(c, n);
      }
    }
    Set<String> covered = new HashSet<>();
    for (String c : canonicalToFile.keySet()) {
      targets.get(c).forEach(t -> covered.add(t.vertex() + "/" + t.param()));
    }
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, List<Target>> e : targets.entrySet()) {
      boolean needed = e.getValue().stream().anyMatch(t -> graph.getVertex(t.vertex()) != null);
      if (!canonicalToFile.containsKey(e.getKey())) {
        // not missing when the file fills all its parameters under another canonical form
        if (needed
            && !e.getValue().stream()
                .allMatch(t -> covered.contains(t.vertex() + "/" + t.param()))) {
          missing.add(e.getKey());
        }
      } else if (!needed) {
        ignored.add(canonicalToFile.remove(e.getKey()));
      }
    }
    return new Fit(d, canonicalToFile, unexpected, missing, ignored);
  }

  private RefusedFileException refusal(SafetensorsFile file, Fit best) {
    StringBuilder m =
        new StringBuilder("not a state dict of ")
            .append(architecture)
            .append(" under any naming Graft knows (")
            .append(String.join(", ", publishers()))
            .append(")");
    if (best != null) {
      m.append("; closest is ").append(best.dialect().publisher()).append(", but");
      if (!best.unexpected().isEmpty()) {
        m.append(" the file has unexpected tensors ").append(firstFew(best.unexpected()));
      }
      if (!best.missing().isEmpty()) {
        m.append(best.unexpected().isEmpty() ? "" : " and")
            .append(" it lacks ")
            .append(firstFew(best.missing()));
      }
    }
    return new RefusedFileException(file.file(), null, m.toString());
  }

  private static String firstFew(List<String> names) {
    String shown = String.join(", ", names.subList(0, Math.min(SHOWN, names.size())));
    return names.size() > SHOWN ? shown + " (and " + (names.size() - SHOWN) + " more)" : shown;
  }

  /** Collects targets and dialects; {@link #build()} checks that there are some. */
  public static final class Builder {
    private final String architecture;
    private final Map<String, List<Target>> targets = new LinkedHashMap<>();
    private final List<Dialect> dialects = new ArrayList<>();

    private Builder(String architecture) {
      this.architecture = Objects.requireNonNull(architecture, "architecture");
    }

    /**
     * Adds a canonical tensor filling {@code vertex}'s parameter {@code param}. A name may be added
     * more than once when one tensor fills several parameters, and a parameter may be filled by two
     * canonical names (another form of the same weights; a file must hold one of them).
     */
    public Builder add(String name, String vertex, String param, TensorConversion conversion) {
      targets
          .computeIfAbsent(name, k -> new ArrayList<>())
          .add(new Target(name, vertex, param, conversion));
      return this;
    }

    /**
     * Adds the four tensors of a PyTorch {@code BatchNorm2d} called {@code module} (its {@code
     * num_batches_tracked} is left to the dialect to ignore) onto a DL4J BatchNormalization vertex
     * with {@code useLogStd(false)}.
     */
    public Builder batchNorm(String module, String vertex) {
      add(module + ".weight", vertex, "gamma", TensorConversion.SAME);
      add(module + ".bias", vertex, "beta", TensorConversion.SAME);
      add(module + ".running_mean", vertex, "mean", TensorConversion.SAME);
      return add(module + ".running_var", vertex, "var", TensorConversion.SAME);
    }

    /** Adds a publisher's naming; dialects are tried in the order added. */
    public Builder dialect(Dialect d) {
      dialects.add(Objects.requireNonNull(d, "dialect"));
      return this;
    }

    /** The mapping. */
    public StateDictMapping build() {
      if (targets.isEmpty() || dialects.isEmpty()) {
        throw new GraftException(architecture + "'s mapping needs targets and a dialect");
      }
      Map<String, List<Target>> copy = new LinkedHashMap<>();
      targets.forEach((k, v) -> copy.put(k, List.copyOf(v)));
      return new StateDictMapping(architecture, copy, List.copyOf(dialects));
    }
  }
}
