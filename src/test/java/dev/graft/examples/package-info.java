/**
 * Reference examples: the three Keras listings of the article Graft grew from, in Java. Each is a
 * runnable class (ImageNet VGG16 at 224 px on a folder of images, or the bundled MNIST digits) and
 * is run by {@link dev.graft.examples.ArticleExamplesTest} at 32 px on real digits.
 *
 * <ul>
 *   <li>{@link dev.graft.examples.FrozenVgg16Example}: (a) VGG16 frozen, Flatten, Dense(256, relu),
 *       Dense(10, softmax), Adam.
 *   <li>{@link dev.graft.examples.FineTuneVgg16Example}: (b) the same model, its last four layers
 *       unfrozen and recompiled at Adam 1e-4.
 *   <li>{@link dev.graft.examples.GapVgg16Example}: (c) VGG16 frozen, GlobalAveragePooling,
 *       Dense(128, relu), Dense(10, softmax).
 * </ul>
 */
package dev.graft.examples;
