package dev.graft;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import static org.junit.jupiter.api.Assertions.*;
class SmokeTest {
  @Test void nd4jLoads() { assertEquals(6.0, Nd4j.create(new double[]{1,2,3}).sumNumber().doubleValue(), 1e-9); }
}
