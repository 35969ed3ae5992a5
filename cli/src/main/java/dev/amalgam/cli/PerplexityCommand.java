package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.llama.LlamaScorer;
import dev.amalgam.eval.llama.PerplexityResult;
import dev.amalgam.eval.llama.ScorerOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code amalgam perplexity MODEL.gguf --text FILE}: llama-perplexity's PPL of a text file. */
@Command(
    name = "perplexity",
    mixinStandardHelpOptions = true,
    description =
        "Computes the perplexity of a UTF-8 text file as llama-perplexity does (chunks of --ctx tokens, "
            + "second half of each scored) with an exact F32 KV cache, and prints PPL +/- its error, tokens and chunks.")
final class PerplexityCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "MODEL.gguf", description = "A GGUF model file.")
  Path model;

  @Option(
      names = "--text",
      required = true,
      paramLabel = "FILE",
      description = "UTF-8 text, at least 2 x --ctx tokens.")
  Path text;

  @Option(
      names = "--ctx",
      defaultValue = "512",
      description = "Window size in tokens (default: ${DEFAULT-VALUE}).")
  int contextSize;

  @Option(
      names = "--gpu-layers",
      defaultValue = "0",
      description = "Layers to offload to a GPU; needs a CUDA build of llama.cpp (--llama-lib).")
  int gpuLayers;

  @Mixin LlamaLibraryOption llamaLibrary;

  @Option(names = "--threads", description = "CPU threads (default: physical cores, at most 4).")
  Integer threads;

  @Option(
      names = "--f16-kv",
      description =
          "Use llama-perplexity's default F16 KV cache, to compare with its numbers"
              + " (default: an F32 cache, for exact scores).")
  boolean f16Kv;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    if (!Files.isRegularFile(model))
      throw new Main.InvalidInputException("no such model file: " + model);
    if (!Files.isRegularFile(text))
      throw new Main.InvalidInputException("no such text file: " + text);
    String content;
    try {
      content =
          StandardCharsets.UTF_8
              .newDecoder()
              .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(text)))
              .toString();
    } catch (CharacterCodingException e) {
      throw new Main.InvalidInputException(text + ": not valid UTF-8");
    }
    llamaLibrary.apply();
    LlamaLibraryOption.describe(gpuLayers, spec.commandLine().getErr());
    ScorerOptions.Builder options =
        ScorerOptions.builder().contextSize(contextSize).gpuLayers(gpuLayers).f32KvCache(!f16Kv);
    if (threads != null) options.threads(threads);
    PerplexityResult r;
    try (LlamaScorer scorer = LlamaScorer.open(model, options.build())) {
      r = scorer.perplexity(content, contextSize);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectNode n = new ObjectMapper().createObjectNode();
      n.put("ppl", r.perplexity());
      n.put("ppl_stderr", r.perplexityError());
      n.put("nll_mean", r.meanNll());
      n.put("tokens", r.tokens());
      n.put("chunks", r.chunks());
      n.put("n_ctx", r.nCtx());
      n.put("model", model.toString());
      out.println(n);
    } else {
      out.printf(Locale.ROOT, "PPL = %.4f +/- %.5f%n", r.perplexity(), r.perplexityError());
      out.printf(
          Locale.ROOT,
          "mean NLL %.6f over %d scored tokens; %d tokens, %d chunks of n_ctx %d%n",
          r.meanNll(),
          r.scoredTokens(),
          r.tokens(),
          r.chunks(),
          r.nCtx());
    }
    return 0;
  }
}
