package dev.graft.base;

import dev.graft.error.GraftException;
import java.util.List;

/**
 * An ordered, unfreezable unit of a base: a VGG16 block ({@code block4}), a ResNet50 stage ({@code
 * res4}), an InceptionV3 module ({@code mixed7}). Fine-tuning strategies unfreeze whole blocks,
 * counted from the output end ("unfreeze the last 2 blocks").
 *
 * @param name block name, unique within its base
 * @param layers names of the graph vertices in the block, in topological order (layers with and
 *     without parameters alike)
 */
public record Block(String name, List<String> layers) {
  public Block {
    if (name == null || name.isBlank()) {
      throw new GraftException("a block needs a name, got '" + name + "'");
    }
    if (layers == null || layers.isEmpty()) {
      throw new GraftException("block '" + name + "' has no layers");
    }
    layers = List.copyOf(layers);
  }

  /** The last vertex of the block: the activations the next block reads. */
  public String lastLayer() {
    return layers.get(layers.size() - 1);
  }
}
