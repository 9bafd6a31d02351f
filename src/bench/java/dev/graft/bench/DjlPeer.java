package dev.graft.bench;

import ai.djl.Model;
import ai.djl.basicmodelzoo.cv.classification.ResNetV1;
import ai.djl.basicmodelzoo.cv.classification.VGG;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;

/** The DJL + PyTorch peer: the same architecture, random weights, inference forward passes. */
final class DjlPeer {
  private DjlPeer() {}

  static double[] run(String model, int batch, int size, int warmup, int iters) {
    System.setProperty("ai.djl.offline", "true");
    Block block =
        switch (model) {
          case "resnet50" ->
              ResNetV1.builder()
                  .setImageShape(new Shape(3, size, size))
                  .setNumLayers(50)
                  .setOutSize(1000)
                  .build();
          case "vgg16" ->
              VGG.builder()
                  .setNumLayers(16)
                  .setConvArch(new int[][] {{2, 64}, {2, 128}, {3, 256}, {3, 512}, {3, 512}})
                  .setOutSize(1000)
                  .build();
          default -> throw new IllegalArgumentException("no DJL peer for " + model);
        };
    try (Model m = Model.newInstance(model, "PyTorch")) {
      m.setBlock(block);
      NDManager manager = m.getNDManager();
      Shape shape = new Shape(batch, 3, size, size);
      block.initialize(manager, DataType.FLOAT32, shape);
      ParameterStore ps = new ParameterStore(manager, false);
      NDArray x = manager.randomUniform(0f, 1f, shape);
      // inference as torch.no_grad(): no autograd graph is recorded (thread-local in PyTorch)
      ai.djl.pytorch.jni.JniUtils.setGradMode(false);
      System.out.println(
          "DJL PyTorch threads="
              + ai.djl.pytorch.jni.JniUtils.getNumThreads()
              + " interop="
              + ai.djl.pytorch.jni.JniUtils.getNumInteropThreads()
              + " gradMode="
              + ai.djl.pytorch.jni.JniUtils.isGradMode());
      for (int i = 0; i < warmup; i++) {
        once(manager, block, ps, x);
      }
      long t0 = System.nanoTime();
      long c0 = Bench.cpuNanos();
      for (int i = 0; i < iters; i++) {
        once(manager, block, ps, x);
      }
      double s = (System.nanoTime() - t0) / 1e9;
      return new double[] {iters * batch / s, Bench.cpuIps(iters * batch, c0)};
    }
  }

  private static void once(NDManager manager, Block block, ParameterStore ps, NDArray x) {
    try (NDManager sub = manager.newSubManager()) {
      NDList out = block.forward(ps, new NDList(x), false);
      out.attach(sub);
      out.head().sum().getFloat();
    }
  }
}
