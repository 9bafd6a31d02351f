package dev.graft.data;

/** How an image of any shape reaches the square input of a base. */
public enum ResizeMode {
  /**
   * The shorter side is resized to the input size and the centre square is kept (the default; what
   * Keras and torchvision evaluation pipelines do). Keeps the aspect ratio, loses the edges.
   */
  CENTER_CROP,
  /** The whole image is resized to the square, distorting the aspect ratio; nothing is lost. */
  STRETCH
}
