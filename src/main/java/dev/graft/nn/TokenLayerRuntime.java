package dev.graft.nn;

import java.io.PrintStream;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.samediff.SameDiffLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The running form of a {@link TokenLayer}: DL4J's SameDiff layer with two faults of DL4J
 * 1.0.0-M2.1 corrected.
 *
 * <ul>
 *   <li>The gradient arriving from the next layer is counted twice: {@code
 *       ExternalErrorsFunction.doDiff} registers it as the output's gradient and returns it, and
 *       {@code DifferentialFunction.diff} then adds the returned value to the registered one. Every
 *       parameter gradient and the gradient handed to the previous layer came out doubled (and
 *       doubled again per token layer below). The backward pass is linear in that gradient, so it
 *       is given half.
 *   <li>{@code SameDiff.createGradFunction} prints "Added differentiated op ..." on standard output
 *       for every op; those lines are dropped while the gradient function is built.
 * </ul>
 *
 * {@code TokenLayerGradientTest} checks the gradients against finite differences, so a DL4J release
 * that fixes the first fault makes it fail rather than halve correct gradients.
 */
final class TokenLayerRuntime extends SameDiffLayer {
  private static final String NOISE = "Added differentiated op ";
  private static final Object STDOUT_LOCK = new Object();

  TokenLayerRuntime(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(
      INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
    if (sameDiff == null || !sameDiff.hasGradientFunction()) {
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        if (sameDiff == null) {
          doInit();
        }
        quietly(() -> sameDiff.createGradFunction(INPUT_KEY));
      }
    }
    return super.backpropGradient(epsilon.mul(0.5), workspaceMgr);
  }

  /** Runs {@code r} with SameDiff's "Added differentiated op" lines kept off standard output. */
  static void quietly(Runnable r) {
    synchronized (STDOUT_LOCK) {
      PrintStream original = System.out;
      PrintStream filtered =
          new PrintStream(original, true) {
            @Override
            public void println(String line) {
              if (line == null || !line.startsWith(NOISE)) {
                super.println(line);
              }
            }
          };
      System.setOut(filtered);
      try {
        r.run();
      } finally {
        if (System.out == filtered) {
          System.setOut(original);
        }
      }
    }
  }
}
