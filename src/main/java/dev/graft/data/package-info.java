/**
 * Image data: where labelled images come from, how they are decoded and preprocessed, and how they
 * reach a network as prefetched minibatches.
 *
 * <ul>
 *   <li>Sources: {@link dev.graft.data.ImageFolder} (a folder per class) and {@link
 *       dev.graft.data.ImageList} (a CSV of path,label rows) produce an immutable {@link
 *       dev.graft.data.ImageDataset}, which splits (stratified, seeded), subsamples and relabels.
 *   <li>Decoding: {@link dev.graft.data.ImageDecoder} reads JPEG (EXIF orientation honoured), PNG,
 *       GIF, BMP and TIFF into 8-bit RGB, alpha composited on white.
 *   <li>Preprocessing: {@link dev.graft.data.ImageTransform} resizes (shorter side and centre crop,
 *       or a plain resize) with an antialiasing filter and applies the base's {@link
 *       dev.graft.base.Preprocessing}; the same code runs in training, evaluation and prediction.
 *   <li>Augmentation: {@link dev.graft.data.Augmentation}, seeded, for training only.
 *   <li>Throughput: {@link dev.graft.data.ImageBatches} decodes in background threads with bounded
 *       prefetch and returns batches in a deterministic order.
 * </ul>
 *
 * <p>Bad files: a scan skips zero-byte, non-image and unreadable-header files with one warning each
 * (listed by {@link dev.graft.data.ImageDataset#skipped()}); {@link
 * dev.graft.data.ScanOptions#verify()} decodes every file up front; files that fail only when fully
 * decoded are skipped by {@link dev.graft.data.ImageBatches} (listed by its {@code skipped()}). In
 * strict mode the first bad file stops the run with a {@link dev.graft.error.GraftException} naming
 * it.
 */
package dev.graft.data;
