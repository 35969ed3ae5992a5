package dev.amalgam.example;

import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.plan.MergeExecutor;
import dev.amalgam.merge.plan.MergeOptions;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.merge.plan.MergePlanner;
import dev.amalgam.merge.plan.MergeResult;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Merges two models through amalgam-core's Java API, as an application would: it writes two small related
 * Llama-shaped models, SLERP-merges them from a mergekit YAML, and reads the result back.
 *
 * <p>Run: {@code mvn package exec:exec} (the build does it), or {@code java --module-path ... --module
 * dev.amalgam.example.embed/dev.amalgam.example.EmbedCore WORK_DIR}.
 */
public final class EmbedCore {
  private EmbedCore() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args.length > 0 ? args[0] : "embed-core-work").toAbsolutePath();
    SyntheticLlama.Shape shape = SyntheticLlama.Shape.tiny();
    for (String model : new String[] {"model-a", "model-b"}) {
      // model-b is model-a plus 30% noise: related weights, as a fine-tune and its base are
      SyntheticLlama.write(work.resolve(model), shape, DType.BF16, 1, model.equals("model-a") ? 0 : 0.3, 2,
          5_000_000_000L);
      SyntheticTokenizers.writeLlama3(work.resolve(model), shape.vocab());
    }

    String yaml = String.join("\n",
        "merge_method: slerp",
        "base_model: model-a",
        "models:",
        "  - model: model-a",
        "  - model: model-b",
        "parameters:",
        "  t: [0, 0.5, 1]",
        "dtype: bfloat16",
        "");
    MergeConfig config = ConfigReader.parse(yaml, "embedded.yml", work);
    MergeResult result;
    try (MergePlan plan = MergePlanner.plan(config)) {
      plan.warnings().forEach(w -> System.out.println("warning: " + w));
      MergeOptions options = MergeOptions.builder().overwrite(true)
          .warnings(w -> System.out.println("warning: " + w)).build();
      result = MergeExecutor.execute(plan, work.resolve("merged"), options);
    }
    try (SafetensorsModel merged = SafetensorsModel.open(work.resolve("merged"))) {
      int tensors = merged.tensors().size();
      if (tensors != result.tensors()) throw new IllegalStateException(tensors + " tensors read back");
      System.out.printf("merged %d tensors (%d bytes) with %s into %s%n", tensors,
          Files.size(work.resolve("merged/model.safetensors")), result.kernels(), work.resolve("merged"));
    }
    System.out.println("module " + EmbedCore.class.getModule().getName() + " uses "
        + MergePlanner.class.getModule().getName());
  }
}
