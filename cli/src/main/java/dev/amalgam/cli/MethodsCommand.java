package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.ParameterSpec;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code amalgam methods}: every merge method with its parameters, their scope and defaults. */
@Command(
    name = "methods",
    mixinStandardHelpOptions = true,
    description =
        "Lists every merge method with its parameters (global or per model), types and defaults.")
final class MethodsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print one JSON document.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectMapper mapper = new ObjectMapper();
      ArrayNode methods = mapper.createArrayNode();
      for (MergeMethod m : MergeMethods.all()) {
        ObjectNode n = methods.addObject();
        n.put("name", m.name());
        n.put("display_name", m.displayName());
        n.put("reference", m.reference());
        ArrayNode params = n.putArray("parameters");
        for (ParameterSpec p : m.parameters()) {
          ObjectNode o = params.addObject();
          o.put("name", p.name());
          o.put("scope", p.scope() == ParameterSpec.Scope.GLOBAL ? "global" : "per_model");
          o.put("type", p.type().name().toLowerCase(Locale.ROOT));
          o.put("required", p.required());
          p.defaultValue().ifPresent(v -> o.putPOJO("default", v));
          o.put("description", p.description());
        }
      }
      ObjectNode root = mapper.createObjectNode();
      root.set("methods", methods);
      out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root));
      return 0;
    }
    for (MergeMethod m : MergeMethods.all()) {
      out.printf(Locale.ROOT, "%s  (%s; %s)%n", m.name(), m.displayName(), m.reference());
      if (m.parameters().isEmpty()) out.println("    no parameters");
      for (ParameterSpec p : m.parameters()) {
        String value =
            p.required()
                ? "required"
                : "default " + p.defaultValue().map(Object::toString).orElse("none");
        out.printf(
            Locale.ROOT,
            "    %-20s %-9s %-7s %-16s %s%n",
            p.name(),
            p.scope() == ParameterSpec.Scope.GLOBAL ? "global" : "per-model",
            p.type().name().toLowerCase(Locale.ROOT),
            value,
            p.description());
      }
    }
    return 0;
  }
}
