package dev.graft.base.keras;

import static org.bytedeco.hdf5.global.hdf5.H5F_ACC_RDONLY;
import static org.bytedeco.hdf5.global.hdf5.H5F_ACC_TRUNC;
import static org.bytedeco.hdf5.global.hdf5.H5O_TYPE_GROUP;
import static org.bytedeco.hdf5.global.hdf5.H5S_SCALAR;
import static org.bytedeco.hdf5.global.hdf5.H5T_CSET_ASCII;
import static org.bytedeco.hdf5.global.hdf5.H5T_STRING;
import static org.bytedeco.hdf5.global.hdf5.H5T_STR_NULLPAD;

import dev.graft.io.Hdf5Check;
import dev.graft.io.Limits;
import dev.graft.io.RefusedFileException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.hdf5.Attribute;
import org.bytedeco.hdf5.DSetCreatPropList;
import org.bytedeco.hdf5.DataSet;
import org.bytedeco.hdf5.DataSpace;
import org.bytedeco.hdf5.DataType;
import org.bytedeco.hdf5.Group;
import org.bytedeco.hdf5.H5File;
import org.bytedeco.hdf5.H5L_info2_t;
import org.bytedeco.hdf5.H5Object;
import org.bytedeco.hdf5.PredType;
import org.bytedeco.hdf5.StrType;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The few HDF5 operations a Keras weights file needs, on the HDF5 library that DL4J's model import
 * brings (bytedeco's {@code hdf5}), serialised on {@link Hdf5Archive#LOCK_OBJECT} because the
 * library is not thread safe.
 *
 * <p>Why not {@link Hdf5Archive} itself: it reads a dataset one {@code putScalar} at a time (tens
 * of seconds for VGG16's 138 M weights), cannot read an attribute holding an array of strings
 * (Keras's {@code layer_names} and {@code weight_names}), and cannot write. Why one class of this
 * size: every call goes through the one native lock and the same handle bookkeeping, and splitting
 * readers from writers would split that.
 */
final class H5 implements AutoCloseable {

  /** Keras splits an attribute larger than this into {@code name0}, {@code name1}, … */
  static final int HDF5_OBJECT_HEADER_LIMIT = 64512;

  static {
    Loader.load(org.bytedeco.hdf5.global.hdf5.class);
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      // Errors come back as exceptions with messages; don't also print HDF5's error stack.
      org.bytedeco.hdf5.Exception.dontPrint();
      // A filter a file names could otherwise be loaded as a plugin (native code) from
      // HDF5_PLUGIN_PATH; Graft only allows built-in filters (checkDataset), and loads none.
      org.bytedeco.hdf5.global.hdf5.H5PLset_loading_state(0);
    }
  }

  // Created once and never freed: a native object left to the garbage collector is closed by
  // JavaCPP's deallocator thread, and an HDF5 call from that thread races with ours.
  private static final DataType MEM_FLOAT;
  private static final DataType FILE_FLOAT;
  private static final DataType FILE_DOUBLE;

  static {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      MEM_FLOAT = new DataType(PredType.NATIVE_FLOAT());
      FILE_FLOAT = new DataType(PredType.IEEE_F32LE());
      FILE_DOUBLE = new DataType(PredType.IEEE_F64LE());
    }
  }

  /** Filters a weights dataset may use: deflate (gzip), shuffle and Fletcher-32, all built in. */
  private static final java.util.Set<Integer> ALLOWED_FILTERS =
      java.util.Set.of(
          org.bytedeco.hdf5.global.hdf5.H5Z_FILTER_DEFLATE,
          org.bytedeco.hdf5.global.hdf5.H5Z_FILTER_SHUFFLE,
          org.bytedeco.hdf5.global.hdf5.H5Z_FILTER_FLETCHER32);

  /** Most chunks one dataset may have (VGG16's largest dataset in one chunk needs one). */
  private static final long MAX_CHUNKS = 1 << 20;

  /** Most strings one attribute may list (Keras's {@code layer_names}: a few hundred). */
  private static final long MAX_ATTRIBUTE_STRINGS = 1 << 20;

  private final H5File file;
  private final Path path;
  private final long fileSize;
  private final Limits limits;

  private H5(H5File file, Path path, long fileSize, Limits limits) {
    this.file = file;
    this.path = path;
    this.fileSize = fileSize;
    this.limits = limits;
  }

  /**
   * Opens {@code path} read-only. The file is checked in Java first ({@link Hdf5Check}: signature,
   * size, superblock) and refused with a {@link dev.graft.io.RefusedFileException} before the
   * native library sees it; what the native library then cannot read is an IOException. Every
   * object is then reached through hard links only ({@link #checkLinks}), and every dataset is
   * checked ({@link #checkDataset}) before its data is read.
   */
  static H5 openRead(Path path) throws IOException {
    Limits limits = Limits.defaults();
    Hdf5Check.check(path, limits);
    long size = java.nio.file.Files.size(path);
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      try {
        return new H5(new H5File(path.toString(), H5F_ACC_RDONLY()), path, size, limits);
      } catch (RuntimeException e) {
        throw new IOException(
            "not a readable HDF5 file (truncated or corrupt?): " + path + " (" + message(e) + ")",
            e);
      }
    }
  }

  /** Creates (or truncates) {@code path} for writing. */
  static H5 create(Path path) throws IOException {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      try {
        return new H5(new H5File(path.toString(), H5F_ACC_TRUNC()), path, 0, Limits.defaults());
      } catch (RuntimeException e) {
        throw new IOException("cannot create HDF5 file " + path + ": " + message(e), e);
      }
    }
  }

  Path path() {
    return path;
  }

  @Override
  public void close() {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      file._close();
      file.deallocate();
    }
  }

  // ---- reading ----

  /** Whether an object (group or dataset) exists at the slash-separated {@code objectPath}. */
  boolean exists(String objectPath) {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      Group g = file;
      List<Group> opened = new ArrayList<>();
      try {
        String[] parts = objectPath.split("/");
        for (int i = 0; i < parts.length; i++) {
          if (!g.nameExists(parts[i])) {
            return false;
          }
          requireHardLink(g, parts[i], objectPath);
          if (i < parts.length - 1) {
            if (g.childObjType(parts[i]) != H5O_TYPE_GROUP) {
              return false;
            }
            g = g.openGroup(parts[i]);
            opened.add(g);
          }
        }
        return true;
      } catch (RefusedFileException e) {
        throw e;
      } catch (RuntimeException e) {
        return false;
      } finally {
        for (int i = opened.size() - 1; i >= 0; i--) {
          opened.get(i).deallocate();
        }
      }
    }
  }

  /**
   * A Keras string-list attribute of the group at {@code groupPath} (empty: the root), also when
   * Keras split it into {@code name0}, {@code name1}, …; null when absent.
   */
  List<String> stringList(String groupPath, String name) throws IOException {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      checkLinks(groupPath);
      H5Object obj = groupPath.isEmpty() ? file : file.openGroup(groupPath);
      try {
        if (obj.attrExists(name)) {
          return readStrings(obj, name);
        }
        if (!obj.attrExists(name + "0")) {
          return null;
        }
        List<String> all = new ArrayList<>();
        for (int i = 0; obj.attrExists(name + i); i++) {
          all.addAll(readStrings(obj, name + i));
        }
        return all;
      } catch (RuntimeException e) {
        throw new IOException(
            "cannot read attribute '"
                + name
                + "' of '/"
                + groupPath
                + "' in "
                + path
                + ": "
                + message(e),
            e);
      } finally {
        if (obj != file) {
          obj.deallocate();
        }
      }
    }
  }

  private static List<String> readStrings(H5Object obj, String name) {
    Attribute a = obj.openAttribute(name);
    DataSpace space = a.getSpace();
    try {
      long n = space.getSimpleExtentNpoints();
      List<String> out = new ArrayList<>();
      if (n == 0) {
        return out; // Keras writes an empty float64 array for a layer without weights
      }
      if (n < 0 || n > MAX_ATTRIBUTE_STRINGS) {
        throw new IllegalStateException("attribute '" + name + "' lists " + n + " strings");
      }
      if (a.getTypeClass() != H5T_STRING) {
        throw new IllegalStateException("attribute '" + name + "' does not hold strings");
      }
      StrType type = a.getStrType();
      try {
        if (type.isVariableStr()) {
          PointerPointer<BytePointer> ptrs = new PointerPointer<>(n);
          a.read(type, ptrs);
          for (int i = 0; i < n; i++) {
            out.add(new String(ptrs.getString(i).getBytes(), StandardCharsets.UTF_8));
          }
        } else {
          int size = (int) type.getSize();
          byte[] bytes = new byte[(int) (n * size)];
          BytePointer buf = new BytePointer(bytes.length);
          a.read(type, (Pointer) buf);
          buf.get(bytes);
          buf.deallocate();
          for (int i = 0; i < n; i++) {
            int end = i * size;
            int limit = end + size;
            while (end < limit && bytes[end] != 0) {
              end++;
            }
            out.add(new String(bytes, i * size, end - i * size, StandardCharsets.UTF_8).trim());
          }
        }
      } finally {
        type.deallocate();
      }
      return out;
    } finally {
      space.deallocate();
      a.deallocate();
    }
  }

  /** A scalar string attribute of the root; null when absent. */
  String rootString(String name) throws IOException {
    List<String> s = stringList("", name);
    return s == null || s.isEmpty() ? null : s.get(0);
  }

  /**
   * Shape of the dataset at {@code datasetPath}, after {@link #checkDataset} has accepted it.
   *
   * @throws RefusedFileException if the dataset (or a link on the way to it) is one Graft refuses
   */
  long[] shape(String datasetPath) throws IOException {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      DataSet d = null;
      DataSpace space = null;
      try {
        checkLinks(datasetPath);
        d = file.openDataSet(datasetPath);
        space = d.getSpace();
        int rank = space.getSimpleExtentNdims();
        if (rank < 0 || rank > 8) {
          throw refused(datasetPath, "a dataset of rank " + rank + " (weights have 1 to 8)");
        }
        long[] dims = new long[rank];
        space.getSimpleExtentDims(dims);
        checkDataset(d, datasetPath, dims);
        return dims;
      } catch (RefusedFileException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new IOException(
            "cannot open dataset '" + datasetPath + "' in " + path + ": " + message(e), e);
      } finally {
        free(space);
        free(d);
      }
    }
  }

  /**
   * The dataset at {@code datasetPath} as a float array of its shape in row-major (C) order, read
   * straight into the array's native buffer.
   */
  INDArray read(String datasetPath) throws IOException {
    long[] shape = shape(datasetPath);
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      DataSet d = null;
      try {
        INDArray out =
            Nd4j.createUninitialized(org.nd4j.linalg.api.buffer.DataType.FLOAT, shape, 'c');
        if (out.length() > 0) {
          d = file.openDataSet(datasetPath); // checked by shape() just above, under this lock
          d.read(out.data().addressPointer(), MEM_FLOAT);
        }
        return out;
      } catch (RefusedFileException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new IOException(
            "cannot read dataset '"
                + datasetPath
                + "' in "
                + path
                + " (truncated file?): "
                + message(e),
            e);
      } finally {
        free(d);
      }
    }
  }

  // ---- the checks every object goes through before its data is read ----

  /**
   * Refuses a path unless every link on it is a hard link: a soft link can point anywhere in the
   * file, an external link opens another file (a FIFO hangs), and a user-defined link runs whatever
   * its class registered.
   */
  private void checkLinks(String objectPath) {
    if (objectPath.isEmpty()) {
      return;
    }
    StringBuilder sofar = new StringBuilder();
    for (String part : objectPath.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      if (sofar.length() > 0) {
        sofar.append('/');
      }
      sofar.append(part);
      requireHardLink(file, sofar.toString(), objectPath);
    }
  }

  /** Refuses {@code name} in {@code group} unless it is a hard link (or does not exist). */
  private void requireHardLink(Group group, String name, String objectPath) {
    H5L_info2_t info = new H5L_info2_t();
    try {
      int status =
          org.bytedeco.hdf5.global.hdf5.H5Lget_info2(
              group.getId(), name, info, org.bytedeco.hdf5.global.hdf5.H5P_DEFAULT());
      if (status >= 0 && info.type() != org.bytedeco.hdf5.global.hdf5.H5L_TYPE_HARD) {
        String kind =
            info.type() == org.bytedeco.hdf5.global.hdf5.H5L_TYPE_SOFT
                ? "a soft link"
                : info.type() == org.bytedeco.hdf5.global.hdf5.H5L_TYPE_EXTERNAL
                    ? "an external link (to another file)"
                    : "a user-defined link";
        throw refused(objectPath, "'" + name + "' is " + kind + "; only plain objects are read");
      }
    } finally {
      info.deallocate();
    }
  }

  /**
   * Checks a dataset before its data is read: little- or big-endian floats of 2, 4 or 8 bytes (no
   * strings, integers, compounds or references); at most {@link Limits#maxParameters()} values; its
   * data in this file (no external storage, no virtual dataset), stored contiguous, chunked or
   * compact; only built-in deflate, shuffle and Fletcher-32 filters; and every byte of its storage
   * (the contiguous block, or each chunk) within the file's size.
   */
  private void checkDataset(DataSet d, String datasetPath, long[] dims) {
    long count = 1;
    for (long n : dims) {
      if (n < 0 || (n > 0 && count > limits.maxParameters() / n)) {
        throw refused(datasetPath, "a dataset of " + java.util.Arrays.toString(dims) + " values");
      }
      count *= n;
    }
    if (count > limits.maxParameters()) {
      throw refused(
          datasetPath,
          "a dataset of "
              + count
              + " values, more than graft.limits.maxParameters ("
              + limits.maxParameters()
              + ")");
    }
    long type = org.bytedeco.hdf5.global.hdf5.H5Dget_type(d.getId());
    long typeSize;
    try {
      int typeClass = org.bytedeco.hdf5.global.hdf5.H5Tget_class(type);
      typeSize = org.bytedeco.hdf5.global.hdf5.H5Tget_size(type);
      if (typeClass != org.bytedeco.hdf5.global.hdf5.H5T_FLOAT
          || (typeSize != 2 && typeSize != 4 && typeSize != 8)) {
        throw refused(
            datasetPath,
            (typeClass == H5T_STRING
                    ? "a dataset of strings"
                    : "a dataset of HDF5 type class " + typeClass)
                + ", not floating-point weights");
      }
    } finally {
      org.bytedeco.hdf5.global.hdf5.H5Tclose(type);
    }
    DSetCreatPropList plist = d.getCreatePlist();
    try {
      if (plist.getExternalCount() != 0) {
        throw refused(
            datasetPath,
            "its data is in external storage (another file); only data inside the file is read");
      }
      int layout = plist.getLayout();
      if (layout == org.bytedeco.hdf5.global.hdf5.H5D_VIRTUAL) {
        throw refused(
            datasetPath, "a virtual dataset (data mapped from other datasets or files); refused");
      }
      int filters = plist.getNfilters();
      for (int i = 0; i < filters; i++) {
        int[] flags = new int[1];
        org.bytedeco.javacpp.SizeTPointer nelmts = new org.bytedeco.javacpp.SizeTPointer(1);
        nelmts.put(0L);
        int[] values = new int[0];
        byte[] name = new byte[64];
        int[] config = new int[1];
        int id;
        try {
          id = plist.getFilter(i, flags, nelmts, values, name.length, name, config);
        } finally {
          nelmts.deallocate();
        }
        if (!ALLOWED_FILTERS.contains(id)) {
          throw refused(
              datasetPath,
              "HDF5 filter "
                  + id
                  + " is not one Graft reads (deflate, shuffle and Fletcher-32 only)");
        }
      }
      long storage = d.getStorageSize();
      if (layout == org.bytedeco.hdf5.global.hdf5.H5D_CONTIGUOUS) {
        long offset = d.getOffset();
        if (offset != -1 && (storage < 0 || offset < 0 || offset > fileSize - storage)) {
          throw refused(
              datasetPath,
              "its data lies at bytes "
                  + offset
                  + " to "
                  + (offset + storage)
                  + ", outside the file's "
                  + fileSize
                  + " bytes");
        }
      } else if (layout == org.bytedeco.hdf5.global.hdf5.H5D_CHUNKED) {
        // One chunk is inflated whole: no bigger than the dataset (or 64 MiB), so a few bytes of
        // deflate cannot ask for gigabytes.
        long[] chunk = new long[dims.length];
        plist.getChunk(dims.length, chunk);
        long chunkBytes = typeSize;
        for (long c : chunk) {
          chunkBytes = c <= 0 || chunkBytes > Long.MAX_VALUE / c ? Long.MAX_VALUE : chunkBytes * c;
        }
        if (chunkBytes > Math.max(64L << 20, count * typeSize)) {
          throw refused(
              datasetPath,
              "chunks of "
                  + java.util.Arrays.toString(chunk)
                  + " values, larger than the dataset itself");
        }
        checkChunks(d, datasetPath);
      } else if (layout != org.bytedeco.hdf5.global.hdf5.H5D_COMPACT) {
        throw refused(datasetPath, "HDF5 storage layout " + layout + " is not one Graft reads");
      }
    } finally {
      plist.deallocate();
    }
  }

  /** Every chunk of a chunked dataset lies within the file, and there are not too many. */
  private void checkChunks(DataSet d, String datasetPath) {
    long id = d.getId();
    long[] n = new long[1];
    if (org.bytedeco.hdf5.global.hdf5.H5Dget_num_chunks(id, H5S_ALL, n) < 0) {
      throw refused(datasetPath, "its chunk index cannot be read");
    }
    if (n[0] < 0 || n[0] > MAX_CHUNKS) {
      throw refused(datasetPath, n[0] + " chunks, more than " + MAX_CHUNKS);
    }
    long[] coords = new long[32];
    int[] mask = new int[1];
    long[] addr = new long[1];
    long[] size = new long[1];
    for (long i = 0; i < n[0]; i++) {
      if (org.bytedeco.hdf5.global.hdf5.H5Dget_chunk_info(id, H5S_ALL, i, coords, mask, addr, size)
          < 0) {
        throw refused(datasetPath, "chunk " + i + " cannot be located");
      }
      if (addr[0] < 0 || size[0] < 0 || addr[0] > fileSize - size[0]) {
        throw refused(
            datasetPath,
            "chunk "
                + i
                + " lies at bytes "
                + addr[0]
                + " to "
                + (addr[0] + size[0])
                + ", outside the file's "
                + fileSize
                + " bytes");
      }
    }
  }

  /** {@code H5S_ALL}: the whole dataspace, for the chunk queries. */
  private static final long H5S_ALL = 0;

  private RefusedFileException refused(String datasetPath, String reason) {
    return new RefusedFileException(path, datasetPath, reason + "; refused before reading it");
  }

  private static void free(Pointer p) {
    if (p != null) {
      p.deallocate();
    }
  }

  // ---- writing ----

  /** Creates the group {@code groupPath} and any missing parents. */
  void createGroups(String groupPath) {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      StringBuilder sofar = new StringBuilder();
      for (String part : groupPath.split("/")) {
        if (sofar.length() > 0) {
          sofar.append('/');
        }
        sofar.append(part);
        String p = sofar.toString();
        if (!exists(p)) {
          file.createGroup(p).deallocate();
        }
      }
    }
  }

  /**
   * Writes a list of strings as h5py writes a numpy {@code S} array (fixed length, null padded,
   * ASCII), as Keras does; an empty list becomes an empty float64 array, as h5py writes {@code []}.
   */
  void writeStringList(String groupPath, String name, List<String> values) {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      H5Object obj = groupPath.isEmpty() ? file : file.openGroup(groupPath);
      try {
        if (values.isEmpty()) {
          DataSpace space = new DataSpace(1, new long[] {0});
          Attribute a = obj.createAttribute(name, FILE_DOUBLE, space);
          a.deallocate();
          space.deallocate();
          return;
        }
        byte[][] encoded = new byte[values.size()][];
        int max = 1;
        for (int i = 0; i < encoded.length; i++) {
          encoded[i] = values.get(i).getBytes(StandardCharsets.UTF_8);
          max = Math.max(max, encoded[i].length);
        }
        byte[] flat = new byte[encoded.length * max];
        for (int i = 0; i < encoded.length; i++) {
          System.arraycopy(encoded[i], 0, flat, i * max, encoded[i].length);
        }
        writeFixedStrings(obj, name, flat, max, new DataSpace(1, new long[] {encoded.length}));
      } finally {
        if (obj != file) {
          obj.deallocate();
        }
      }
    }
  }

  /** Writes a scalar fixed-length string attribute on the root (Keras's {@code backend}). */
  void writeRootString(String name, String value) {
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      byte[] b = value.getBytes(StandardCharsets.UTF_8);
      writeFixedStrings(file, name, b, Math.max(1, b.length), new DataSpace(H5S_SCALAR));
    }
  }

  private static void writeFixedStrings(
      H5Object obj, String name, byte[] flat, int size, DataSpace space) {
    StrType type = null;
    Attribute a = null;
    BytePointer buf = null;
    try {
      type = new StrType(PredType.C_S1(), size);
      type.setStrpad(H5T_STR_NULLPAD);
      type.setCset(H5T_CSET_ASCII);
      a = obj.createAttribute(name, type, space);
      buf = new BytePointer(Math.max(1, flat.length));
      buf.put(flat);
      a.write(type, (Pointer) buf);
    } finally {
      free(buf);
      free(a);
      free(type);
      free(space);
    }
  }

  /** Writes {@code values} as a float32 (little-endian) dataset of the array's shape. */
  void write(String datasetPath, INDArray values) {
    INDArray c = values.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c');
    long[] shape = c.shape();
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      int slash = datasetPath.lastIndexOf('/');
      if (slash > 0) {
        createGroups(datasetPath.substring(0, slash));
      }
      DataSpace space = null;
      DataSet d = null;
      try {
        space = new DataSpace(shape.length, shape);
        d = file.createDataSet(datasetPath, FILE_FLOAT, space);
        if (c.length() > 0) {
          d.write(c.data().addressPointer(), MEM_FLOAT);
        }
      } finally {
        free(d);
        free(space);
      }
    }
  }

  static String message(Throwable e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
