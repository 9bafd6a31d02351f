package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.strategy.Phase;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The epoch log's rate column names whose rate it shows. */
class EpochLineTest {
  @Test
  void theRateColumnNamesHeadAndBase() {
    Phase finetune =
        new Phase("finetune", Map.of("block5_conv1", 1e-4, "head_output", 1e-3), 8, true, true);
    // mid-schedule: the head at half its peak, the base at half of its own
    assertEquals("lr head 5.00e-04 base 5.00e-05", EpochLine.rates(finetune, 5e-4));
    Phase oneRate =
        new Phase("finetune", Map.of("block5_conv1", 1e-4, "head_output", 1e-4), 8, false, true);
    assertEquals("lr 1.00e-04 (base and head)", EpochLine.rates(oneRate, 1e-4));
    Phase warmup = new Phase("warmup", Map.of("head_output", 1e-3), 2, false, false);
    assertEquals("lr head 1.00e-03", EpochLine.rates(warmup, 1e-3));
    Phase convex = new Phase("head", Map.of("head_output", 1e-3), 1, false, false, true);
    assertEquals("L-BFGS (no learning rate)", EpochLine.rates(convex, 1e-3));
  }
}
