package dev.graft.perf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.perf.NativeTuning.Avx512;
import dev.graft.perf.NativeTuning.Choice;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The selection logic, with the CPU flags and the class path as inputs. */
class NativeTuningTest {
  private static final String P = "linux-x86_64";
  private static final Set<String> BOTH = Set.of("-onednn-avx512", "-avx512");
  private static final Set<String> ALL = Set.of("-onednn", "-onednn-avx512", "-avx512");

  @Test
  void flagsWithoutAvx512AreAbsentAndAllFourFlagsArePresent() {
    assertEquals(Avx512.ABSENT, NativeTuning.avx512(NativeSelectionTest.ZEN3_FLAGS));
    assertEquals(Avx512.PRESENT, NativeTuning.avx512(NativeSelectionTest.AVX512_FLAGS));
    assertEquals(Avx512.ABSENT, NativeTuning.avx512("avx512f avx2"), "avx512f alone is not enough");
    assertEquals(
        Avx512.ABSENT,
        NativeTuning.avx512("avx512fx avx512bwx avx512vlx avx512dqx"),
        "whole words only");
    assertEquals(Avx512.ABSENT, NativeTuning.avx512(""));
  }

  @Test
  void withoutAvx512TheGenericBuildIsSelectedExplicitlyEvenWithAvx512BuildsOnTheClassPath() {
    Choice c = NativeTuning.decide(P, Avx512.ABSENT, null, true, BOTH::contains);
    assertEquals("", c.extension());
    assertEquals(P, c.build());
    Choice unknown = NativeTuning.decide(P, Avx512.UNKNOWN, null, true, BOTH::contains);
    assertEquals("", unknown.extension());
  }

  @Test
  void withAvx512TheOneDnnBuildIsPreferredThenThePlainOneThenGeneric() {
    assertEquals(
        "-onednn-avx512",
        NativeTuning.decide(P, Avx512.PRESENT, null, true, BOTH::contains).extension());
    assertEquals(
        "-avx512",
        NativeTuning.decide(P, Avx512.PRESENT, null, true, "-avx512"::equals).extension());
    Choice none = NativeTuning.decide(P, Avx512.PRESENT, null, true, e -> false);
    assertEquals("", none.extension());
    assertEquals(P, none.build());
  }

  @Test
  void thePortableOneDnnBuildIsPreferredOnEveryCpuWhenPresent() {
    for (Avx512 cpu : Avx512.values()) {
      Choice c = NativeTuning.decide(P, cpu, null, true, ALL::contains);
      assertEquals("-onednn", c.extension(), cpu.name());
      assertEquals(P + "-onednn", c.build(), cpu.name());
    }
    assertEquals(
        "", NativeTuning.decide(P, Avx512.PRESENT, null, false, ALL::contains).extension());
  }

  @Test
  void anAvx512BuildRefusedOnACpuWithoutAvx512FallsBackToTheAutomaticChoice() {
    Choice c = NativeTuning.decide(P, Avx512.ABSENT, "-onednn-avx512", true, ALL::contains);
    assertEquals("-onednn", c.extension());
    assertTrue(c.reason().contains("ignored") && c.reason().contains("oneDNN"), c.reason());
    Choice off = NativeTuning.decide(P, Avx512.ABSENT, "-avx512", false, ALL::contains);
    assertEquals("", off.extension());
  }

  @Test
  void autoFalseSelectsTheGenericBuild() {
    Choice c = NativeTuning.decide(P, Avx512.PRESENT, null, false, BOTH::contains);
    assertEquals("", c.extension());
    assertTrue(c.reason().contains(NativeTuning.AUTO_NATIVES), c.reason());
  }

  @Test
  void theUsersValueWinsUnlessItIsAnAvx512BuildOnACpuWithoutAvx512() {
    assertEquals("", NativeTuning.decide(P, Avx512.PRESENT, "", true, BOTH::contains).extension());
    assertEquals(
        "-avx512",
        NativeTuning.decide(P, Avx512.PRESENT, "-avx512", false, BOTH::contains).extension());
    assertEquals(
        "-avx512",
        NativeTuning.decide(P, Avx512.UNKNOWN, "-avx512", true, BOTH::contains).extension());
    Choice refused = NativeTuning.decide(P, Avx512.ABSENT, "-onednn-avx512", true, BOTH::contains);
    assertEquals("", refused.extension());
    assertTrue(refused.reason().contains("ignored"), refused.reason());
    assertEquals(
        "-onednn",
        NativeTuning.decide(P, Avx512.ABSENT, "-onednn", true, BOTH::contains).extension());
  }
}
