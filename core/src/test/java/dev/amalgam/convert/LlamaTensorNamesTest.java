package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.convert.Architecture.Permuted;
import dev.amalgam.convert.LlamaTensorNames.OutputType;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.tensor.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class LlamaTensorNamesTest {
  /** docs/formats.md §4.1, written out for layer 12. */
  private static Map<String, String> table() {
    Map<String, String> t = new LinkedHashMap<>();
    t.put("model.embed_tokens.weight", "token_embd.weight");
    t.put("model.norm.weight", "output_norm.weight");
    t.put("lm_head.weight", "output.weight");
    t.put("model.layers.12.input_layernorm.weight", "blk.12.attn_norm.weight");
    t.put("model.layers.12.self_attn.q_proj.weight", "blk.12.attn_q.weight");
    t.put("model.layers.12.self_attn.k_proj.weight", "blk.12.attn_k.weight");
    t.put("model.layers.12.self_attn.v_proj.weight", "blk.12.attn_v.weight");
    t.put("model.layers.12.self_attn.o_proj.weight", "blk.12.attn_output.weight");
    t.put("model.layers.12.post_attention_layernorm.weight", "blk.12.ffn_norm.weight");
    t.put("model.layers.12.mlp.gate_proj.weight", "blk.12.ffn_gate.weight");
    t.put("model.layers.12.mlp.up_proj.weight", "blk.12.ffn_up.weight");
    t.put("model.layers.12.mlp.down_proj.weight", "blk.12.ffn_down.weight");
    t.put("model.layers.0.self_attn.q_proj.bias", "blk.0.attn_q.bias");
    t.put("model.layers.0.self_attn.k_proj.bias", "blk.0.attn_k.bias");
    t.put("model.layers.0.self_attn.v_proj.bias", "blk.0.attn_v.bias");
    t.put("model.layers.0.self_attn.o_proj.bias", "blk.0.attn_output.bias");
    t.put("model.layers.0.mlp.down_proj.bias", "blk.0.ffn_down.bias");
    return t;
  }

  @Test
  void mapsEveryLlamaTensorBothWays() {
    table()
        .forEach(
            (hf, gguf) -> {
              assertEquals(Optional.of(gguf), LlamaTensorNames.toGguf(hf), hf);
              assertEquals(Optional.of(hf), LlamaTensorNames.toHf(gguf), gguf);
            });
  }

  @Test
  void ropeFreqsHasNoHfName() {
    assertEquals(Optional.empty(), LlamaTensorNames.toHf(LlamaTensorNames.ROPE_FREQS));
  }

  @Test
  void unknownAndNonCanonicalNamesDoNotMap() {
    for (String hf :
        new String[] {
          "model.layers.01.mlp.up_proj.weight",
          "model.layers.x.mlp.up_proj.weight",
          "model.layers.1.mlp.up_proj",
          "model.layers.1.mlp.fc1.weight",
          "transformer.h.0.attn.c_attn.weight",
          "model.layers..mlp.up_proj.weight",
          "model.layers.-1.mlp.up_proj.weight",
          "embed_tokens.weight"
        }) {
      assertEquals(Optional.empty(), LlamaTensorNames.toGguf(hf), hf);
    }
    for (String gguf :
        new String[] {
          "blk.01.attn_q.weight",
          "blk.1.attn_qkv.weight",
          "token_embd",
          "blk.1.attn_q.scale",
          "output.weight.weight"
        }) {
      assertEquals(Optional.empty(), LlamaTensorNames.toHf(gguf), gguf);
    }
  }

  @Test
  void skipsRotaryBuffersOnly() {
    assertTrue(LlamaTensorNames.isSkippedHf("model.layers.3.self_attn.rotary_emb.inv_freq"));
    assertTrue(LlamaTensorNames.isSkippedHf("model.rotary_emb.inv_freq"));
    assertTrue(LlamaTensorNames.isSkippedHf("h.0.attention.masked_bias"));
    assertTrue(LlamaTensorNames.isSkippedHf("h.0.attention.bias"));
    assertFalse(LlamaTensorNames.isSkippedHf("model.layers.3.self_attn.q_proj.bias"));
    assertFalse(LlamaTensorNames.isSkippedHf("model.layers.3.self_attn.q_proj.weight"));
    assertFalse(LlamaTensorNames.isSkippedHf("my_rotary_emb.inv_freq"));
  }

  @Test
  void layerIndexIsTheFirstNumericComponent() {
    assertEquals(
        OptionalInt.of(7), LlamaTensorNames.layerIndex("model.layers.7.mlp.up_proj.weight"));
    assertEquals(OptionalInt.of(31), LlamaTensorNames.layerIndex("blk.31.attn_q.weight"));
    assertEquals(OptionalInt.empty(), LlamaTensorNames.layerIndex("model.norm.weight"));
    assertEquals(OptionalInt.empty(), LlamaTensorNames.layerIndex("blk.99999999999.attn_q.weight"));
    assertEquals(OptionalInt.of(2), LlamaTensorNames.layerIndex("a.b2.2.3"));
  }

  @Test
  void onlyQueryAndKeyArePermuted() {
    assertEquals(Optional.of(Permuted.QUERY), LlamaTensorNames.permutation("blk.0.attn_q.weight"));
    assertEquals(Optional.of(Permuted.KEY), LlamaTensorNames.permutation("blk.4.attn_k.weight"));
    assertEquals(Optional.of(Permuted.QUERY), LlamaTensorNames.permutation("blk.4.attn_q.bias"));
    assertEquals(Optional.empty(), LlamaTensorNames.permutation("blk.4.attn_v.weight"));
    assertEquals(Optional.empty(), LlamaTensorNames.permutation("blk.4.attn_output.weight"));
    assertEquals(Optional.empty(), LlamaTensorNames.permutation("token_embd.weight"));
  }

  @Test
  void normsBiasesAndVectorsStayF32() {
    for (GgmlType requested :
        new GgmlType[] {GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.F32}) {
      assertEquals(
          new OutputType(GgmlType.F32, false),
          LlamaTensorNames.ggufType("blk.0.attn_norm.weight", 1, requested, 64));
      assertEquals(
          new OutputType(GgmlType.F32, false),
          LlamaTensorNames.ggufType("output_norm.weight", 1, requested, 64));
      assertEquals(
          new OutputType(GgmlType.F32, false),
          LlamaTensorNames.ggufType("blk.0.attn_q.bias", 1, requested, 64));
      assertEquals(
          new OutputType(GgmlType.F32, false),
          LlamaTensorNames.ggufType(LlamaTensorNames.ROPE_FREQS, 1, requested, 64));
      // a hypothetical 2-D tensor named like a norm is still F32 (name rule, not rank rule)
      assertEquals(
          new OutputType(GgmlType.F32, false),
          LlamaTensorNames.ggufType("blk.0.ffn_norm.weight", 2, requested, 64));
      assertEquals(
          new OutputType(GgmlType.F32, false),
          LlamaTensorNames.ggufType("blk.0.ffn_gate_inp.weight", 2, requested, 64));
    }
  }

  @Test
  void matricesTakeTheRequestedTypeWithQ8FallbackForOddRows() {
    assertEquals(
        new OutputType(GgmlType.F16, false),
        LlamaTensorNames.ggufType("blk.0.ffn_down.weight", 2, GgmlType.F16, 172));
    assertEquals(
        new OutputType(GgmlType.BF16, false),
        LlamaTensorNames.ggufType("token_embd.weight", 2, GgmlType.BF16, 64));
    assertEquals(
        new OutputType(GgmlType.Q8_0, false),
        LlamaTensorNames.ggufType("blk.0.ffn_gate.weight", 2, GgmlType.Q8_0, 64));
    assertEquals(
        new OutputType(GgmlType.Q8_0, false),
        LlamaTensorNames.ggufType("output.weight", 2, GgmlType.Q8_0, 4096));
    // stories260K's ffn_down has 172-wide rows: not a multiple of 32
    assertEquals(
        new OutputType(GgmlType.F16, true),
        LlamaTensorNames.ggufType("blk.0.ffn_down.weight", 2, GgmlType.Q8_0, 172));
    assertEquals(
        new OutputType(GgmlType.F16, true),
        LlamaTensorNames.ggufType("blk.0.ffn_up.weight", 2, GgmlType.Q4_K, 64));
    assertThrows(
        IllegalArgumentException.class,
        () -> LlamaTensorNames.ggufType("blk.0.ffn_up.weight", 2, GgmlType.F16, -1));
  }

  @Test
  void autoPicksBf16OnlyForBf16Sources() {
    assertEquals(GgmlType.BF16, LlamaTensorNames.autoType(DType.BF16));
    assertEquals(GgmlType.F16, LlamaTensorNames.autoType(DType.F32));
    assertEquals(GgmlType.F16, LlamaTensorNames.autoType(DType.F16));
  }
}
