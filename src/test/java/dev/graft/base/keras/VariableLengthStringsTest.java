package dev.graft.base.keras;

import static org.bytedeco.hdf5.global.hdf5.H5F_ACC_TRUNC;
import static org.bytedeco.hdf5.global.hdf5.H5T_VARIABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.hdf5.Attribute;
import org.bytedeco.hdf5.DataSet;
import org.bytedeco.hdf5.DataSpace;
import org.bytedeco.hdf5.DataType;
import org.bytedeco.hdf5.Group;
import org.bytedeco.hdf5.H5File;
import org.bytedeco.hdf5.H5Object;
import org.bytedeco.hdf5.PredType;
import org.bytedeco.hdf5.StrType;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * h5py writes Python {@code str} attributes as variable-length strings (Keras itself writes bytes,
 * fixed length): a file written that way, with Keras 3's weight names (no {@code :0}), reads the
 * same.
 */
class VariableLengthStringsTest {

  @TempDir Path dir;

  private static void varlen(H5Object obj, String name, String... values) {
    StrType type = new StrType(PredType.C_S1(), H5T_VARIABLE());
    DataSpace space = new DataSpace(1, new long[] {values.length});
    Attribute a = obj.createAttribute(name, type, space);
    PointerPointer<?> p = new PointerPointer<>(values, StandardCharsets.UTF_8);
    a.write(type, p);
    p.deallocate();
    a.deallocate();
    space.deallocate();
    type.deallocate();
  }

  @Test
  void variableLengthNamesRead() throws IOException {
    Path h5 = dir.resolve("varlen.h5");
    synchronized (Hdf5Archive.LOCK_OBJECT) {
      H5File f = new H5File(h5.toString(), H5F_ACC_TRUNC());
      varlen(f, "layer_names", "input_1", "dense");
      Group in = f.createGroup("input_1");
      varlen(in, "weight_names");
      in.deallocate();
      Group g = f.createGroup("dense");
      varlen(g, "weight_names", "dense/kernel", "dense/bias");
      Group inner = g.createGroup("dense");
      // freed here, not by the garbage collector's thread (HDF5 is not thread safe)
      DataType fileFloat = new DataType(PredType.IEEE_F32LE());
      DataType memFloat = new DataType(PredType.NATIVE_FLOAT());
      for (String w : List.of("kernel", "bias")) {
        long[] shape = w.equals("kernel") ? new long[] {3, 2} : new long[] {2};
        DataSpace s = new DataSpace(shape.length, shape);
        DataSet d = inner.createDataSet(w, fileFloat, s);
        FloatPointer fp = new FloatPointer(new float[w.equals("kernel") ? 6 : 2]);
        d.write(fp, memFloat);
        fp.deallocate();
        d.deallocate();
        s.deallocate();
      }
      fileFloat.deallocate();
      memFloat.deallocate();
      inner.deallocate();
      g.deallocate();
      f._close();
      f.deallocate();
    }
    try (H5 file = H5.openRead(h5)) {
      assertEquals(List.of("input_1", "dense"), file.stringList("", "layer_names"));
      assertEquals(List.of("dense/kernel", "dense/bias"), file.stringList("dense", "weight_names"));
      assertEquals(List.of(), file.stringList("input_1", "weight_names"));
    }
    assertEquals(List.of("dense"), KerasWeights.layersWithWeights(h5));
  }
}
