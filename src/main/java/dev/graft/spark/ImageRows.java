package dev.graft.spark;

import dev.graft.data.ImageDecoder;
import dev.graft.data.SkippedFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The partition loop both transformers share: rows are taken {@code batchSize} at a time, their
 * images read and decoded (a row that fails gets nulls and the reason in the error column, and
 * never fails the task), the decoded ones go through one forward pass ({@link #compute}), and each
 * row comes out with the new columns appended. Rows are pulled lazily, so a partition is never held
 * in memory; ND4J's workspaces of the task thread are released when the partition ends.
 */
abstract class ImageRows implements MapPartitionsFunction<Row, Row>, Serializable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ImageRows.class);

  private static final long serialVersionUID = 1L;

  private final int inputIndex;
  private final boolean binary;
  private final int nameIndex;
  private final int batchSize;
  private final int added;

  /**
   * @param schema the input rows' schema
   * @param inputCol the column holding image bytes (binary) or paths (string)
   * @param batchSize images per forward pass
   * @param added how many value columns {@link #compute} produces (the error column comes after)
   */
  ImageRows(StructType schema, String inputCol, int batchSize, int added) {
    this.inputIndex = schema.fieldIndex(inputCol);
    this.binary = schema.fields()[inputIndex].dataType() instanceof BinaryType;
    int path = -1;
    for (int i = 0; i < schema.fields().length; i++) {
      StructField f = schema.fields()[i];
      if (f.name().equals("path") && f.dataType() instanceof StringType) {
        path = i;
      }
    }
    this.nameIndex = binary ? path : inputIndex;
    this.batchSize = batchSize;
    this.added = added;
  }

  /**
   * Checks that {@code inputCol} exists and holds bytes or paths.
   *
   * @throws IllegalArgumentException naming the column and its type otherwise
   */
  static void checkInput(StructType schema, String inputCol) {
    if (!List.of(schema.fieldNames()).contains(inputCol)) {
      throw new IllegalArgumentException(
          "inputCol '"
              + inputCol
              + "' is not a column of the input; columns: "
              + String.join(", ", schema.fieldNames()));
    }
    DataType t = schema.apply(inputCol).dataType();
    if (!(t instanceof BinaryType) && !(t instanceof StringType)) {
      throw new IllegalArgumentException(
          "inputCol '"
              + inputCol
              + "' must hold image bytes (binary) or"
              + " image paths (string), got "
              + t.simpleString());
    }
  }

  /**
   * Checks that an output column does not exist yet.
   *
   * @throws IllegalArgumentException naming it otherwise
   */
  static void checkNew(StructType schema, String param, String col) {
    if (List.of(schema.fieldNames()).contains(col)) {
      throw new IllegalArgumentException(param + " '" + col + "' already exists in the input");
    }
  }

  /**
   * The new column values of each decoded image, one forward pass for all of them.
   *
   * @return {@code [images.size()][added]}
   */
  abstract Object[][] compute(List<BufferedImage> images) throws IOException;

  /** Prepares the shared model (loads it on the first task of this JVM). */
  abstract void open() throws IOException;

  @Override
  public Iterator<Row> call(Iterator<Row> rows) throws IOException {
    if (!rows.hasNext()) {
      return rows;
    }
    ExecutorJvm.sizeThreads();
    open();
    return new Iterator<>() {
      private final List<Row> out = new ArrayList<>();
      private int next;

      @Override
      public boolean hasNext() {
        if (next < out.size()) {
          return true;
        }
        if (!rows.hasNext()) {
          // The task thread's ND4J workspaces hold the last batch's activations: give them back.
          Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
          return false;
        }
        try {
          fill();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        return true;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return out.get(next++);
      }

      private void fill() throws IOException {
        out.clear();
        next = 0;
        List<Row> batch = new ArrayList<>(batchSize);
        while (batch.size() < batchSize && rows.hasNext()) {
          batch.add(rows.next());
        }
        List<BufferedImage> images = new ArrayList<>(batch.size());
        int[] slot = new int[batch.size()];
        String[] errors = new String[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
          try {
            images.add(decode(batch.get(i)));
            slot[i] = images.size() - 1;
          } catch (IOException | RuntimeException e) {
            slot[i] = -1; // Graft's skip policy: the row stays, with nulls and the reason
            String name = name(batch.get(i));
            String why = SkippedFile.reason(name, e);
            log.warn("Skipping {}: {}", name, why);
            errors[i] = name + ": " + why;
          }
        }
        Object[][] values = images.isEmpty() ? new Object[0][] : compute(images);
        for (int i = 0; i < batch.size(); i++) {
          Row r = batch.get(i);
          Object[] cells = new Object[r.length() + added + 1];
          for (int c = 0; c < r.length(); c++) {
            cells[c] = r.get(c);
          }
          if (slot[i] >= 0) {
            System.arraycopy(values[slot[i]], 0, cells, r.length(), added);
          }
          cells[r.length() + added] = errors[i];
          out.add(RowFactory.create(cells));
        }
      }
    };
  }

  /** The row's image name (its path or URI), or "image" without a name column. */
  private String name(Row r) {
    return nameIndex >= 0 && !r.isNullAt(nameIndex) ? r.getString(nameIndex) : "image";
  }

  private BufferedImage decode(Row r) throws IOException {
    String name = name(r);
    if (r.isNullAt(inputIndex)) {
      throw new IOException(name + ": no image (the input column is null)");
    }
    byte[] bytes;
    if (binary) {
      bytes = (byte[]) r.get(inputIndex);
    } else {
      try {
        bytes = ExecutorJvm.read(name);
      } catch (IOException | RuntimeException e) {
        throw new IOException(name + ": cannot read (" + e + ")", e);
      }
    }
    return ImageDecoder.read(bytes, name);
  }
}
