/**
 * The on-disk feature cache: activations of a frozen base, computed once per image and reused
 * across epochs, runs and processes.
 *
 * <p>{@link dev.graft.features.FeatureCache} stores float32 rows in append-only, checksummed,
 * memory-mapped segment files under a directory named by a {@link dev.graft.features.FeatureKey}
 * (base, weights, cut point, preprocessing, input size); images are identified by the SHA-256 of
 * their bytes.
 */
package dev.graft.features;
