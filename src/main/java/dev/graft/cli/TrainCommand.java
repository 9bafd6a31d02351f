package dev.graft.cli;

import dev.graft.model.ModelInfo;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code graft train ...}: placeholder until the training facade lands. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a model.")
final class TrainCommand extends GraftCommand {
  @Mixin BaseOptions baseOptions;

  @Option(names = "--data", required = true, paramLabel = "DIR") Path data;
  @Option(names = "--out", required = true, paramLabel = "MODEL.graft") Path out;

  @Override
  int run() {
    throw new UnsupportedOperationException("train is not implemented yet");
  }

  /** The model's provenance as ordered key/value pairs for reports. */
  static Map<String, String> describe(ModelInfo info) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("base", info.baseId());
    m.put("weights", info.weightsKey());
    m.put("strategy", info.strategy());
    m.put("input size", info.inputSize() + " px (" + info.resize().name().toLowerCase(java.util.Locale.ROOT) + ")");
    m.put("preprocessing", info.preprocessing().name());
    m.put("classes", info.numClasses() + ": " + String.join(", ", info.labels()));
    info.settings().forEach(m::putIfAbsent);
    info.metrics().forEach((k, v) -> m.putIfAbsent(k, String.format(java.util.Locale.ROOT, "%.4f", v)));
    m.put("graft version", info.graftVersion());
    return m;
  }
}
