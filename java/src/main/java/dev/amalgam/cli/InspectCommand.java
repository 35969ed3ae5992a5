package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.safetensors.SafetensorsFile;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.tensor.TensorInfo;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code amalgam inspect PATH}: lists the tensors and metadata of a safetensors file or model directory. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Lists every tensor (name, dtype, shape, bytes) and the metadata of a .safetensors file or a "
        + "model directory (single or sharded). The whole header is validated first.")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "PATH", description = "A .safetensors file or a model directory.")
  Path path;

  @Option(names = "--json", description = "Print one JSON document instead of a table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (!Files.exists(path)) throw new Main.InvalidInputException("no such file or directory: " + path);
    PrintWriter out = spec.commandLine().getOut();
    try (SafetensorsModel model = SafetensorsModel.open(path)) {
      if (json) {
        out.println(toJson(model));
      } else {
        printTable(model, out);
      }
    }
    return 0;
  }

  static String toJson(SafetensorsModel model) throws Exception {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    root.put("path", model.path().toString());
    root.put("format", "safetensors");
    ArrayNode files = root.putArray("files");
    model.files().forEach(f -> files.add(f.getFileName().toString()));
    ObjectNode metadata = root.putObject("metadata");
    for (SafetensorsFile shard : model.shards()) {
      ObjectNode m = metadata.putObject(shard.path().getFileName().toString());
      shard.metadata().forEach(m::put);
    }
    if (!model.metadata().isEmpty()) root.set("index_metadata", mapper.valueToTree(model.metadata()));
    ArrayNode tensors = root.putArray("tensors");
    long params = 0;
    long bytes = 0;
    for (TensorInfo t : model.tensors()) {
      ObjectNode n = tensors.addObject();
      n.put("name", t.name());
      n.put("dtype", t.dtype().safetensorsName());
      ArrayNode shape = n.putArray("shape");
      for (long d : t.shape()) shape.add(d);
      n.put("bytes", t.byteSize());
      params += t.elementCount();
      bytes += t.byteSize();
    }
    root.put("tensor_count", model.tensors().size());
    root.put("parameter_count", params);
    root.put("total_bytes", bytes);
    return mapper.writeValueAsString(root);
  }

  static void printTable(SafetensorsModel model, PrintWriter out) {
    List<TensorInfo> tensors = model.tensors();
    int nameWidth = Math.max(4, tensors.stream().mapToInt(t -> t.name().length()).max().orElse(4));
    out.printf(Locale.ROOT, "%s (%d file%s)%n", model.path(), model.files().size(),
        model.files().size() == 1 ? "" : "s");
    for (SafetensorsFile shard : model.shards()) {
      shard.metadata().forEach((k, v) -> out.printf(Locale.ROOT, "  %s metadata %s = %s%n",
          shard.path().getFileName(), k, v));
    }
    Map<String, ?> index = model.metadata();
    index.forEach((k, v) -> out.printf(Locale.ROOT, "  index metadata %s = %s%n", k, v));
    out.printf(Locale.ROOT, "%-" + nameWidth + "s  %-5s  %-20s  %12s%n", "name", "dtype", "shape", "bytes");
    long params = 0;
    long bytes = 0;
    for (TensorInfo t : tensors) {
      out.printf(Locale.ROOT, "%-" + nameWidth + "s  %-5s  %-20s  %12d%n", t.name(), t.dtype(), t.shapeString(),
          t.byteSize());
      params += t.elementCount();
      bytes += t.byteSize();
    }
    out.printf(Locale.ROOT, "%d tensors, %,d parameters, %s%n", tensors.size(), params, Sizes.format(bytes));
  }
}
