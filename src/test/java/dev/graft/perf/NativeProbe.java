package dev.graft.perf;

import java.util.Map;
import org.bytedeco.javacpp.Loader;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The child JVM's main for {@link NativeSelectionTest}: touches ND4J and Graft in the order the
 * first argument names, then prints what JavaCPP really loaded.
 *
 * <ul>
 *   <li>{@code nd4j-first}: an ND4J array before any Graft class (an application using ND4J);
 *   <li>{@code graft-first}: a Graft entry point ({@code Bases}), then ND4J;
 *   <li>{@code natives-first}: ND4J's native library loaded by JavaCPP directly, which bypasses
 *       ND4J's backend discovery (so Graft can no longer choose), then Graft;
 *   <li>{@code init CLASS}: only initializes that class and prints the extension property.
 * </ul>
 */
public final class NativeProbe {
  private NativeProbe() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "nd4j-first" -> {
        Nd4j.zeros(2).addi(1);
        Class.forName("dev.graft.base.Bases", true, NativeProbe.class.getClassLoader());
      }
      case "graft-first" -> {
        Class.forName("dev.graft.base.Bases", true, NativeProbe.class.getClassLoader());
        Nd4j.zeros(2).addi(1);
      }
      case "natives-first" -> {
        Loader.load(Class.forName("org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu"));
        Class.forName("dev.graft.base.Bases", true, NativeProbe.class.getClassLoader());
        Nd4j.zeros(2).addi(1);
      }
      case "init" -> {
        Class.forName(args[1], true, NativeProbe.class.getClassLoader());
        System.out.println(
            "PROPERTY=" + System.getProperty(NativeTuning.PLATFORM_EXTENSION, "<unset>"));
        return;
      }
      default -> throw new IllegalArgumentException("unknown mode: " + args[0]);
    }
    for (Map.Entry<String, String> e : Loader.getLoadedLibraries().entrySet()) {
      System.out.println("LIBRARY=" + e.getValue());
    }
    System.out.println("CHOICE=" + NativeTuning.apply());
    System.out.println("ONEDNN=" + NativeTuning.oneDnnAvailable());
  }
}
