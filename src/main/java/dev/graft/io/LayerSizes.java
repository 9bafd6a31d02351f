package dev.graft.io;

import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;

/**
 * Checks the sizes a network configuration from a file declares, layer by layer, before DL4J
 * allocates anything for them: a crafted configuration with allowed layers of absurd sizes (a dense
 * layer with 2^30 inputs, a kernel of 100,000, a 1x1 convolution with 100,000 outputs that is tiny
 * in parameters but takes 20 GiB of activations per image) is refused naming the file and the
 * layer, never an {@code OutOfMemoryError} or a native {@code std::bad_alloc} later.
 *
 * <ul>
 *   <li>{@link #checkLayers}: every layer's {@code nIn}/{@code nOut} and its parameter count, in
 *       exact arithmetic (DL4J's own count wraps around on overflow), at most {@link
 *       Limits#maxParameters()}; every kernel, stride, padding, dilation, upsampling or cropping
 *       value in [0, {@value #MAX_GEOMETRY}] so that DL4J's {@code int} size arithmetic cannot
 *       wrap. Needs no input size: {@link NetworkZip} runs it on every network it reads.
 *   <li>{@link #checkActivations}: at a given input (the model's image size), each layer's input,
 *       output and convolution work buffer (im2col) for one example, in exact arithmetic, must fit
 *       in the off-heap memory JavaCPP may still allocate ({@code -Dorg.bytedeco.javacpp.maxbytes},
 *       {@code maxphysicalbytes}). The batch dimension is not checked here: every forward pass
 *       Graft runs splits its batch into chunks that fit a memory budget ({@code
 *       dev.graft.features.InferenceNetwork}), down to one example.
 * </ul>
 */
public final class LayerSizes {
  /**
   * Largest kernel, stride, padding, dilation, upsampling or cropping value a layer may declare:
   * the largest input side ({@code Base.MAX_INPUT_SIZE}); a dilated kernel then stays far below
   * {@code 2^31}.
   */
  public static final int MAX_GEOMETRY = 4096;

  /** Geometry fields of DL4J's layer configurations (arrays of ints or longs). */
  private static final Set<String> GEOMETRY =
      Set.of("kernelSize", "stride", "padding", "dilation", "size", "cropping", "blockSize");

  private LayerSizes() {}

  /**
   * Checks every layer of a parsed configuration (graph or multi-layer) as described above.
   *
   * @param conf a {@link ComputationGraphConfiguration} or {@link MultiLayerConfiguration}
   * @throws RefusedFileException naming {@code file}, {@code entry} and the layer at fault
   */
  public static void checkLayers(Object conf, Path file, String entry, Limits limits) {
    for (Map.Entry<String, Layer> e : layers(conf).entrySet()) {
      String where = "layer '" + SafeText.escape(e.getKey()) + "'";
      Layer layer = e.getValue();
      long params = 1;
      try {
        if (layer instanceof FeedForwardLayer ff) {
          for (long v : new long[] {ff.getNIn(), ff.getNOut()}) {
            if (v < 0 || v > limits.maxParameters()) {
              throw refuse(
                  file,
                  entry,
                  where,
                  "declares a size of "
                      + v
                      + " (nIn "
                      + ff.getNIn()
                      + ", nOut "
                      + ff.getNOut()
                      + "), more than "
                      + limits.maxParameters()
                      + " (graft.limits.maxParameters)");
            }
          }
          params = Math.multiplyExact(ff.getNIn(), ff.getNOut());
        }
        checkGeometry(layer, file, entry, where);
        if (layer instanceof ConvolutionLayer c && c.getKernelSize() != null) {
          for (int k : c.getKernelSize()) {
            params = Math.multiplyExact(params, k);
          }
        }
      } catch (ArithmeticException overflow) {
        params = Long.MAX_VALUE;
      }
      if (params > limits.maxParameters()) {
        throw refuse(
            file,
            entry,
            where,
            "declares more than "
                + limits.maxParameters()
                + " parameters (graft.limits.maxParameters)");
      }
    }
  }

  /**
   * Checks each layer's activations at {@code input} (one example) against the off-heap memory
   * left, as described above. Run it before the first forward pass of a network from a file.
   *
   * @param conf the network's configuration (not modified: a copy is walked)
   * @param input the type of the network's single input, e.g. {@code InputType.convolutional(224,
   *     224, 3)}
   * @throws RefusedFileException naming {@code file}, {@code entry} and the layer at fault
   */
  public static void checkActivations(
      ComputationGraphConfiguration conf, InputType input, Path file, String entry) {
    checkActivations(conf, input, file, entry, offHeapLeft());
  }

