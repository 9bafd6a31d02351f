/**
 * EfficientNetB0 (Tan and Le 2019) built layer for layer as Keras's {@code
 * keras.applications.EfficientNetB0}, so Keras's ImageNet {@code .h5} weights map onto it by name.
 */
package dev.graft.base.efficientnet;
