package dev.amalgam.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.FormatException;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model directory's config.json that is not JSON is refused naming the file. */
class ModelFormatsTest {
  @TempDir Path dir;

  @Test
  void aConfigJsonThatIsNotJsonTextNamesTheFile() throws Exception {
    SyntheticLlama.write(dir, SyntheticLlama.Shape.tiny(), DType.BF16, 1, 0, 5, 5_000_000_000L);
    Path config = dir.resolve("config.json");
    for (byte[] bad :
        new byte[][] {
          "{\"hidden_size\":".getBytes(java.nio.charset.StandardCharsets.UTF_8),
          // bytes Jackson reads as broken UTF-32 (the tokenizer.json fuzz finding, here for
          // config.json)
          {1, 0, 0, 0, 0, 0, 0, (byte) 0xf8}
        }) {
      Files.write(config, bad);
      FormatException e =
          assertThrows(
              FormatException.class, () -> ModelFormats.open(dir, Layout.HF).weights().close());
      assertEquals(config, e.file());
      assertTrue(e.getMessage().startsWith(config.toString()), e.getMessage());
    }
  }
}
