package dev.graft.base;

/** Order of the colour channels in the tensor a base consumes. */
public enum ChannelOrder {
  /** Red, green, blue (Keras "tf" and "torch" preprocessing, PyTorch models). */
  RGB,
  /** Blue, green, red (Keras "caffe" preprocessing: VGG16, ResNet50). */
  BGR
}
