/**
 * Graft: transfer learning on images for the JVM, on Deeplearning4j. Start with {@link
 * dev.graft.Graft#base(dev.graft.base.Base)}; the packages below hold the parts: {@code base}
 * (pretrained bases), {@code data} (image folders and batches), {@code head}, {@code strategy},
 * {@code train}, {@code metrics}, {@code model} (model files and prediction) and {@code cli}.
 * {@link dev.graft.error.GraftException} (package {@code error}) is the one unchecked exception for
 * bad configuration or input.
 */
package dev.graft;
