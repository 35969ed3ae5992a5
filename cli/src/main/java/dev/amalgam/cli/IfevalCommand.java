package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.ifeval.IfevalData;
import dev.amalgam.eval.ifeval.IfevalEvaluator;
import dev.amalgam.eval.ifeval.IfevalException;
import dev.amalgam.eval.ifeval.IfevalInput;
import dev.amalgam.eval.ifeval.IfevalReport;
import dev.amalgam.eval.ifeval.IfevalResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam ifeval --input input_data.jsonl --responses responses.jsonl}: IFEval's four
 * accuracies.
 */
@Command(
    name = "ifeval",
    mixinStandardHelpOptions = true,
    description =
        "Scores responses on IFEval (instruction following) as google-research's evaluation_lib does: "
            + "prompt- and instruction-level accuracy, strict and loose, and accuracy per instruction group.")
final class IfevalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--input",
      required = true,
      paramLabel = "FILE",
      description =
          "Prompts: jsonl with key, prompt, instruction_id_list, kwargs (IFEval's input_data.jsonl).")
  Path input;

  @Option(
      names = "--responses",
      required = true,
      paramLabel = "FILE",
      description =
          "Responses: jsonl with prompt and response, joined to the prompts by exact text.")
  Path responses;

  @Option(
      names = "--per-example",
      paramLabel = "OUT.jsonl",
      description =
          "Also write one jsonl line per prompt: key, prompt, instruction_id_list, "
              + "follow_instruction_list_strict, follow_instruction_list_loose.")
  Path perExample;

  @Option(
      names = "--skip-missing",
      description =
          "Leave out prompts that have no response (reported on stderr) "
              + "instead of failing; the reference's GPT-4 sample lacks key 2785, whose prompt was edited later.")
  boolean skipMissing;

  @Option(
      names = "--json",
      description = "Print one JSON object with the four accuracies and the count.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    List<IfevalInput> inputs;
    Map<String, String> byPrompt;
    try {
      inputs = IfevalData.readInputs(input);
      byPrompt = IfevalData.readResponses(responses);
    } catch (NoSuchFileException e) {
      throw new Main.InvalidInputException("no such file: " + e.getFile());
    }
    if (skipMissing) {
      List<IfevalInput> answered = new ArrayList<>();
      for (IfevalInput in : inputs) {
        if (byPrompt.containsKey(in.prompt())) {
          answered.add(in);
        } else {
          spec.commandLine()
              .getErr()
              .println("amalgam: warning: key " + in.key() + " has no response; left out");
        }
      }
      inputs = answered;
    }
    if (inputs.isEmpty()) throw new Main.InvalidInputException(input + ": no prompts to evaluate");
    IfevalReport report;
    try {
      report = IfevalEvaluator.evaluate(inputs, byPrompt);
    } catch (IfevalException e) {
      if (!e.getMessage().contains("no response")) throw e;
      throw new IfevalException(e.getMessage() + " (--skip-missing leaves such prompts out)", e);
    }
    if (perExample != null) writePerExample(report, perExample);
    print(report, spec.commandLine().getOut());
    return 0;
  }

  private void print(IfevalReport report, PrintWriter out) {
    if (json) {
      ObjectNode n = new ObjectMapper().createObjectNode();
      n.put("prompt_level_strict", report.promptLevelStrict().value());
      n.put("inst_level_strict", report.instructionLevelStrict().value());
      n.put("prompt_level_loose", report.promptLevelLoose().value());
      n.put("inst_level_loose", report.instructionLevelLoose().value());
      n.put("count", report.count());
      out.println(n);
      return;
    }
    out.printf(
        Locale.ROOT,
        "prompts %d, instructions %d%n",
        report.count(),
        report.instructionLevelStrict().total());
    out.printf(
        Locale.ROOT,
        "prompt_level_strict %.4f (%d)%n",
        report.promptLevelStrict().value(),
        report.promptLevelStrict().followed());
    out.printf(
        Locale.ROOT,
        "inst_level_strict   %.4f (%d)%n",
        report.instructionLevelStrict().value(),
        report.instructionLevelStrict().followed());
    out.printf(
        Locale.ROOT,
        "prompt_level_loose  %.4f (%d)%n",
        report.promptLevelLoose().value(),
        report.promptLevelLoose().followed());
    out.printf(
        Locale.ROOT,
        "inst_level_loose    %.4f (%d)%n",
        report.instructionLevelLoose().value(),
        report.instructionLevelLoose().followed());
    out.println();
    out.printf(Locale.ROOT, "%-20s %6s %8s %8s%n", "group", "count", "strict", "loose");
    Map<String, IfevalReport.Accuracy> loose = report.looseByGroup();
    report
        .strictByGroup()
        .forEach(
            (group, strict) ->
                out.printf(
                    Locale.ROOT,
                    "%-20s %6d %8.4f %8.4f%n",
                    group,
                    strict.total(),
                    strict.value(),
                    loose.get(group).value()));
  }

  private static void writePerExample(IfevalReport report, Path target) throws IOException {
    JsonLinesFile.write(
        target,
        report.results().size(),
        i -> {
          IfevalResult r = report.results().get(i);
          ObjectNode n = JsonLinesFile.object();
          if (r.key().matches("-?\\d{1,18}")) {
            n.put("key", Long.parseLong(r.key()));
          } else {
            n.put("key", r.key());
          }
          n.put("prompt", r.prompt());
          ArrayNode ids = n.putArray("instruction_id_list");
          r.instructionIds().forEach(ids::add);
          ArrayNode strict = n.putArray("follow_instruction_list_strict");
          r.strict().forEach(strict::add);
          ArrayNode loose = n.putArray("follow_instruction_list_loose");
          r.loose().forEach(loose::add);
          return n;
        });
  }
}
