/**
 * Reading files that may come from anyone: a {@code .graft} model from a colleague, a DL4J zip from
 * a forum, a weights file from a mirror. A model file is data, never code: {@link
 * dev.graft.io.NetworkZip} is the one reader of DL4J network zips (it vets entries, sizes and every
 * class name before DL4J sees a byte), {@link dev.graft.io.SafeZip} bounds every zip entry Graft
 * reads, {@link dev.graft.io.JsonGuard} is the one way JSON from a file is parsed (duplicate keys,
 * depth, number and string length refused first), {@link dev.graft.io.Hdf5Check} pre-checks an
 * {@code .h5}, {@link dev.graft.io.SafeText} escapes names for the terminal, {@link
 * dev.graft.io.Limits} holds the caps, {@link dev.graft.io.Sha256} pins a file's digest, and a
 * refused file is a {@link dev.graft.io.RefusedFileException} naming the file and the entry. See
 * {@code docs/security.md} for what is guaranteed.
 *
 * <pre>{@code
 * ComputationGraph g = NetworkZip.read(Path.of("base.zip"));   // refuses preprocessor.bin & co
 * Sha256.verify(Path.of("vgg16.zip"), "9f86d0...", "--weights"); // pinned digest
 * }</pre>
 */
package dev.graft.io;
