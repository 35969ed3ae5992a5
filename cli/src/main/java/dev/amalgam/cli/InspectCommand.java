package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.gguf.GgufFile;
import dev.amalgam.io.gguf.GgufTensorInfo;
import dev.amalgam.io.gguf.GgufValue;
import dev.amalgam.io.gguf.GgufValueType;
import dev.amalgam.io.safetensors.SafetensorsFile;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.tensor.TensorInfo;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam inspect PATH}: lists the tensors and metadata of a safetensors file or model
 * directory, or of a GGUF file (recognised by its magic bytes, whatever its name).
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description =
        "Lists every tensor (name, dtype, shape, bytes) and the metadata of a .safetensors file, a "
            + "model directory (single or sharded) or a GGUF file (version, alignment, keys with types and values, "
            + "tensors with ggml type, ne and PyTorch shape). The whole header is validated first.")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      paramLabel = "PATH",
      description = "A .safetensors file, a model directory or a GGUF file.")
  Path path;

  @Option(names = "--json", description = "Print one JSON document instead of a table.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (!Files.exists(path))
      throw new Main.InvalidInputException("no such file or directory: " + path);
    PrintWriter out = spec.commandLine().getOut();
    if (Files.isRegularFile(path)
        && (GgufFile.hasMagic(path)
            || path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf"))) {
      try (GgufFile gguf = GgufFile.open(path)) {
        if (json) {
          out.println(GgufInspection.toJson(gguf));
        } else {
          GgufInspection.print(gguf, out);
        }
      }
      return 0;
    }
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
    if (!model.metadata().isEmpty())
      root.set("index_metadata", mapper.valueToTree(model.metadata()));
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
    out.printf(
        Locale.ROOT,
        "%s (%d file%s)%n",
        model.path(),
        model.files().size(),
        model.files().size() == 1 ? "" : "s");
    for (SafetensorsFile shard : model.shards()) {
      shard
          .metadata()
          .forEach(
              (k, v) ->
                  out.printf(
                      Locale.ROOT, "  %s metadata %s = %s%n", shard.path().getFileName(), k, v));
    }
    Map<String, ?> index = model.metadata();
    index.forEach((k, v) -> out.printf(Locale.ROOT, "  index metadata %s = %s%n", k, v));
    out.printf(
        Locale.ROOT,
        "%-" + nameWidth + "s  %-5s  %-20s  %12s%n",
        "name",
        "dtype",
        "shape",
        "bytes");
    long params = 0;
    long bytes = 0;
    for (TensorInfo t : tensors) {
      out.printf(
          Locale.ROOT,
          "%-" + nameWidth + "s  %-5s  %-20s  %12d%n",
          t.name(),
          t.dtype(),
          t.shapeString(),
          t.byteSize());
      params += t.elementCount();
      bytes += t.byteSize();
    }
    out.printf(
        Locale.ROOT,
        "%d tensors, %,d parameters, %s%n",
        tensors.size(),
        params,
        Sizes.format(bytes));
  }

  /**
   * The GGUF half of {@code amalgam inspect}: a table or a JSON document of a GGUF file's header.
   * Arrays show their element type, length and first {@value #ARRAY_HEAD} elements; strings longer
   * than {@value #STRING_HEAD} characters (chat templates) are cut with an ellipsis, so a
   * 128k-token vocabulary prints in a few lines.
   */
  static final class GgufInspection {
    /** Array elements shown. */
    static final int ARRAY_HEAD = 8;

    /** Characters of a string shown. */
    static final int STRING_HEAD = 80;

    private GgufInspection() {}

    static void print(GgufFile f, PrintWriter out) {
      List<GgufTensorInfo> tensors = f.tensors();
      out.printf(
          Locale.ROOT,
          "%s: GGUF v%d, alignment %d, %d keys, %d tensors, data at offset %d%n",
          f.path(),
          f.version(),
          f.alignment(),
          f.metadata().size(),
          tensors.size(),
          f.dataStart());
      Map<String, GgufValue> entries = f.metadata().entries();
      int keyWidth =
          Math.max(3, entries.keySet().stream().mapToInt(String::length).max().orElse(3));
      int typeWidth =
          Math.max(
              4, entries.values().stream().mapToInt(v -> typeName(v).length()).max().orElse(4));
      String row = "%-" + keyWidth + "s  %-" + typeWidth + "s  %s%n";
      out.printf(Locale.ROOT, row, "key", "type", "value");
      for (Map.Entry<String, GgufValue> e : entries.entrySet()) {
        out.printf(Locale.ROOT, row, e.getKey(), typeName(e.getValue()), describe(e.getValue()));
      }
      int nameWidth =
          Math.max(4, tensors.stream().mapToInt(t -> t.name().length()).max().orElse(4));
      out.printf(
          Locale.ROOT,
          "%-" + nameWidth + "s  %-5s  %-22s  %-22s  %12s%n",
          "name",
          "type",
          "ne",
          "shape",
          "bytes");
      long params = 0;
      long bytes = 0;
      for (GgufTensorInfo t : tensors) {
        out.printf(
            Locale.ROOT,
            "%-" + nameWidth + "s  %-5s  %-22s  %-22s  %12d%n",
            t.name(),
            t.type(),
            Arrays.toString(t.ne()),
            Arrays.toString(t.torchShape()),
            t.byteSize());
        params += t.elementCount();
        bytes += t.byteSize();
      }
      out.printf(
          Locale.ROOT,
          "%d tensors, %,d parameters, %s%n",
          tensors.size(),
          params,
          Sizes.format(bytes));
    }

    /** The type as the table shows it, with an array's length: {@code ARRAY[STRING][512]}. */
    static String typeName(GgufValue v) {
      return v.isArray() ? v.describeType() + "[" + v.length() + "]" : v.describeType();
    }

    /**
     * A value for the table: scalars in full (strings quoted and cut), arrays as their first
     * elements.
     */
    static String describe(GgufValue v) {
      if (!v.isArray()) return scalar(v.type(), v.value());
      StringBuilder sb = new StringBuilder("[");
      int shown = (int) Math.min(ARRAY_HEAD, v.length());
      for (int i = 0; i < shown; i++) {
        if (i > 0) sb.append(", ");
        sb.append(scalar(v.elementType(), element(v, i)));
      }
      if (v.length() > shown) sb.append(", … (").append(v.length() - shown).append(" more)");
      return sb.append(']').toString();
    }

    private static String scalar(GgufValueType type, Object value) {
      if (type == GgufValueType.STRING) return quote((String) value);
      if (type == GgufValueType.UINT64) return Long.toUnsignedString((Long) value);
      return String.valueOf(value);
    }

    /**
     * A string in double quotes with control characters escaped, cut to {@value #STRING_HEAD}
     * characters.
     */
    static String quote(String s) {
      StringBuilder sb = new StringBuilder("\"");
      int limit = Math.min(s.length(), STRING_HEAD);
      for (int i = 0; i < limit; i++) {
        char c = s.charAt(i);
        switch (c) {
          case '\n' -> sb.append("\\n");
          case '\r' -> sb.append("\\r");
          case '\t' -> sb.append("\\t");
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          default -> {
            if (c < 0x20) {
              sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
              sb.append(c);
            }
          }
        }
      }
      sb.append('"');
      if (s.length() > limit) sb.append("… (").append(s.length()).append(" chars)");
      return sb.toString();
    }

    private static Object element(GgufValue v, int i) {
      return switch (v.elementType()) {
        case FLOAT32 -> ((float[]) v.value())[i];
        case FLOAT64 -> ((double[]) v.value())[i];
        case BOOL -> ((boolean[]) v.value())[i];
        case STRING -> ((String[]) v.value())[i];
        default -> ((long[]) v.value())[i];
      };
    }

    static String toJson(GgufFile f) throws Exception {
      ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      ObjectNode root = mapper.createObjectNode();
      root.put("path", f.path().toString());
      root.put("format", "gguf");
      root.put("version", f.version());
      root.put("alignment", f.alignment());
      root.put("data_start", f.dataStart());
      root.put("file_size", f.fileSize());
      ObjectNode metadata = root.putObject("metadata");
      for (Map.Entry<String, GgufValue> e : f.metadata().entries().entrySet()) {
        GgufValue v = e.getValue();
        ObjectNode n = metadata.putObject(e.getKey());
        n.put("type", v.type().name());
        if (v.isArray()) {
          n.put("element_type", v.elementType().name());
          n.put("length", v.length());
          ArrayNode values = n.putArray("values");
          int shown = (int) Math.min(ARRAY_HEAD, v.length());
          for (int i = 0; i < shown; i++) addJson(values, v.elementType(), element(v, i));
          n.put("truncated", v.length() > shown);
        } else if (v.type() == GgufValueType.STRING) {
          String s = v.asString();
          n.put("value", s.length() > STRING_HEAD ? s.substring(0, STRING_HEAD) + "…" : s);
          if (s.length() > STRING_HEAD) {
            n.put("length", s.length());
            n.put("truncated", true);
          }
        } else {
          ArrayNode holder = mapper.createArrayNode();
          addJson(holder, v.type(), v.value());
          n.set("value", holder.get(0));
        }
      }
      ArrayNode tensors = root.putArray("tensors");
      long params = 0;
      long bytes = 0;
      for (GgufTensorInfo t : f.tensors()) {
        ObjectNode n = tensors.addObject();
        n.put("name", t.name());
        n.put("type", t.type().name());
        ArrayNode ne = n.putArray("ne");
        for (long d : t.ne()) ne.add(d);
        ArrayNode shape = n.putArray("shape");
        for (long d : t.torchShape()) shape.add(d);
        n.put("offset", t.offset());
        n.put("bytes", t.byteSize());
        params += t.elementCount();
        bytes += t.byteSize();
      }
      root.put("tensor_count", f.tensors().size());
      root.put("parameter_count", params);
      root.put("total_bytes", bytes);
      return mapper.writeValueAsString(root);
    }

    private static void addJson(ArrayNode to, GgufValueType type, Object value) {
      switch (type) {
        case FLOAT32 -> to.add((Float) value);
        case FLOAT64 -> to.add((Double) value);
        case BOOL -> to.add((Boolean) value);
        case STRING -> {
          String s = (String) value;
          to.add(s.length() > STRING_HEAD ? s.substring(0, STRING_HEAD) + "…" : s);
        }
        case UINT64 -> to.add(new BigInteger(Long.toUnsignedString((Long) value)));
        default -> to.add((Long) value);
      }
    }
  }
}
