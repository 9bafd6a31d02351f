/**
 * MobileNetV2 (Sandler et al. 2018) built layer for layer as Keras's {@code
 * keras.applications.MobileNetV2}, so Keras's ImageNet {@code .h5} weights map onto it by name.
 */
package dev.graft.base.mobilenet;
