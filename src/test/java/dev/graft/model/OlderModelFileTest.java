package dev.graft.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model file written by Graft before issue 25's changes (commit e0553f2: a tiny CNN fine-tuned on
 * three digits, {@code compat/tiny-e0553f2.graft}) still loads, its settings read typed, and it
 * predicts what it predicted then ({@code compat/tiny-e0553f2.csv}, written by the same run).
 */
class OlderModelFileTest {
  @TempDir Path tmp;

  @Test
  void aModelFromBeforeTheChangeLoadsReadsTypedAndPredictsAsThen() throws Exception {
    Path file = tmp.resolve("old.graft");
    try (InputStream in = getClass().getResourceAsStream("/compat/tiny-e0553f2.graft")) {
      Files.copy(in, file);
    }
    TransferModel m = TransferModel.load(file);
    assertEquals(List.of("0", "1", "2"), m.labels());
    assertEquals("finetune", m.info().strategy());
    Provenance p = m.info().provenance();
    assertTrue(p.strategy().startsWith("fine-tune last 1 layers"), p.strategy());
    assertEquals("fc", p.cut());
    assertEquals(List.of("fc"), p.unfrozen());
    assertEquals(2, p.epochs());
    assertEquals(6, p.batchSize());
    assertEquals(7, p.seed());
    assertEquals(2, p.restoredEpoch());
    assertTrue(p.cachedActivations());
    assertEquals("", p.l2(), "no logistic-regression head");
    assertEquals(Map.of(), p.other());

    String csv;
    try (InputStream in = getClass().getResourceAsStream("/compat/tiny-e0553f2.csv")) {
      csv = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
    Path digits = TinyNets.digits(tmp.resolve("d"), m.labels(), 1);
    try (Predictor predictor = m.predictor()) {
      for (String line : csv.strip().split("\n")) {
        String[] f = line.split(",");
        float[] got = predictor.probabilities(List.of(digits.resolve(f[0])), null)[0];
        for (int c = 0; c < got.length; c++) {
          assertEquals(Float.parseFloat(f[c + 1]), got[c], 1e-5, line);
        }
      }
    }
  }
}
