/**
 * Inception V3, built as Keras builds it (same layer names, same shapes), since deeplearning4j-zoo
 * has none: {@link dev.graft.base.inception.InceptionV3}.
 */
package dev.graft.base.inception;
