package untrusted;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Java-serialization payload for tests: records every time it is deserialized. A hostile file
 * would put a gadget chain here; loading a model must never reach {@link #readObject}.
 */
public final class RecordingPayload implements Serializable {
  private static final long serialVersionUID = 1L;

  /** How many times an instance was deserialized. */
  public static final AtomicInteger READS = new AtomicInteger();

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    READS.incrementAndGet();
    in.defaultReadObject();
  }
}
