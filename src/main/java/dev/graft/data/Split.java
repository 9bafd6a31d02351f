package dev.graft.data;

/**
 * A stratified train/validation split of an {@link ImageDataset}; see {@link
 * ImageDataset#split(double, long)}.
 *
 * @param train the training part
 * @param validation the held-out part
 */
public record Split(ImageDataset train, ImageDataset validation) {}
