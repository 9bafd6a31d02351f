/**
 * The bases Graft transfers from: the catalog ({@link dev.graft.base.Architecture}: VGG16,
 * ResNet50, InceptionV3), bases of your own ({@link dev.graft.base.Bases#fromFile}), where their
 * weights come from ({@link dev.graft.base.Weights}: ImageNet downloads verified and cached once,
 * local DL4J zips, Keras {@code .h5}, random init), their preprocessing, cut points and blocks.
 *
 * <pre>{@code
 * Base base = Bases.resnet50().imagenet().load();
 * }</pre>
 */
package dev.graft.base;
