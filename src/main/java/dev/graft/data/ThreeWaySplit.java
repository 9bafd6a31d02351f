package dev.graft.data;

/**
 * A stratified train/validation/test split of an {@link ImageDataset}; see {@link
 * ImageDataset#split(double, double, long)}.
 *
 * @param train the training part
 * @param validation the part used to choose the epoch and settings
 * @param test the part kept for the final, untouched measurement
 */
public record ThreeWaySplit(ImageDataset train, ImageDataset validation, ImageDataset test) {}
