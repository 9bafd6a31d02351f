package dev.graft.graph;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.junit.jupiter.api.Test;

/** When two convolutions compute the same positions, so that weights move without a warning. */
class ParameterTransferTest {

  private static ConvolutionLayer conv(int k, int stride, ConvolutionMode mode, int pad) {
    return new ConvolutionLayer.Builder(k, k)
        .stride(stride, stride)
        .padding(pad, pad)
        .convolutionMode(mode)
        .nOut(4)
        .build();
  }

  @Test
  void sameModeIsTheExplicitHalfKernelPaddingAtStrideOne() {
    // DL4J's zoo VGG16 against Graft's (Keras's): 3x3, stride 1
    assertTrue(
        ParameterTransfer.sameGeometry(
            conv(3, 1, ConvolutionMode.Same, 0), conv(3, 1, ConvolutionMode.Truncate, 1)));
    assertTrue(
        ParameterTransfer.sameGeometry(
            conv(7, 1, ConvolutionMode.Strict, 3), conv(7, 1, ConvolutionMode.Same, 0)));
    assertTrue(
        ParameterTransfer.sameGeometry(
            conv(3, 2, ConvolutionMode.Same, 0), conv(3, 2, ConvolutionMode.Same, 0)));
  }

  @Test
  void otherwiseTheGeometryDiffers() {
    assertFalse(
        ParameterTransfer.sameGeometry(
            conv(3, 1, ConvolutionMode.Same, 0), conv(3, 1, ConvolutionMode.Truncate, 0)),
        "no padding");
    assertFalse(
        ParameterTransfer.sameGeometry(
            conv(3, 2, ConvolutionMode.Same, 0), conv(3, 2, ConvolutionMode.Truncate, 1)),
        "Same at stride 2 pads by the input size, not by a constant");
    assertFalse(
        ParameterTransfer.sameGeometry(
            conv(3, 1, ConvolutionMode.Truncate, 1), conv(3, 2, ConvolutionMode.Truncate, 1)),
        "stride");
    assertFalse(
        ParameterTransfer.sameGeometry(
            conv(3, 1, ConvolutionMode.Truncate, 1), conv(3, 1, ConvolutionMode.Truncate, 0)),
        "padding");
  }

  /** Saved parameters from a file that name an unknown layer or a wrong shape are refused whole. */
  @Test
  void restoreRefusesUnknownLayersAndWrongShapes() {
    org.deeplearning4j.nn.graph.ComputationGraph net =
        dev.graft.model.TinyNets.classifier(28, 3, 5);
    java.util.Map<String, java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray>> good =
        ParameterTransfer.snapshot(net, net.getConfiguration().getVertices().keySet());
    String layer =
        good.entrySet().stream()
            .filter(en -> !en.getValue().isEmpty())
            .findFirst()
            .orElseThrow()
            .getKey();
    String param = good.get(layer).keySet().iterator().next();
    org.nd4j.linalg.api.ndarray.INDArray before =
        net.getVertex(layer).getLayer().getParam(param).dup();

    var unknown = new java.util.LinkedHashMap<>(good);
    unknown.put("no-such-layer", good.get(layer));
    var e1 =
        org.junit.jupiter.api.Assertions.assertThrows(
            dev.graft.error.GraftException.class, () -> ParameterTransfer.restore(net, unknown));
    assertTrue(e1.getMessage().contains("no-such-layer"), e1.getMessage());

    var wrong = new java.util.LinkedHashMap<>(good);
    var params = new java.util.LinkedHashMap<>(good.get(layer));
    params.put(param, org.nd4j.linalg.factory.Nd4j.ones(before.dataType(), before.length() + 1));
    wrong.put(layer, params);
    var e2 =
        org.junit.jupiter.api.Assertions.assertThrows(
            dev.graft.error.GraftException.class, () -> ParameterTransfer.restore(net, wrong));
    assertTrue(e2.getMessage().contains(layer + "/" + param), e2.getMessage());
    assertTrue(before.equals(net.getVertex(layer).getLayer().getParam(param)), "nothing written");
  }
}
