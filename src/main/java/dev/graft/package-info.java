/**
 * Graft: transfer learning on images for the JVM, on Deeplearning4j. Start with {@link
 * dev.graft.Graft#base(dev.graft.base.Base)}; the packages below hold the parts: {@code base}
 * (pretrained bases), {@code data} (image folders and batches), {@code head}, {@code strategy},
 * {@code train}, {@code metrics}, {@code model} (model files and prediction), {@code features}
 * (featurizing and the feature cache), {@code report} (HTML reports), {@code spark} and {@code
 * cli}.
 *
 * <h2>Names</h2>
 *
 * Builders ({@link dev.graft.TransferBuilder}, {@link dev.graft.base.BaseBuilder}, {@code
 * Featurizer.Builder}) use one plain name per setting ({@code epochs(10)}, {@code batchSize(8)},
 * {@code cache(root)}); every setting has a default, and {@code fit}, {@code load} or {@code build}
 * validates. Prediction has one pair of entry points: {@code predict(image, k)} for one image (a
 * file, a decoded image or preprocessed values) and {@code predictFiles(files, k)} / {@code
 * predictImages(images, k)} for many, computed in batches.
 *
 * <h2>Exceptions</h2>
 *
 * <ul>
 *   <li>{@link java.io.IOException} when a file cannot be read or written (an image, a model file,
 *       weights): declared by every method that touches files, with the path in the message. A file
 *       that is not what it claims is an {@code IOException} too ({@code ModelFileException}).
 *   <li>{@link dev.graft.error.GraftException}, unchecked, for bad configuration or bad input: a
 *       setting out of range, labels that do not match, a hostile file refused. The message echoes
 *       the value or names the file at fault ({@code "epochs must be >= 1, got 0"}).
 *   <li>{@link java.lang.IllegalStateException} for using something after {@code close()} (a model,
 *       a predictor, a featurizer), in the words of the object the caller holds.
 *   <li>{@link dev.graft.train.TrainingStoppedException} when a stop signal ended training (the
 *       checkpoint is kept).
 *   <li>{@link java.io.UncheckedIOException} only where a method with no {@code throws} clause must
 *       read or write a file (a checkpoint during {@code fit}).
 * </ul>
 *
 * Never {@code throws Exception}. Errors from DL4J or ND4J that Graft cannot attribute to an input
 * pass through unchanged.
 */
package dev.graft;
