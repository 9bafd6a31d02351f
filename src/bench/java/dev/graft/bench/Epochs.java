package dev.graft.bench;

/** Epochs throughput and bounded-memory check (filled in below). */
final class Epochs {
  private Epochs() {}

  static void main(String[] args) {
    throw new UnsupportedOperationException("todo");
  }
}
