/**
 * Keras {@code .h5} weights for Graft's graphs: {@link dev.graft.base.keras.KerasWeights} reads and
 * writes Keras weight files by layer name (layout conversion, shape checks, Keras's batch
 * normalisation epsilon), and {@link dev.graft.base.keras.KerasImagenet} knows Keras Applications'
 * published ImageNet files and fetches them verified by the MD5 Keras publishes, cached, offline
 * aware. HDF5 is read and written through the bytedeco {@code hdf5} library that DL4J's model
 * import brings.
 */
package dev.graft.base.keras;
