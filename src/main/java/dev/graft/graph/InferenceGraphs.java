package dev.graft.graph;

import static dev.graft.graph.Layers.unwrap;

import dev.graft.error.GraftException;
import dev.graft.nn.ActivationSwishTanh;
import dev.graft.nn.ChannelMultiplyVertex;
import dev.graft.nn.SumActivationVertex;
import dev.graft.perf.NativeTuning;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rewrites a network that will only run forward (a frozen base computing features) into a faster,
 * equivalent one: each inference-mode BatchNormalization that directly follows a convolution (or a
 * depthwise convolution with multiplier 1) is folded into that convolution's weights and bias
 * ({@code W' = W·γ/σ}, {@code b' = (b − μ)·γ/σ + β}), and an activation layer that directly follows
 * a convolution becomes the convolution's own activation. Where ND4J's oneDNN build runs, swish
 * becomes {@link ActivationSwishTanh} (the same function on oneDNN's vectorised tanh) and the image
 * part runs on NHWC, with each zero padding folded into the convolution after it. The source
 * network is not modified.
 *
 * <p>Why: in DL4J 1.0.0-M2.1 an inference BatchNormalization runs as four broadcast passes over an
 * NCHW tensor along the channel axis, which the profile of ResNet50 at 224 px showed to be about as
 * expensive as all its convolutions together; see docs/performance.md.
 *
 * <pre>{@code
 * ComputationGraph fast = InferenceGraphs.optimize(base.graph());
 * INDArray features = fast.outputSingle(false, images);
 * }</pre>
 *
 * <p>The result computes the same function up to float rounding (relative differences around 1e-6);
 * use it for inference only: its BatchNorm statistics are baked into the weights.
 */
public final class InferenceGraphs {
  private static final Logger log = LoggerFactory.getLogger(InferenceGraphs.class);

  private InferenceGraphs() {}

  /** What {@link #optimize} changed. */
  private record Fold(String conv, String batchNorm) {}

  /**
   * Returns an inference-only copy of {@code source} with BatchNorm folded into the preceding
   * convolutions and activations fused into them; vertices named as network outputs are kept.
   * Frozen-layer wrappers are unwrapped (the copy is never trained). Layers are created with the
   * oneDNN helpers when {@link NativeTuning#oneDnnAvailable()}.
   *
   * @param source a ComputationGraph (not modified)
   * @return a new, initialised graph with the same inputs and outputs
   */
  public static ComputationGraph optimize(ComputationGraph source) {
    return optimize(source, List.of());
  }

  /**
   * Like {@link #optimize(ComputationGraph)}, but the copy ends at {@code outputs} (for example a
   * cut point inside the network): vertices not needed to compute them are dropped.
   *
   * @param source a ComputationGraph (not modified)
   * @param outputs vertex names to output, in order; empty keeps the source's outputs
   * @return a new, initialised graph
   */
  public static ComputationGraph optimize(ComputationGraph source, List<String> outputs) {
    return optimize(source, List.of(), outputs);
  }

  /**
   * Like {@link #optimize(ComputationGraph)}, for the part of {@code source} between {@code
   * networkInputs} and {@code outputs}: the copy reads the activations of the vertices named in
   * {@code networkInputs} (for example the head of a model, fed with the features at its cut point)
   * and ends at {@code outputs}.
   *
   * @param source a ComputationGraph (not modified)
   * @param networkInputs vertex names (or network inputs) the copy reads, in order; empty keeps the
   *     source's inputs
   * @param outputs vertex names to output, in order; empty keeps the source's outputs
   * @return a new, initialised graph
   * @throws GraftException naming the vertex when a name is unknown, or when computing {@code
   *     outputs} needs a network input not in {@code networkInputs}
   */
  public static ComputationGraph optimize(
      ComputationGraph source, List<String> networkInputs, List<String> outputs) {
    ComputationGraphConfiguration conf = source.getConfiguration().clone();
    Map<String, GraphVertex> vertices = conf.getVertices();
    Map<String, List<String>> inputs = conf.getVertexInputs();
    if (!outputs.isEmpty() || !networkInputs.isEmpty()) {
      prune(
          conf,
          networkInputs.isEmpty() ? conf.getNetworkInputs() : networkInputs,
          outputs.isEmpty() ? conf.getNetworkOutputs() : outputs);
    }
    Set<String> outputSet = new HashSet<>(conf.getNetworkOutputs());
    Map<String, Integer> consumers = new HashMap<>();
    inputs.values().forEach(l -> l.forEach(i -> consumers.merge(i, 1, Integer::sum)));

    for (GraphVertex v : vertices.values()) {
      if (v instanceof LayerVertex lv) {
        lv.getLayerConf().setLayer(unwrap(lv.getLayerConf().getLayer()));
      }
    }

    List<Fold> folds = new ArrayList<>();
    Set<String> fusedActivations = new HashSet<>();
    Map<String, String> renamedInputs = new HashMap<>();
    for (String name : source.getConfiguration().getTopologicalOrderStr()) {
      if (!(vertices.get(name) instanceof LayerVertex lv)
          || outputSet.contains(name)
          || lv.getPreProcessor() != null
          || inputs.get(name) == null
          || inputs.get(name).size() != 1) {
        continue;
      }
      String in = inputs.get(name).get(0);
      if (!(vertices.get(in) instanceof LayerVertex cv)
          || !foldable(cv.getLayerConf().getLayer())
          || outputSet.contains(in)
          || consumers.getOrDefault(in, 0) != 1) {
        continue;
      }
      ConvolutionLayer conv = (ConvolutionLayer) cv.getLayerConf().getLayer();
      if (!(conv.getActivationFn() instanceof ActivationIdentity)) {
        continue;
      }
      org.deeplearning4j.nn.conf.layers.Layer layer = lv.getLayerConf().getLayer();
      IActivation act;
      if (layer instanceof BatchNormalization bn
          && bn.getCnn2DFormat() == conv.getCnn2dDataFormat()) {
        act = new ActivationIdentity(); // DL4J's BatchNormalization ignores its activation function
        conv.setHasBias(true);
        folds.add(new Fold(in, name));
      } else if (layer instanceof ActivationLayer a) {
        act = a.getActivationFn();
        fusedActivations.add(name);
      } else {
        continue;
      }
      conv.setActivationFn(act == null ? new ActivationIdentity() : act);
      bypass(conf, name, in); // its consumers now read the convolution
      consumers.put(in, consumers.getOrDefault(name, 0));
      renamedInputs.put(name, in);
    }
    int sums = fuseSums(conf, outputSet);
    int swish = NativeTuning.oneDnnAvailable() ? swishOnTanh(vertices.values()) : 0;
    Map<String, String> sourceNames = toNhwc(conf);
    conf.setTopologicalOrder(null);
    conf.setTopologicalOrderStr(null);

    ComputationGraph out =
        NativeTuning.withLayerHelpers(
            () -> {
              ComputationGraph g = GraphWorkspaces.settleInFirstPass(new ComputationGraph(conf));
              // parameters are copied in below: skip DL4J's random initialisation (most of the
              // cost of building a large graph)
              long n = 0;
              for (GraphVertex v : conf.getVertices().values()) {
                if (v instanceof LayerVertex lv) {
                  n += lv.getLayerConf().getLayer().initializer().numParams(lv.getLayerConf());
                }
              }
              if (n > 0) {
                g.init(Nd4j.createUninitialized(conf.getDataType(), 1, n), false);
              } else {
                g.init();
              }
              return g;
            });
    Map<String, Fold> foldByConv = new HashMap<>();
    folds.forEach(f -> foldByConv.put(f.conv(), f));
    for (Layer target : out.getLayers()) {
      String name = target.conf().getLayer().getLayerName();
      name = sourceNames.getOrDefault(name, name);
      Layer src = source.getLayer(name);
      if (src == null) {
        throw new GraftException("optimized graph has a layer '" + name + "' the source lacks");
      }
      Fold f = foldByConv.get(name);
      if (f != null) {
        fold(src, source.getLayer(f.batchNorm()), target);
      } else {
        for (Map.Entry<String, INDArray> p : target.paramTable().entrySet()) {
          p.getValue().assign(src.getParam(p.getKey()));
        }
      }
    }
    log.debug(
        "optimized graph: {} BatchNorm folded, {} activations fused, {} sums fused, {} swish on"
            + " tanh",
        folds.size(),
        fusedActivations.size(),
        sums,
        swish);
    return out;
  }

  /** Each vertex's consumers, from the vertices' inputs. */
  private static Map<String, List<String>> consumers(Map<String, List<String>> inputs) {
    Map<String, List<String>> consumers = new HashMap<>();
    inputs.forEach(
        (v, in) -> in.forEach(i -> consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(v)));
    return consumers;
  }

  /** Removes vertex {@code removed}; whatever read it reads {@code replacement} instead. */
  private static void bypass(
      ComputationGraphConfiguration conf, String removed, String replacement) {
    conf.getVertices().remove(removed);
    Map<String, List<String>> inputs = conf.getVertexInputs();
    inputs.remove(removed);
    for (List<String> l : inputs.values()) {
      l.replaceAll(s -> s.equals(removed) ? replacement : s);
    }
  }

  /**
   * Replaces each two-input {@code ElementWiseVertex} sum of one shape by a {@link
   * SumActivationVertex}, with the activation layer that alone reads it folded in (a residual
   * block's add and ReLU): two passes over the activation where DL4J makes four.
   *
   * @return how many sums changed
   */
  private static int fuseSums(ComputationGraphConfiguration conf, Set<String> outputs) {
    Map<String, GraphVertex> vertices = conf.getVertices();
    Map<String, List<String>> inputs = conf.getVertexInputs();
    Map<String, List<String>> consumers = consumers(inputs);
    int fused = 0;
    for (String sum : new ArrayList<>(vertices.keySet())) {
      if (!(vertices.get(sum) instanceof ElementWiseVertex e)
          || e.getOp() != ElementWiseVertex.Op.Add
          || inputs.getOrDefault(sum, List.of()).size() != 2) {
        continue;
      }
      IActivation act = new ActivationIdentity();
      List<String> next = consumers.getOrDefault(sum, List.of());
      if (!outputs.contains(sum)
          && next.size() == 1
          && !outputs.contains(next.get(0))
          && vertices.get(next.get(0)) instanceof LayerVertex av
          && av.getPreProcessor() == null
          && av.getLayerConf().getLayer() instanceof ActivationLayer a
          && a.getActivationFn() != null) {
        act = a.getActivationFn();
        bypass(conf, next.get(0), sum); // its consumers now read the sum
      }
      vertices.put(sum, new SumActivationVertex(act));
      fused++;
    }
    return fused;
  }

  /**
   * Whether {@link #optimize} runs the convolutions of a graph on NHWC activations: system property
   * {@value #NHWC_PROPERTY}, default true; it does so only where the oneDNN build is loaded.
   */
  public static final String NHWC_PROPERTY = "graft.inference.nhwc";

  /**
   * Rewrites the image part of {@code conf} to NHWC, in place, where oneDNN runs it: libnd4j's
   * oneDNN convolution reorders NCHW input and output to NHWC (the layout oneDNN picks for thin and
   * depthwise convolutions) around every call, reorders on a MobileNetV2 forward pass took several
   * times the time of the convolutions themselves. Plain and depthwise convolutions, zero padding
   * and 2D pooling switch layout; activation layers and element-wise vertices follow when all their
   * inputs did, a squeeze-and-excitation multiply when its activations did. A global pooling reads
   * a permuted view of an NHWC input. A {@link LayoutVertex} converts where the NHWC part meets
   * NCHW: the network's image inputs, a vertex that stays NCHW, a network output (renamed, so that
   * the output under its name is NCHW as before).
   *
   * @return the new name of each renamed layer mapped to its name in the source
   */
  private static Map<String, String> toNhwc(ComputationGraphConfiguration conf) {
    Map<String, String> sourceNames = new HashMap<>();
    if (!Boolean.parseBoolean(System.getProperty(NHWC_PROPERTY, "true"))
        || !NativeTuning.oneDnnAvailable()) {
      return sourceNames;
    }
    Map<String, GraphVertex> vertices = conf.getVertices();
    Map<String, List<String>> inputs = conf.getVertexInputs();
    Set<String> nhwc = new HashSet<>();
    boolean convolutions = false;
    for (String v : Topology.order(conf)) {
      GraphVertex gv = vertices.get(v);
      List<String> in = inputs.getOrDefault(v, List.of());
      org.deeplearning4j.nn.conf.layers.Layer layer =
          gv instanceof LayerVertex lv && lv.getPreProcessor() == null
              ? lv.getLayerConf().getLayer()
              : null;
      if (layoutAware(layer)) {
        nhwc.add(v);
        convolutions |= layer instanceof ConvolutionLayer;
      } else if (gv instanceof ChannelMultiplyVertex m
          && m.getFormat() == CNN2DFormat.NCHW
          && nhwc.contains(in.get(0))) {
        nhwc.add(v); // its factors, [N, C, 1, 1] or [N, C], read the same in either layout
      } else if ((gv instanceof ElementWiseVertex
              || gv instanceof SumActivationVertex
              || layer instanceof ActivationLayer)
          && !in.isEmpty()
          && nhwc.containsAll(in)) {
        nhwc.add(v);
      }
    }
    if (!convolutions) {
      return sourceNames;
    }
    for (String v : nhwc) {
      if (vertices.get(v) instanceof ChannelMultiplyVertex) {
        vertices.put(v, new ChannelMultiplyVertex(CNN2DFormat.NHWC));
      } else if (vertices.get(v) instanceof LayerVertex lv) {
        org.deeplearning4j.nn.conf.layers.Layer layer = lv.getLayerConf().getLayer();
        if (layer.getClass() == ConvolutionLayer.class) {
          lv.getLayerConf().setLayer(NhwcConvolution.of((ConvolutionLayer) layer));
        } else if (layer instanceof DepthwiseConvolution2D d) {
          lv.getLayerConf().setLayer(NhwcDepthwiseConvolution.of(d));
        } else if (layer instanceof SubsamplingLayer p) {
          p.setCnn2dDataFormat(CNN2DFormat.NHWC);
        } else if (layer instanceof ZeroPaddingLayer z) {
          z.setDataFormat(CNN2DFormat.NHWC);
        }
      }
    }
    foldPadding(conf, nhwc);
    convertAtBorders(conf, nhwc, sourceNames);
    // each global pooling averages in one pass, over the rows of channels of the NHWC map it
    // reads through a view, where DL4J's layer reduced over the view's strides (8 % of an
    // EfficientNetB0 forward pass, its squeeze-and-excitation blocks)
    for (GraphVertex gv : vertices.values()) {
      if (gv instanceof LayerVertex lv
          && OnePassGlobalPooling.isPlain(lv.getLayerConf().getLayer())) {
        lv.getLayerConf()
            .setLayer(OnePassGlobalPooling.of((GlobalPoolingLayer) lv.getLayerConf().getLayer()));
      }
    }
    return sourceNames;
  }

  /**
   * Puts a {@link LayoutVertex} wherever the NHWC vertices {@code nhwc} of {@code conf} meet NCHW
   * ones: the network's image inputs, a vertex that stays NCHW, a network output (renamed, so that
   * the output under its name is NCHW as before; each renamed layer is put in {@code sourceNames}
   * under its new name). A global pooling reads a permuted view of an NHWC input, and a
   * squeeze-and-excitation multiply its factors as they are.
   */
  static void convertAtBorders(
      ComputationGraphConfiguration conf, Set<String> nhwc, Map<String, String> sourceNames) {
    Map<String, GraphVertex> vertices = conf.getVertices();
    Map<String, List<String>> inputs = conf.getVertexInputs();
    // outputs keep their names and layout: the NHWC vertex is renamed, a conversion takes its name
    Map<String, String> toNchw = new HashMap<>();
    List<String> outputs = conf.getNetworkOutputs();
    for (String o : outputs) {
      if (nhwc.contains(o)) {
        String renamed = freeName(vertices, o + "_nhwc");
        GraphVertex gv = vertices.remove(o);
        vertices.put(renamed, gv);
        inputs.put(renamed, inputs.remove(o));
        for (List<String> l : inputs.values()) {
          l.replaceAll(s -> s.equals(o) ? renamed : s);
        }
        if (gv instanceof LayerVertex lv) {
          lv.getLayerConf().getLayer().setLayerName(renamed);
          sourceNames.put(renamed, o);
        }
        nhwc.remove(o);
        nhwc.add(renamed);
        vertices.put(o, new LayoutVertex(CNN2DFormat.NCHW));
        inputs.put(o, new ArrayList<>(List.of(renamed)));
        toNchw.put(renamed, o);
      }
    }
    Map<String, String> toNhwc = new HashMap<>();
    Map<String, String> toNchwView = new HashMap<>();
    for (String v : new ArrayList<>(vertices.keySet())) {
      List<String> in = inputs.get(v);
      if (in == null || vertices.get(v) instanceof LayoutVertex) {
        continue;
      }
      boolean inside = nhwc.contains(v);
      // a global pooling only reads its input: it pools a permuted view, no copy
      boolean reader =
          vertices.get(v) instanceof LayerVertex lv
              && lv.getLayerConf().getLayer() instanceof GlobalPoolingLayer;
      for (int i = 0; i < in.size(); i++) {
        String u = in.get(i);
        if (nhwc.contains(u) == inside
            || (i == 1 && inside && vertices.get(v) instanceof ChannelMultiplyVertex)) {
          continue;
        }
        Map<String, String> converted = inside ? toNhwc : reader ? toNchwView : toNchw;
        CNN2DFormat to = inside ? CNN2DFormat.NHWC : CNN2DFormat.NCHW;
        String c =
            converted.computeIfAbsent(
                u,
                k -> {
                  String name =
                      freeName(
                          vertices,
                          k + "_" + to.name().toLowerCase(Locale.ROOT) + (reader ? "_view" : ""));
                  vertices.put(name, new LayoutVertex(to, reader && !inside));
                  inputs.put(name, new ArrayList<>(List.of(k)));
                  return name;
                });
        in.set(i, c);
      }
    }
    log.debug(
        "NHWC: {} vertices, {} layout conversions", nhwc.size(), toNhwc.size() + toNchw.size());
  }

  /**
   * Replaces each layer's {@link ActivationSwish} with {@link ActivationSwishTanh}, the same
   * function on oneDNN's vectorised tanh (libnd4j's swish loop is scalar: on EfficientNetB0 it cost
   * several times the convolutions before it).
   *
   * @return how many layers changed
   */
  private static int swishOnTanh(Collection<GraphVertex> vertices) {
    int n = 0;
    for (GraphVertex v : vertices) {
      if (v instanceof LayerVertex lv
          && Layers.swapActivation(
              lv.getLayerConf().getLayer(),
              a -> a instanceof ActivationSwish ? new ActivationSwishTanh() : a)) {
        n++;
      }
    }
    return n;
  }

  /**
   * Removes each NHWC zero padding whose only consumer is an NHWC convolution without padding of
   * its own, in truncate mode: a symmetric padding becomes the convolution's, another one (Keras's
   * {@code correct_pad} before a stride-2 convolution: one row more at the bottom) its {@link
   * NhwcGeometry input padding}, run in "same" mode where that matches. The padding layers of
   * MobileNetV2 and EfficientNet copied whole feature maps (7 % of an EfficientNetB0 pass).
   */
  private static void foldPadding(ComputationGraphConfiguration conf, Set<String> nhwc) {
    Map<String, GraphVertex> vertices = conf.getVertices();
    Map<String, List<String>> inputs = conf.getVertexInputs();
    Map<String, List<String>> consumers = consumers(inputs);
    for (String pad : new ArrayList<>(nhwc)) {
      List<String> next = consumers.getOrDefault(pad, List.of());
      if (!(vertices.get(pad) instanceof LayerVertex pv)
          || !(pv.getLayerConf().getLayer() instanceof ZeroPaddingLayer z)
          || conf.getNetworkOutputs().contains(pad)
          || next.size() != 1
          || !(vertices.get(next.get(0)) instanceof LayerVertex cv)
          || cv.getPreProcessor() != null
          || !(cv.getLayerConf().getLayer() instanceof ConvolutionLayer c)
          || !(c instanceof NhwcConvolution || c instanceof NhwcDepthwiseConvolution)
          || c.getConvolutionMode() != ConvolutionMode.Truncate
          || c.getPadding()[0] != 0
          || c.getPadding()[1] != 0) {
        continue;
      }
      int[] p = z.getPadding();
      if (p[0] == p[1] && p[2] == p[3]) {
        c.setPadding(new int[] {p[0], p[2]});
      } else if (c instanceof NhwcConvolution n) {
        n.setInputPadding(p);
      } else {
        ((NhwcDepthwiseConvolution) c).setInputPadding(p);
      }
      String in = inputs.get(pad).get(0);
      inputs.get(next.get(0)).replaceAll(s -> s.equals(pad) ? in : s);
      vertices.remove(pad);
      inputs.remove(pad);
      nhwc.remove(pad);
    }
  }

  /** Layers with an NCHW/NHWC setting that run NHWC without copies (DL4J's, or ours). */
  private static boolean layoutAware(org.deeplearning4j.nn.conf.layers.Layer layer) {
    if (layer == null) {
      return false;
    }
    if (layer.getClass() == ConvolutionLayer.class
        || layer.getClass() == DepthwiseConvolution2D.class) {
      return ((ConvolutionLayer) layer).getCnn2dDataFormat() == CNN2DFormat.NCHW;
    }
    if (layer.getClass() == SubsamplingLayer.class) {
      return ((SubsamplingLayer) layer).getCnn2dDataFormat() == CNN2DFormat.NCHW;
    }
    return layer.getClass() == ZeroPaddingLayer.class
        && ((ZeroPaddingLayer) layer).getDataFormat() == CNN2DFormat.NCHW;
  }

  private static String freeName(Map<String, GraphVertex> vertices, String name) {
    String n = name;
    for (int i = 2; vertices.containsKey(n); i++) {
      n = name + i;
    }
    return n;
  }

  /**
   * A plain convolution, or a depthwise one with one output per input channel (MobileNetV2,
   * EfficientNet): their outputs are per-channel, so a BatchNorm after them folds into them.
   */
  private static boolean foldable(org.deeplearning4j.nn.conf.layers.Layer layer) {
    return layer.getClass() == ConvolutionLayer.class
        || (layer instanceof DepthwiseConvolution2D d && d.getDepthMultiplier() == 1);
  }

  private static void prune(
      ComputationGraphConfiguration conf, List<String> networkInputs, List<String> outputs) {
    Map<String, List<String>> inputs = conf.getVertexInputs();
    for (String v : networkInputs) {
      if (!conf.getVertices().containsKey(v) && !conf.getNetworkInputs().contains(v)) {
        throw new GraftException(
            "no vertex named '" + v + "' in the network; vertices: " + conf.getVertices().keySet());
      }
    }
    Set<String> keep = new HashSet<>();
    List<String> todo = new ArrayList<>();
    for (String o : outputs) {
      if (!conf.getVertices().containsKey(o) && !conf.getNetworkInputs().contains(o)) {
        throw new GraftException(
            "no vertex named '" + o + "' in the network; vertices: " + conf.getVertices().keySet());
      }
      todo.add(o);
    }
    while (!todo.isEmpty()) {
      String v = todo.remove(todo.size() - 1);
      if (networkInputs.contains(v) || !keep.add(v)) {
        continue;
      }
      if (conf.getNetworkInputs().contains(v)) {
        throw new GraftException(
            "computing "
                + outputs
                + " needs the network input '"
                + v
                + "', not among "
                + networkInputs);
      }
      if (inputs.get(v) != null) {
        todo.addAll(inputs.get(v));
      }
    }
    conf.getVertices().keySet().retainAll(keep);
    inputs.keySet().retainAll(keep);
    conf.setNetworkInputs(new ArrayList<>(networkInputs));
    conf.setNetworkOutputs(new ArrayList<>(outputs));
  }

  private static void fold(Layer conv, Layer bnLayer, Layer target) {
    BatchNormalization bn = (BatchNormalization) unwrap(bnLayer.conf().getLayer());
    INDArray w = conv.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
    // output channels: first axis of a convolution's [out, in, kh, kw], last of a depthwise
    // convolution's [kh, kw, channels, 1]
    boolean depthwise = unwrap(conv.conf().getLayer()) instanceof DepthwiseConvolution2D;
    long nOut = depthwise ? w.size(2) : w.size(0);
    INDArray b =
        conv.paramTable().containsKey(ConvolutionParamInitializer.BIAS_KEY)
            ? conv.getParam(ConvolutionParamInitializer.BIAS_KEY)
                .castTo(DataType.DOUBLE)
                .reshape(nOut)
            : Nd4j.zeros(DataType.DOUBLE, nOut);
    INDArray mean =
        bnLayer
            .getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN)
            .castTo(DataType.DOUBLE)
            .reshape(nOut);
    INDArray var;
    if (bn.isUseLogStd()) {
      INDArray log10s =
          bnLayer
              .getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)
              .castTo(DataType.DOUBLE)
              .reshape(nOut);
      var =
          org.nd4j.linalg.ops.transforms.Transforms.pow(
              Nd4j.valueArrayOf(log10s.shape(), 10.0, DataType.DOUBLE), log10s);
      var.muli(var);
    } else {
      var =
          bnLayer
              .getParam(BatchNormalizationParamInitializer.GLOBAL_VAR)
              .castTo(DataType.DOUBLE)
              .reshape(nOut);
    }
    INDArray std = org.nd4j.linalg.ops.transforms.Transforms.sqrt(var.add(bn.getEps()));
    INDArray gamma;
    INDArray beta;
    if (bn.isLockGammaBeta()) {
      // DL4J applies locked gamma/beta only when gamma != 1 and beta != 0
      // (BatchNormalization.preOutput)
      boolean apply = bn.getGamma() != 1.0 && bn.getBeta() != 0.0;
      gamma = Nd4j.valueArrayOf(new long[] {nOut}, apply ? bn.getGamma() : 1.0, DataType.DOUBLE);
      beta = Nd4j.valueArrayOf(new long[] {nOut}, apply ? bn.getBeta() : 0.0, DataType.DOUBLE);
    } else {
      gamma =
          bnLayer
              .getParam(BatchNormalizationParamInitializer.GAMMA)
              .castTo(DataType.DOUBLE)
              .reshape(nOut);
      beta =
          bnLayer
              .getParam(BatchNormalizationParamInitializer.BETA)
              .castTo(DataType.DOUBLE)
              .reshape(nOut);
    }
    INDArray scale = gamma.div(std);
    INDArray b2 = b.sub(mean).muli(scale).addi(beta);
    INDArray tw = target.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
    tw.assign(
        scaledWeights(w, scale.toDoubleVector(), depthwise, tw.dataType()).reshape(tw.shape()));
    INDArray tb = target.getParam(ConvolutionParamInitializer.BIAS_KEY);
    tb.assign(b2.castTo(tb.dataType()).reshape(tb.shape()));
  }

  /**
   * {@code w} with each output channel multiplied by its {@code scale}, in double precision, then
   * rounded to {@code type}. On Java arrays: ND4J's cast, dup and broadcast multiply cost about 85
   * ms per 2.4M weights (a ResNet50 fold took seconds), Java loops a few.
   */
  private static INDArray scaledWeights(
      INDArray w, double[] scale, boolean depthwise, DataType type) {
    double[] v = w.dup('c').data().asDouble();
    int nOut = scale.length;
    int perOut = v.length / nOut;
    // [out, in, kh, kw]: an output channel's weights are contiguous; depthwise [kh, kw, ch, 1]:
    // the channel is the fastest-moving index
    if (type == DataType.FLOAT) {
      float[] f = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        f[i] = (float) (v[i] * scale[depthwise ? i % nOut : i / perOut]);
      }
      return Nd4j.create(f, w.shape(), 'c');
    }
    for (int i = 0; i < v.length; i++) {
      v[i] *= scale[depthwise ? i % nOut : i / perOut];
    }
    return Nd4j.create(v, w.shape(), 'c').castTo(type);
  }
}
