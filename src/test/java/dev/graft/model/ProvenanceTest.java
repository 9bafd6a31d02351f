package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProvenanceTest {

  @Test
  void typedValuesAreReadFromTheSettingsAndUnknownOnesKept() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("strategy", "finetune: last 2 layers");
    s.put("unfrozen", "conv2,fc");
    s.put("epochs", "4");
    s.put("learningRate", "1.0E-4");
    s.put("seed", "7");
    s.put("cachedActivations", "true");
    s.put("restoredEpoch", "3");
    s.put("resumedFromEpoch", "2");
    s.put("weightsSha256", "ab".repeat(32));
    s.put("l2", "0.01");
    s.put("aSettingOfALaterRelease", "x");
    Provenance p = Provenance.of(s);
    assertEquals("finetune: last 2 layers", p.strategy());
    assertEquals(List.of("conv2", "fc"), p.unfrozen());
    assertEquals(4, p.epochs());
    assertEquals(1e-4, p.learningRate());
    assertEquals(7L, p.seed());
    assertTrue(p.cachedActivations());
    assertEquals(3, p.restoredEpoch());
    assertEquals(2, p.resumedFromEpoch());
    assertEquals(Optional.of("ab".repeat(32)), p.weightsSha256());
    assertEquals("0.01", p.l2());
    assertEquals(Map.of("aSettingOfALaterRelease", "x"), p.other());
  }

  @Test
  void anOlderFilesMissingOrOddSettingsReadLeniently() {
    Provenance p = Provenance.of(Map.of("epochs", "ten", "strategy", "frozen"));
    assertEquals("frozen", p.strategy());
    assertEquals(0, p.epochs());
    assertEquals(0, p.resumedFromEpoch());
    assertTrue(Double.isNaN(p.learningRate()));
    assertFalse(p.stoppedEarly());
    assertEquals(List.of(), p.unfrozen());
    assertEquals(Optional.empty(), p.weightsSha256());
    Provenance fromInfo = TinyNets.info(List.of("a", "b"), 28).provenance();
    assertEquals(2, fromInfo.epochs());
    assertEquals(42L, fromInfo.seed());
  }
}
