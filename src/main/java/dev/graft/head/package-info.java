/**
 * Head specifications: what Graft puts on top of a base's cut point to classify. A {@link
 * dev.graft.head.Head} is a value (global average pooling or flatten, then dense layers with
 * dropout, then a softmax whose width comes from the data); the strategies in {@code
 * dev.graft.strategy} turn it into DL4J layers.
 */
package dev.graft.head;
