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
}
