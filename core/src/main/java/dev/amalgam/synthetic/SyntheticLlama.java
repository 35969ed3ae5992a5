package dev.amalgam.synthetic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.safetensors.ShardedSafetensorsWriter;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes Llama-shaped Hugging Face model directories with random weights: real tensor names,
 * shapes, order and config.json, so that every tool that reads a Llama checkpoint accepts them.
 * Used by {@code amalgam demo}, the tests and the benchmarks.
 *
 * <p>Weights are approximately N(0, 0.02) (RMSNorm weights 1 + N(0, 0.05)), drawn per tensor from a
 * generator seeded by (seed, tensor name), so a model is reproducible and can be written tensor by
 * tensor without holding it in memory. A "variant" adds {@code noise} times the same scale of
 * independent noise to the weights of the model with the same seed, giving a related model whose
 * tensors have a cosine of about 1 / sqrt(1 + noise^2) with the original's: SLERP then takes its
 * real (non-linear) path.
 */
public final class SyntheticLlama {
  private static final int CHUNK = 1 << 20;

  private SyntheticLlama() {}

  /**
   * A Llama architecture.
   *
   * @param layers decoder layers
   * @param hidden hidden size
   * @param intermediate MLP size
   * @param vocab vocabulary size
   * @param heads attention heads
   * @param kvHeads key/value heads (grouped-query attention)
   * @param tiedEmbeddings whether lm_head is tied to the embeddings (and absent)
   */
  public record Shape(
      int layers,
      int hidden,
      int intermediate,
      int vocab,
      int heads,
      int kvHeads,
      boolean tiedEmbeddings) {
    /** A few MB: for tests and the demo. */
    public static Shape tiny() {
      return new Shape(4, 64, 172, 512, 8, 4, false);
    }

    /** About 1.67 GB in bf16: the end-to-end benchmark pair of docs/performance.md. */
    public static Shape benchmark() {
      return new Shape(16, 2048, 5632, 32000, 32, 4, false);
    }

    /** Width of one attention head. */
    public int headDim() {
      return hidden / heads;
    }
  }

  /** The tensors of a Llama checkpoint in mergekit's architecture order. */
  public static List<TensorInfo> tensors(Shape s, DType dtype) {
    List<TensorInfo> t = new ArrayList<>();
    long h = s.hidden();
    long kv = (long) s.kvHeads() * s.headDim();
    t.add(new TensorInfo("model.embed_tokens.weight", dtype, new long[] {s.vocab(), h}));
    for (int l = 0; l < s.layers(); l++) {
      String p = "model.layers." + l + ".";
      t.add(new TensorInfo(p + "input_layernorm.weight", dtype, new long[] {h}));
      t.add(new TensorInfo(p + "self_attn.q_proj.weight", dtype, new long[] {h, h}));
      t.add(new TensorInfo(p + "self_attn.k_proj.weight", dtype, new long[] {kv, h}));
      t.add(new TensorInfo(p + "self_attn.v_proj.weight", dtype, new long[] {kv, h}));
      t.add(new TensorInfo(p + "self_attn.o_proj.weight", dtype, new long[] {h, h}));
      t.add(new TensorInfo(p + "post_attention_layernorm.weight", dtype, new long[] {h}));
      t.add(new TensorInfo(p + "mlp.up_proj.weight", dtype, new long[] {s.intermediate(), h}));
      t.add(new TensorInfo(p + "mlp.gate_proj.weight", dtype, new long[] {s.intermediate(), h}));
      t.add(new TensorInfo(p + "mlp.down_proj.weight", dtype, new long[] {h, s.intermediate()}));
    }
    t.add(new TensorInfo("model.norm.weight", dtype, new long[] {h}));
    if (!s.tiedEmbeddings())
      t.add(new TensorInfo("lm_head.weight", dtype, new long[] {s.vocab(), h}));
    return t;
  }