  /** As {@link #checkActivations(ComputationGraphConfiguration, InputType, Path, String)}. */
  static void checkActivations(
      ComputationGraphConfiguration conf, InputType input, Path file, String entry, long budget) {
    ComputationGraphConfiguration copy = conf.clone();
    Map<String, InputType> types;
    try {
      // true: apply the preprocessors (DL4J sizes a layer from its raw input type otherwise, so a
      // dense layer after a convolution fails); on a copy, nIn never overridden
      types = copy.getLayerActivationTypes(true, false, input);
    } catch (RuntimeException e) {
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new RefusedFileException(
          file,
          entry,
          "its layers do not fit the input " + input + " (" + SafeText.line(msg, 200) + ")",
          e);
    }
    for (Map.Entry<String, InputType> e : types.entrySet()) {
      GraphVertex v = copy.getVertices().get(e.getKey());
      if (v == null) {
        continue; // a network input
      }
      String where = "layer '" + SafeText.escape(e.getKey()) + "'";
      long values;
      try {
        values = elements(e.getValue());
        List<String> inputs = copy.getVertexInputs().get(e.getKey());
        for (String in : inputs == null ? List.<String>of() : inputs) {
          values = Math.addExact(values, elements(types.get(in)));
        }
        if (v instanceof LayerVertex lv
            && lv.getLayerConf().getLayer() instanceof ConvolutionLayer c
            && c.getKernelSize() != null
            && e.getValue() instanceof InputType.InputTypeConvolutional out) {
          long im2col =
              Math.multiplyExact(c.getNIn(), Math.multiplyExact(out.getHeight(), out.getWidth()));
          for (int k : c.getKernelSize()) {
            im2col = Math.multiplyExact(im2col, k);
          }
          values = Math.addExact(values, im2col);
        }
        values = Math.multiplyExact(values, Float.BYTES);
      } catch (ArithmeticException overflow) {
        values = Long.MAX_VALUE;
      }
      if (values > budget) {
        throw refuse(
            file,
            entry,
            where,
            "needs "
                + mib(values)
                + " of memory for one "
                + input
                + " example, more than the "
                + mib(budget)
                + " of off-heap memory left"
                + " (raise -Dorg.bytedeco.javacpp.maxbytes / maxphysicalbytes if it is genuine)");
      }
    }
  }

  /** The off-heap bytes JavaCPP may still allocate. */
  public static long offHeapLeft() {
    long max = Pointer.maxBytes();
    long left = max > 0 ? max - Pointer.totalBytes() : Long.MAX_VALUE;
    long maxPhysical = Pointer.maxPhysicalBytes();
    if (maxPhysical > 0) {
      left = Math.min(left, maxPhysical - Pointer.physicalBytes());
    }
    return Math.max(0, left);
  }

  private static String mib(long bytes) {
    return bytes == Long.MAX_VALUE ? "more than 8 EiB" : (bytes >> 20) + " MiB";
  }

  /** Values of one example of {@code type}, exact. */
  private static long elements(InputType type) {
    if (type == null) {
      return 0;
    }
    long n = 1;
    for (long d : type.getShape(false)) {
      if (d < 0) {
        throw new ArithmeticException("negative size");
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  private static void checkGeometry(Layer layer, Path file, String entry, String where) {
    for (Class<?> c = layer.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (!GEOMETRY.contains(f.getName())
            || !(f.getType() == int[].class || f.getType() == long[].class)) {
          continue;
        }
        Object value;
        try {
          f.setAccessible(true);
          value = f.get(layer);
        } catch (ReflectiveOperationException | RuntimeException e) {
          continue; // not readable here: DL4J's own checks still apply
        }
        long[] values = value instanceof int[] ints ? toLong(ints) : (long[]) value;
        for (long v : values == null ? new long[0] : values) {
          if (v < 0 || v > MAX_GEOMETRY) {
            throw refuse(
                file,
                entry,
                where,
                "declares a "
                    + f.getName()
                    + " of "
                    + v
                    + "; at most "
                    + MAX_GEOMETRY
                    + " is allowed");
          }
        }
      }
    }
  }

  private static long[] toLong(int[] a) {
    long[] l = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      l[i] = a[i];
    }
    return l;
  }

  /** Name to layer configuration, for either kind of configuration. */
  private static Map<String, Layer> layers(Object conf) {
    Map<String, Layer> layers = new LinkedHashMap<>();
    if (conf instanceof ComputationGraphConfiguration g) {
      for (Map.Entry<String, GraphVertex> e : g.getVertices().entrySet()) {
        if (e.getValue() instanceof LayerVertex lv
            && lv.getLayerConf() != null
            && lv.getLayerConf().getLayer() != null) {
          layers.put(e.getKey(), lv.getLayerConf().getLayer());
        }
      }
    } else if (conf instanceof MultiLayerConfiguration m) {
      for (int i = 0; i < m.getConfs().size(); i++) {
        Layer l = m.getConf(i).getLayer();
        if (l != null) {
          layers.put(l.getLayerName() != null ? l.getLayerName() : "layer" + i, l);
        }
      }
    }
    return layers;
  }

  private static RefusedFileException refuse(Path file, String entry, String where, String what) {
    return new RefusedFileException(file, entry, where + " " + what);
  }
}
