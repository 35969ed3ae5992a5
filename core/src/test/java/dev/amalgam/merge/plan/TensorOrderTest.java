package dev.amalgam.merge.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random methods give every tensor the same bytes whatever order the tensors are merged in:
 * their masks are keyed by the seed, the tensor name and the element index, not drawn from a stream
 * shared across tensors.
 */
class TensorOrderTest {
  @TempDir Path tmp;

  private Path model(String name, long seed, double noise, long variant) throws Exception {
    Path dir = tmp.resolve(name);
    SyntheticLlama.write(
        dir, SyntheticLlama.Shape.tiny(), DType.BF16, seed, noise, variant, 5_000_000_000L);
    return dir;
  }

  private static ByteBuffer bytes(Path model, String tensor) throws Exception {
    try (SafetensorsModel m = SafetensorsModel.open(model)) {
      TensorInfo info = m.tensor(tensor).orElseThrow();
      ByteBuffer src = m.data(tensor).slice(0, info.elementCount());
      return ByteBuffer.allocate(src.remaining()).put(src).flip();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"dare_ties", "dare_linear", "della", "della_linear"})
  void reversedTensorOrderGivesTheSameBytes(String method) throws Exception {
    Path base = model("base", 1, 0, 0);
    Path x = model("x", 1, 0.3, 2);
    Path y = model("y", 1, 0.3, 3);
    String yaml =
        "merge_method: "
            + method
            + "\nbase_model: "
            + base
            + "\nmodels:\n  - model: "
            + x
            + "\n    parameters: {weight: 0.6, density: 0.4}\n  - model: "
            + y
            + "\n    parameters: {weight: 0.4, density: 0.4}\n";
    Path forward = tmp.resolve("forward");
    Path reversed = tmp.resolve("reversed");
    try (MergePlan plan =
        MergePlanner.plan(ConfigReader.parse(yaml, "m.yml", tmp), OutputSpec.hf(), 11)) {
      MergeExecutor.execute(plan, forward, MergeOptions.defaults());
    }
    try (MergePlan plan =
        MergePlanner.plan(ConfigReader.parse(yaml, "m.yml", tmp), OutputSpec.hf(), 11)) {
      List<TensorTask> tasks = new ArrayList<>(plan.tasks());
      Collections.reverse(tasks);
      MergePlan backwards =
          new MergePlan(
              plan.config(),
              plan.method(),
              plan.inputs(),
              plan.donor(),
              plan.layerCount(),
              tasks,
              plan.outputConfig(),
              plan.output(),
              plan.gguf(),
              plan.warnings(),
              plan.tokenizer());
      MergeExecutor.execute(backwards, reversed, MergeOptions.builder().threads(1).build());
    }
    int differentFromBase = 0;
    for (TensorInfo t : SyntheticLlama.tensors(SyntheticLlama.Shape.tiny(), DType.BF16)) {
      assertEquals(bytes(forward, t.name()), bytes(reversed, t.name()), method + " " + t.name());
      if (!bytes(forward, t.name()).equals(bytes(base, t.name()))) differentFromBase++;
    }
    assertNotEquals(0, differentFromBase, "the merge changed the base");
  }
}