  /** config.json of a LlamaForCausalLM with this shape. */
  public static ObjectNode config(Shape s, DType dtype) {
    ObjectNode c = new ObjectMapper().createObjectNode();
    c.putArray("architectures").add("LlamaForCausalLM");
    c.put("model_type", "llama");
    c.put("hidden_size", s.hidden());
    c.put("intermediate_size", s.intermediate());
    c.put("num_hidden_layers", s.layers());
    c.put("num_attention_heads", s.heads());
    c.put("num_key_value_heads", s.kvHeads());
    c.put("head_dim", s.headDim());
    c.put("vocab_size", s.vocab());
    c.put("max_position_embeddings", 2048);
    c.put("rms_norm_eps", 1e-5);
    c.put("rope_theta", 10000.0);
    c.put("hidden_act", "silu");
    c.put("initializer_range", 0.02);
    c.put("tie_word_embeddings", s.tiedEmbeddings());
    c.put("bos_token_id", 1);
    c.put("eos_token_id", 2);
    c.put("torch_dtype", dtype.torchName().orElseThrow());
    return c;
  }

  /**
   * Writes a model directory (created if missing).
   *
   * @param seed selects the weights
   * @param noise 0 for the model itself; &gt; 0 for a variant (relative noise amplitude)
   * @param variantSeed selects the variant's noise
   */
  public static void write(
      Path dir,
      Shape shape,
      DType dtype,
      long seed,
      double noise,
      long variantSeed,
      long maxShardBytes)
      throws IOException {
    if (!dtype.isMergeable()) throw new IllegalArgumentException(dtype + " is not a float type");
    Files.createDirectories(dir);
    List<TensorInfo> tensors = tensors(shape, dtype);
    ByteBuffer buffer =
        ByteBuffer.allocateDirect(CHUNK * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    try (ShardedSafetensorsWriter w =
        ShardedSafetensorsWriter.open(dir, tensors, maxShardBytes, Map.of("format", "pt"))) {
      for (TensorInfo t : tensors) {
        w.beginTensor(t.name());
        boolean norm = t.rank() == 1;
        Noise base = new Noise(seed, t.name());
        Noise variant = new Noise(variantSeed, t.name() + "#variant");
        double scale = norm ? 0.05 : 0.02;
        for (long done = 0; done < t.elementCount(); ) {
          int n = (int) Math.min(CHUNK, t.elementCount() - done);
          buffer.clear();
          for (int i = 0; i < n; i++) {
            double v = scale * base.next();
            if (noise > 0) v += noise * scale * variant.next();
            if (norm) v += 1.0;
            put(buffer, dtype, (float) v);
          }
          buffer.flip();
          w.write(buffer);
          done += n;
        }
      }
      w.finish();
    }
    new ObjectMapper()
        .writerWithDefaultPrettyPrinter()
        .writeValue(dir.resolve("config.json").toFile(), config(shape, dtype));
  }

  private static void put(ByteBuffer b, DType dtype, float v) {
    switch (dtype) {
      case F32:
        b.putFloat(v);
        break;
      case F16:
        b.putShort(F16.fromFloat(v));
        break;
      default:
        b.putShort(Bf16.fromFloat(v));
        break;
    }
  }

  /**
   * A fast, approximately standard normal generator (the sum of four uniform 16-bit draws, centred
   * and scaled: the Irwin-Hall approximation), seeded by (seed, name). Good enough for synthetic
   * weights and ~10x faster than {@code nextGaussian}, which matters for the 1.7 GB benchmark
   * models.
   */
  private static final class Noise {
    private long state;

    Noise(long seed, String name) {
      state = seed * 0x9E3779B97F4A7C15L ^ name.hashCode() * 0xBF58476D1CE4E5B9L;
    }

    double next() {
      long z = (state += 0x9E3779B97F4A7C15L);
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z ^= z >>> 31;
      long sum = (z & 0xffff) + ((z >>> 16) & 0xffff) + ((z >>> 32) & 0xffff) + (z >>> 48);
      // four U(0, 65536) draws: mean 131070, variance 4 * 65536^2 / 12
      return (sum - 131070.0) / 37837.2;
    }
  }
}
