package dev.amalgam.cli;

import static dev.amalgam.cli.CliHarness.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufMetadata;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufWriter;
import dev.amalgam.testing.TestAssets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectGgufTest {
  @TempDir Path tmp;

  /** A small GGUF file named without the .gguf extension, so detection must use the magic. */
  private Path smallModel() throws Exception {
    Path p = tmp.resolve("model.bin");
    String template = "{% for m in messages %}\n" + "x".repeat(200) + "{% endfor %}";
    GgufMetadata m =
        new GgufMetadata()
            .put(GgufMetadata.ARCHITECTURE, GgufValue.string("llama"))
            .put("llama.block_count", GgufValue.uint32(1))
            .put(GgufMetadata.ALIGNMENT, GgufValue.uint32(64))
            .put(
                "tokenizer.ggml.tokens",
                GgufValue.strings(
                    IntStream.range(0, 20).mapToObj(i -> "tok" + i).toArray(String[]::new)))
            .put("tokenizer.chat_template", GgufValue.string(template))
            .put("x.unset", GgufValue.uint64(-1));
    List<GgufWriter.TensorSpec> specs =
        List.of(
            new GgufWriter.TensorSpec("token_embd.weight", GgmlType.Q8_0, new long[] {64, 20}),
            new GgufWriter.TensorSpec("output_norm.weight", GgmlType.F32, new long[] {64}));
    try (GgufWriter w = GgufWriter.create(p, m, specs)) {
      w.beginTensor("token_embd.weight");
      w.write(ByteBuffer.allocate(34 * 2 * 20));
      w.endTensor();
      w.beginTensor("output_norm.weight");
      w.write(ByteBuffer.allocate(256));
      w.endTensor();
      w.finish();
    }
    return p;
  }

  @Test
  void tableShowsHeaderKeysAndTensors() throws Exception {
    Path p = smallModel();
    CliHarness.Run r = run("inspect", p.toString());
    r.assertOk();
    String out = r.out();
    assertTrue(
        out.startsWith(p + ": GGUF v3, alignment 64, 6 keys, 2 tensors, data at offset "), out);
    assertTrue(
        out.lines().anyMatch(l -> l.matches("general\\.architecture +STRING +\"llama\"")), out);
    assertTrue(out.lines().anyMatch(l -> l.matches("llama\\.block_count +UINT32 +1")), out);
    assertTrue(
        out.lines().anyMatch(l -> l.matches("x\\.unset +UINT64 +18446744073709551615")), out);
    assertTrue(
        out.lines()
            .anyMatch(
                l ->
                    l.matches(
                        "tokenizer\\.ggml\\.tokens +ARRAY\\[STRING\\]\\[20\\] +\\[\"tok0\", \"tok1\", .*\"tok7\", … \\(12 more\\)\\]")),
        out);
    assertTrue(out.contains("\"{% for m in messages %}\\nxxx"), out);
    assertTrue(out.contains("… (" + (24 + 200 + 12) + " chars)"), out);
    assertFalse(out.contains("x".repeat(100)), "long strings are cut");
    assertTrue(
        out.lines()
            .anyMatch(
                l -> l.matches("token_embd\\.weight +Q8_0 +\\[64, 20\\] +\\[20, 64\\] +1360")),
        out);
    assertTrue(
        out.lines().anyMatch(l -> l.matches("output_norm\\.weight +F32 +\\[64\\] +\\[64\\] +256")),
        out);
    assertTrue(out.strip().endsWith("2 tensors, 1,344 parameters, 1.6 kB"), out);
  }

  @Test
  void jsonIsMachineReadable() throws Exception {
    Path p = smallModel();
    CliHarness.Run r = run("inspect", "--json", p.toString());
    r.assertOk();
    JsonNode doc = new ObjectMapper().readTree(r.out());
    assertEquals("gguf", doc.get("format").asText());
    assertEquals(3, doc.get("version").asInt());
    assertEquals(64, doc.get("alignment").asInt());
    assertEquals(0, doc.get("data_start").asLong() % 64);
    JsonNode tokens = doc.get("metadata").get("tokenizer.ggml.tokens");
    assertEquals("ARRAY", tokens.get("type").asText());
    assertEquals("STRING", tokens.get("element_type").asText());
    assertEquals(20, tokens.get("length").asInt());
    assertEquals(8, tokens.get("values").size());
    assertEquals("tok7", tokens.get("values").get(7).asText());
    assertTrue(tokens.get("truncated").asBoolean());
    assertEquals("llama", doc.get("metadata").get("general.architecture").get("value").asText());
    assertEquals("18446744073709551615", doc.get("metadata").get("x.unset").get("value").asText());
    JsonNode template = doc.get("metadata").get("tokenizer.chat_template");
    assertEquals(236, template.get("length").asInt());
    assertTrue(template.get("truncated").asBoolean());
    assertEquals(2, doc.get("tensor_count").asInt());
    JsonNode embd = doc.get("tensors").get(0);
    assertEquals("token_embd.weight", embd.get("name").asText());
    assertEquals("Q8_0", embd.get("type").asText());
    assertEquals(64, embd.get("ne").get(0).asInt());
    assertEquals(20, embd.get("shape").get(0).asInt());
    assertEquals(0, embd.get("offset").asInt());
    assertEquals(1360, embd.get("bytes").asInt());
    assertEquals(1408, doc.get("tensors").get(1).get("offset").asInt());
    assertEquals(1360 + 256, doc.get("total_bytes").asLong());
  }

  @Test
  void corruptGgufFailsWithOneLine() throws Exception {
    Path p = smallModel();
    byte[] bytes = Files.readAllBytes(p);
    Path bad = tmp.resolve("bad.gguf");
    Files.write(bad, java.util.Arrays.copyOf(bytes, 300)); // cut inside the header
    run("inspect", bad.toString()).assertInvalid(bad.toString(), "runs past the end of the file");
    Path notGguf = tmp.resolve("wrong.gguf");
    Files.writeString(notGguf, "definitely not a model");
    run("inspect", notGguf.toString()).assertInvalid(notGguf.toString(), "invalid magic");
  }

  @Test
  void stories260K() throws Exception {
    Path p = TestAssets.stories260K();
    CliHarness.Run r = run("inspect", p.toString());
    r.assertOk();
    assertTrue(
        r.out().contains("GGUF v3, alignment 32, 19 keys, 48 tensors, data at offset 14176"),
        r.out());
    assertTrue(r.out().contains("\"<unk>\", \"<s>\", \"</s>\", \"<0x00>\""), r.out());
    assertTrue(
        r.out()
            .lines()
            .anyMatch(
                l ->
                    l.matches(
                        "blk\\.4\\.ffn_down\\.weight +F32 +\\[172, 64\\] +\\[64, 172\\] +44032")),
        r.out());
    JsonNode doc = new ObjectMapper().readTree(run("inspect", "--json", p.toString()).out());
    assertEquals(48, doc.get("tensors").size());
    assertEquals(512, doc.get("metadata").get("tokenizer.ggml.scores").get("length").asInt());
  }
}
