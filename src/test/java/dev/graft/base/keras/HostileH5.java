package dev.graft.base.keras;

import static org.bytedeco.hdf5.global.hdf5.H5F_ACC_RDWR;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.hdf5.DSetCreatPropList;
import org.bytedeco.hdf5.DataSet;
import org.bytedeco.hdf5.DataSpace;
import org.bytedeco.hdf5.DataType;
import org.bytedeco.hdf5.H5File;
import org.bytedeco.hdf5.PredType;
import org.bytedeco.hdf5.StrType;
import org.bytedeco.hdf5.global.hdf5;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;

/**
 * Hostile Keras {@code .h5} files for tests, each made from a good weights file by replacing the
 * first weight dataset of the first layer with weights (a convolution's kernel in the tiny nets):
 * the ways an {@code .h5} can make the HDF5 library read another file, hang or misread.
 */
public final class HostileH5 {
  private HostileH5() {}

  /** The kinds of hostile replacement. */
  public enum Kind {
    /** The dataset's data lives in external storage: the file {@code target}. */
    EXTERNAL_STORAGE,
    /** The dataset is an external link to a dataset in the file {@code target}. */
    EXTERNAL_LINK,
    /** The dataset is a soft link to another dataset of the same file. */
    SOFT_LINK,
    /** The dataset is virtual, mapped from a dataset in the file {@code target}. */
    VIRTUAL,
    /** The dataset holds fixed-length strings of the right shape. */
    STRINGS,
    /** The dataset is chunked with a filter (32001, Blosc) that only a plugin provides. */
    PLUGIN_FILTER,
    /** The dataset's contiguous data address points past the end of the file. */
    OFFSET_PAST_END
  }

  /** A good Keras weights file of the tiny 28 px network, {@code good.h5} in {@code dir}. */
  public static Path goodFile(Path dir) throws IOException {
    Path h5 = dir.resolve("good.h5");
    KerasWeightsWriter.save(dev.graft.model.TinyNets.classifier(28, 3, 5), h5);
    return h5;
  }

  /** The path of the dataset {@link #make} replaces, in a file {@link KerasWeightsWriter} wrote. */
  public static String victim(Path h5) throws IOException {
    try (H5 f = H5.openRead(h5)) {
      for (String layer : f.stringList("", "layer_names")) {
        List<String> w = f.stringList(layer, "weight_names");
        if (w != null && !w.isEmpty()) {
          return layer + "/" + w.get(0);
        }
      }
    }
    throw new IllegalStateException("no weights in " + h5);
  }

  /**
   * Copies the good file {@code good} to {@code out} with its first weight dataset replaced as
   * {@code kind} says; {@code target} is the other file it points at, where it points at one.
   */
  public static Path make(Path good, Path out, Kind kind, Path target) throws IOException {
    String victim = victim(good);
    long[] shape;
    try (H5 f = H5.openRead(good)) {
      shape = f.shape(victim);
    }
    Files.copy(good, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    long dataBytes = 4;
    for (long n : shape) {
      dataBytes *= n;
    }
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      H5File f = new H5File(out.toString(), H5F_ACC_RDWR());
      try {
        if (kind == Kind.OFFSET_PAST_END) {
          DataSet d = f.openDataSet(victim);
          long offset = d.getOffset();
          d.deallocate();
          f._close();
          patchAddress(out, offset, Files.size(out) + (1L << 20));
          return out;
        }
        f.unlink(victim);
        DataType floats = new DataType(PredType.IEEE_F32LE());
        DataSpace space = new DataSpace(shape.length, shape);
        DSetCreatPropList plist = new DSetCreatPropList();
        switch (kind) {
          case EXTERNAL_STORAGE -> {
            plist.setExternal(target.toString(), 0, dataBytes);
            f.createDataSet(victim, floats, space, plist, null, null).deallocate();
          }
          case EXTERNAL_LINK ->
              check(
                  hdf5.H5Lcreate_external(
                      target.toString(),
                      "/w",
                      f.getId(),
                      victim,
                      hdf5.H5P_DEFAULT(),
                      hdf5.H5P_DEFAULT()));
          case SOFT_LINK -> {
            f.createDataSet("decoy", floats, space).deallocate();
            check(
                hdf5.H5Lcreate_soft(
                    "/decoy", f.getId(), victim, hdf5.H5P_DEFAULT(), hdf5.H5P_DEFAULT()));
          }
          case VIRTUAL -> {
            plist.setVirtual(space, target.toString(), "/w", space);
            f.createDataSet(victim, floats, space, plist, null, null).deallocate();
          }
          case STRINGS -> {
            StrType s = new StrType(PredType.C_S1(), 8);
            f.createDataSet(victim, s, space).deallocate();
            s.deallocate();
          }
          case PLUGIN_FILTER -> {
            plist.setChunk(shape.length, shape);
            check(hdf5.H5Pset_filter(plist.getId(), 32001, hdf5.H5Z_FLAG_OPTIONAL, 0, new int[0]));
            f.createDataSet(victim, floats, space, plist, null, null).deallocate();
          }
          default -> throw new IllegalArgumentException(kind.toString());
        }
        plist.deallocate();
        space.deallocate();
        floats.deallocate();
      } finally {
        f._close();
        f.deallocate();
      }
    }
    return out;
  }

  private static void check(int status) {
    if (status < 0) {
      throw new IllegalStateException("HDF5 call failed: " + status);
    }
  }

  /** Replaces the one occurrence of the 8-byte little-endian address {@code from} in the file. */
  private static void patchAddress(Path file, long from, long to) throws IOException {
    byte[] b = Files.readAllBytes(file);
    ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int found = -1;
    for (int i = 0; i + 8 <= b.length; i++) {
      if (buf.getLong(i) == from) {
        if (found >= 0) {
          throw new IllegalStateException("address " + from + " found twice");
        }
        found = i;
      }
    }
    if (found < 0) {
      throw new IllegalStateException("address " + from + " not found");
    }
    buf.putLong(found, to);
    Files.write(file, b);
  }
}
