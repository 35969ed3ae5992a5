package dev.amalgam.cli;

import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaBridgeException;
import dev.amalgam.eval.llama.LlamaGeneration;
import dev.amalgam.eval.llama.LlamaScorer;
import dev.amalgam.eval.llama.ScorerOptions;
import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.safetensors.SafetensorsModel;
import dev.amalgam.kernels.Dot3;
import dev.amalgam.kernels.JavaKernels;
import dev.amalgam.kernels.Slerp;
import dev.amalgam.merge.config.ConfigReader;
import dev.amalgam.merge.config.MergeConfig;
import dev.amalgam.merge.config.ParameterSetting;
import dev.amalgam.merge.plan.MergeExecutor;
import dev.amalgam.merge.plan.MergeOptions;
import dev.amalgam.merge.plan.MergePlan;
import dev.amalgam.merge.plan.MergePlanner;
import dev.amalgam.merge.plan.MergeResult;
import dev.amalgam.merge.plan.OutputSpec;
import dev.amalgam.synthetic.PerturbedGguf;
import dev.amalgam.synthetic.SyntheticLlama;
import dev.amalgam.synthetic.SyntheticTokenizers;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam demo}: the main job on an embedded default. Generates two related Llama-shaped
 * models, merges them with a per-layer SLERP gradient from a mergekit-style YAML, inspects the
 * result and checks it against a double-precision reference, writes the merge as GGUF and runs it
 * in llama.cpp. Then a real tiny model, stories260K.gguf (packed into the jar), is damaged by noise
 * and repaired by a merge with itself; each model's perplexity and text are shown, and the damaged
 * and repaired models are evaluated on 40 MTS-Dialog examples and compared. It ends with what to
 * try next.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Generates two small Llama-shaped models, SLERP-merges them with a gradient, inspects and checks"
            + " the result, writes it as GGUF and runs it in llama.cpp; then repairs a noise-damaged copy of the real"
            + " tiny model stories260K by a merge, and evaluates and compares both on 40 MTS-Dialog examples. Needs no"
            + " input: the model and the data are packed into the jar.")
final class DemoCommand implements Callable<Integer> {
  static final String CONFIG =
      String.join(
          "\n",
          "# SLERP with per-layer gradients, as in mergekit's examples/gradient-slerp.yml",
          "merge_method: slerp",
          "base_model: model-a",
          "models:",
          "  - model: model-a",
          "  - model: model-b",
          "parameters:",
          "  t:",
          "    - filter: self_attn",
          "      value: [0, 0.5, 0.3, 0.7, 1]",
          "    - filter: mlp",
          "      value: [1, 0.5, 0.7, 0.3, 0]",
          "    - value: 0.5",
          "dtype: bfloat16",
          "");

  @Spec CommandSpec spec;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      defaultValue = "amalgam-demo",
      description = "Work folder for the generated and merged models. Default: ${DEFAULT-VALUE}.")
  Path dir;

  @Option(
      names = {"-j", "--threads"},
      paramLabel = "N",
      description = "Kernel threads (default: all processors).")
  int threads;

  @Option(
      names = "--stories",
      paramLabel = "FILE",
      description =
          "The real model for steps 8-9 (default: the"
              + " stories260K.gguf packed into the jar, written to the work folder).")
  Path stories;

  /**
   * A story in the style stories260K was trained on (written for this demo), scored for perplexity.
   */
  static final String STORY =
      String.join(
          " ",
          "Once upon a time there was a little girl named Lily. She liked to play in the park with her ball.",
          "One day she saw a big dog under a tree. The dog was sad because it was lost.",
          "Lily said, \"Do not be sad, dog. I will help you find your home.\" The dog wagged its tail.",
          "They walked to the house with the red door. A boy named Tom came out and hugged the dog.",
          "Tom said, \"Thank you, Lily! You are very kind.\" Lily smiled and went home happy.",
          "The next day Lily and Tom played in the park with the dog and the ball. They had a lot of fun.",
          "Mom made them a cake and they ate it in the sun. It was the best day ever.");

  @Override
  public Integer call() throws Exception {
    if (stories != null && !Files.isRegularFile(stories)) {
      throw new Main.InvalidInputException("--stories: no such file: " + stories);
    }
    PrintWriter out = spec.commandLine().getOut();
    Path work = dir.toAbsolutePath().normalize();
    SyntheticLlama.Shape shape = new SyntheticLlama.Shape(8, 256, 688, 2048, 8, 4, false);
    out.printf(Locale.ROOT, "1. Generating two Llama-shaped bf16 models in %s%n", work);
    out.printf(
        Locale.ROOT,
        "   %d layers, hidden %d, MLP %d, vocab %d, %d heads / %d KV heads; random weights, a"
            + " Llama-3-style BPE tokenizer%n",
        shape.layers(),
        shape.hidden(),
        shape.intermediate(),
        shape.vocab(),
        shape.heads(),
        shape.kvHeads());
    SyntheticLlama.write(
        work.resolve("model-a"), shape, DType.BF16, 1, 0, 0, MergeOptions.DEFAULT_SHARD_BYTES);
    // model-b = model-a plus 30% noise: related weights (cosine ~0.96), so SLERP takes its
    // spherical path
    SyntheticLlama.write(
        work.resolve("model-b"), shape, DType.BF16, 1, 0.3, 2, MergeOptions.DEFAULT_SHARD_BYTES);
    SyntheticTokenizers.writeLlama3(work.resolve("model-a"), shape.vocab());
    SyntheticTokenizers.writeLlama3(work.resolve("model-b"), shape.vocab());
    Files.writeString(work.resolve("merge.yml"), CONFIG, StandardCharsets.UTF_8);
    out.printf(Locale.ROOT, "%n2. Merge configuration (%s):%n%n", work.resolve("merge.yml"));
    CONFIG.lines().forEach(l -> out.println("   " + l));

    MergeConfig config = ConfigReader.parse(CONFIG, "merge.yml", work);
    printGradient(out, config, shape.layers());

    Path merged = work.resolve("merged");
    List<String> warnings = new ArrayList<>();
    MergeResult result;
    out.printf(Locale.ROOT, "%n4. Merging into %s%n", merged);
    try (MergePlan plan = MergePlanner.plan(config)) {
      result = MergeExecutor.execute(plan, merged, mergeOptions(warnings));
    }
    for (String w : warnings) out.println("   note: " + w);
    out.println("   " + MergeCommand.summary(result));

    out.printf(Locale.ROOT, "%n5. Inspecting the merged model (amalgam inspect %s):%n%n", merged);
    try (SafetensorsModel m = SafetensorsModel.open(merged)) {
      StringWriter table = new StringWriter();
      InspectCommand.printTable(m, new PrintWriter(table));
      List<String> lines = table.toString().lines().toList();
      for (int i = 0; i < lines.size(); i++) {
        if (i < 14 || i >= lines.size() - 3) out.println("   " + lines.get(i));
        else if (i == 14) out.println("   ...");
      }
    }

    out.printf(Locale.ROOT, "%n6. Checking the result%n");
    boolean ok = verify(out, work, shape.layers(), config.parameters().get("t"));

    Path mergedGguf = work.resolve("merged.gguf");
    out.printf(
        Locale.ROOT,
        "%n7. The same merge straight to GGUF for llama.cpp (amalgam merge merge.yml merged.gguf"
            + " --out-type bf16)%n");
    try (MergePlan plan = MergePlanner.plan(config, OutputSpec.gguf(Optional.of(GgmlType.BF16)))) {
      result = MergeExecutor.execute(plan, mergedGguf, mergeOptions(warnings));
    }
    out.println("   " + MergeCommand.summary(result));
    ok &= runInLlamaCpp(out, mergedGguf, "random weights, so expect random tokens");

    ok &= storiesDemo(out, work, storiesModel(work));
    out.printf(Locale.ROOT, "%nDemo %s. Output: %s%n", ok ? "complete" : "FAILED", work);
    if (ok) printNextSteps(out);
    return ok ? 0 : Main.EXIT_FAILURE;
  }

  /**
   * Loads a GGUF in llama.cpp: scores a sentence in-process and generates a few tokens in a child
   * JVM.
   */
  private static boolean runInLlamaCpp(PrintWriter out, Path gguf, String note) {
    try (LlamaScorer scorer =
        LlamaScorer.open(gguf, ScorerOptions.builder().contextSize(128).build())) {
      double[] lp = scorer.tokenLogProbs("Once upon a time");
      double sum = 0;
      for (double v : lp) sum += v;
      GenerationResult g =
          LlamaGeneration.generate(
              gguf,
              GenerationRequest.builder()
                  .prompt("Once upon a time")
                  .maxTokens(8)
                  .contextSize(128)
                  .build());
      return check(
          out,
          String.format(
              Locale.ROOT,
              "llama.cpp loaded %s (vocabulary %d); log-likelihood of"
                  + " \"Once upon a time\" %.2f; greedy continuation (%s): %s",
              gguf.getFileName(),
              scorer.vocabSize(),
              sum,
              note,
              quote(g.text())),
          Double.isFinite(sum));
    } catch (LlamaBridgeException e) {
      out.println("   [skipped] llama.cpp is not available here: " + e.getMessage());
      return true;
    }
  }

  /**
   * The demo's merges: its thread count, replacing earlier runs' outputs, warnings collected for
   * printing.
   */
  private MergeOptions mergeOptions(List<String> warnings) {
    return MergeOptions.builder()
        .threads(threads)
        .overwrite(true)
        .warnings(WarningListener.collectingInto(warnings))
        .build();
  }

  /** --stories, else the packed copy written to the work folder. */
  private Path storiesModel(Path work) throws java.io.IOException {
    return stories == null ? DemoAssets.stories260K(work) : stories.toAbsolutePath().normalize();
  }

  /**
   * Step 8: stories260K, a noise-damaged copy, and their SLERP halfway; each model's perplexity on
   * a story and its greedy text. The merge must score a lower perplexity than the damaged copy.
   */
  private boolean storiesDemo(PrintWriter out, Path work, Path storiesFile) throws Exception {
    out.printf(
        Locale.ROOT,
        "%n8. A real model, damaged and repaired: %s (260K parameters, trained on TinyStories)%n",
        storiesFile);
    Path perturbed = work.resolve("stories-perturbed.gguf");
    PerturbedGguf.write(storiesFile, perturbed, 0.3, 7);
    out.printf(
        Locale.ROOT,
        "   wrote %s: every matrix plus seeded noise of 0.3 x its RMS%n",
        perturbed.getFileName());
    String yaml =
        String.join(
            "\n",
            "merge_method: slerp",
            "base_model: " + storiesFile,
            "models:",
            "  - model: " + storiesFile,
            "  - model: " + perturbed,
            "parameters:",
            "  t: 0.5",
            "");
    Files.writeString(work.resolve("stories-merge.yml"), yaml, StandardCharsets.UTF_8);
    out.printf(
        Locale.ROOT,
        "   merging it halfway back with the original (SLERP, t = 0.5; stories-merge.yml)%n");
    Path merged = work.resolve("stories-merged.gguf");
    List<String> warnings = new ArrayList<>();
    try (MergePlan plan =
        MergePlanner.plan(
            ConfigReader.parse(yaml, "stories-merge.yml", work),
            OutputSpec.gguf(Optional.empty()))) {
      out.println(
          "   "
              + MergeCommand.summary(MergeExecutor.execute(plan, merged, mergeOptions(warnings))));
    }
    warnings.forEach(w -> out.println("   note: " + w));
    out.printf(
        Locale.ROOT,
        "   %-22s %-12s %s%n",
        "model",
        "perplexity",
        "greedy continuation of \"Once upon a time\"");
    List<Path> models = List.of(storiesFile, perturbed, merged);
    double[] ppl = new double[models.size()];
    for (int i = 0; i < models.size(); i++) {
      Path model = models.get(i);
      try (LlamaScorer scorer =
          LlamaScorer.open(model, ScorerOptions.builder().contextSize(128).build())) {
        ppl[i] = scorer.perplexity(STORY, 64).perplexity();
        String text =
            LlamaGeneration.generate(
                    model,
                    GenerationRequest.builder()
                        .prompt("Once upon a time")
                        .maxTokens(24)
                        .contextSize(256)
                        .build())
                .text();
        out.printf(Locale.ROOT, "   %-22s %-12.3f %s%n", model.getFileName(), ppl[i], quote(text));
      } catch (LlamaBridgeException e) {
        out.println("   [skipped] llama.cpp is not available here: " + e.getMessage());
        return true;
      }
    }
    boolean finite = Arrays.stream(ppl).allMatch(Double::isFinite);
    boolean ok =
        check(out, "every model loaded in llama.cpp and scored a finite perplexity", finite);
    ok &=
        check(
            out,
            String.format(
                Locale.ROOT,
                "the merge repaired the damage: perplexity %.1f -> %.1f (original" + " %.1f)",
                ppl[1],
                ppl[2],
                ppl[0]),
            finite && ppl[2] < ppl[1]);
    return ok & evaluate(out, work, perturbed, merged);
  }

  /**
   * Step 9: amalgam eval on the damaged and the merged model over the packed MTS-Dialog slice, then
   * amalgam compare, through the same commands a user runs. A story model knows no medicine: this
   * shows the pipeline and the paired statistics, not clinical skill.
   */
  private boolean evaluate(PrintWriter out, Path work, Path perturbed, Path merged)
      throws Exception {
    Path data = DemoAssets.mtsDialogSlice(work.resolve("data"));
    Path evalDir = work.resolve("eval");
    deleteTree(evalDir);
    int n = DemoAssets.MTS_DIALOG_EXAMPLES;
    out.printf(
        Locale.ROOT,
        "%n9. Evaluating both on %d MTS-Dialog examples (CC BY 4.0; %s), then comparing them.%n"
            + "   A story model knows no medicine: this shows the pipeline and its paired statistics, not clinical"
            + " skill.%n",
        n,
        data.resolve("mts-dialog"));
    String[] scoring = {"--metrics", "rouge,bleu,meteor", "--composite", "rougeL,bleu,meteor"};
    List<String> eval =
        new ArrayList<>(
            List.of(
                "eval",
                perturbed.toString(),
                merged.toString(),
                "--task",
                "mts-dialog",
                "--data",
                data.toString(),
                "--limit",
                Integer.toString(n),
                "--max-tokens",
                "48",
                "--ctx",
                "2048",
                "--out",
                evalDir.toString(),
                "--no-progress"));
    eval.addAll(List.of(scoring));
    if (!runCli(
        out,
        "amalgam eval stories-perturbed.gguf stories-merged.gguf --task mts-dialog --data data --out"
            + " eval ...",
        eval)) {
      return check(out, "amalgam eval ran", false);
    }
    List<String> compare =
        new ArrayList<>(
            List.of(
                "compare",
                evalDir.resolve("stories-perturbed").toString(),
                evalDir.resolve("stories-merged").toString()));
    compare.addAll(List.of(scoring));
    boolean compared =
        runCli(out, "amalgam compare eval/stories-perturbed eval/stories-merged ...", compare);
    return check(
        out,
        "both models evaluated (predictions.jsonl, metrics.json, report.md in "
            + evalDir
            + ") and compared",
        compared && Files.isRegularFile(evalDir.resolve("stories-merged/report.md")));
  }

  /** The closing screen: what the demo showed, and the commands to run next on one's own models. */
  private static void printNextSteps(PrintWriter out) {
    // Paths as the user would type them from the current folder (./amalgam and models/ in a
    // checkout).
    String home = System.getProperty("amalgam.home");
    Path root = home == null ? null : Path.of(home).toAbsolutePath().normalize();
    Path cwd = Path.of("").toAbsolutePath();
    String amalgam = root == null ? "amalgam" : typed(cwd, root.resolve("amalgam"));
    String config =
        root == null
            ? "models/gatortronllama-llama31-slerp.yml"
            : typed(cwd, root.resolve("models/gatortronllama-llama31-slerp.yml"));
    String data = root == null ? "DIR" : typed(cwd, root.resolve("examples/data"));
    out.printf(
        Locale.ROOT,
        "%nWhat you just saw%n"
            + "  - a mergekit YAML with per-layer SLERP gradients, checked before any weight was read, merged tensor by%n"
            + "    tensor and verified: bit-exact where t is 0 or 1, within 1 bf16 ulp of double precision elsewhere;%n"
            + "  - the same merge written straight to GGUF and run in llama.cpp;%n"
            + "  - a real model damaged by noise and repaired by merging it with the original;%n"
            + "  - an evaluation of both on clinical data, and their paired comparison with bootstrap intervals.%n"
            + "%nNext, on your own models (Hugging Face directories or GGUF files; edit the model paths in the config):%n"
            + "  %1$s check %2$s%n"
            + "      validates the config and every input and prints the plan, without reading a weight%n"
            + "  %1$s merge %2$s merged.gguf%n"
            + "      merges straight to a GGUF file for llama.cpp (or to a Hugging Face folder: give a folder name)%n"
            + "  %1$s eval merged.gguf --task mts-dialog --data %3$s%n"
            + "      evaluates it (here on the 40 examples above); %1$s compare RUN_A RUN_B compares two runs%n"
            + "Every command takes --help; README.md has the rest.%n",
        amalgam,
        config,
        data);
  }

  /** A path as typed from the working folder: relative when it lies below it, else absolute. */
  private static String typed(Path cwd, Path target) {
    if (!target.startsWith(cwd)) return target.toString();
    String relative = cwd.relativize(target).toString();
    return relative.contains("/") ? relative : "./" + relative;
  }

  /** Runs one amalgam command line, printing its output indented; false when it fails. */
  private static boolean runCli(PrintWriter out, String shown, List<String> args) {
    out.println("   $ " + shown);
    StringWriter text = new StringWriter();
    StringWriter errors = new StringWriter();
    int code =
        Main.run(
            args.toArray(String[]::new),
            new PrintWriter(text, true),
            new PrintWriter(errors, true));
    text.toString().lines().forEach(l -> out.println("   " + l));
    errors.toString().lines().forEach(l -> out.println("   " + l));
    return code == 0;
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    if (!Files.exists(dir)) return;
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  private static String quote(String text) {
    return "\"" + text.replace("\n", " ").strip() + "\"";
  }

  private static void printGradient(PrintWriter out, MergeConfig config, int layers) {
    out.printf(
        Locale.ROOT,
        "%n3. The gradient gives each layer its own t (x = layer / (layers - 1)):%n%n");
    out.println("   layer  self_attn  mlp    other");
    ParameterSetting t = config.parameters().get("t");
    for (int l = 0; l < layers; l++) {
      double x = (double) l / (layers - 1);
      out.printf(
          Locale.ROOT,
          "   %5d  %9.3f  %5.3f  %5.3f%n",
          l,
          (Double)
              t.resolve("model.layers." + l + ".self_attn.q_proj.weight", x).orElseThrow().value(),
          (Double) t.resolve("model.layers." + l + ".mlp.up_proj.weight", x).orElseThrow().value(),
          (Double)
              t.resolve("model.layers." + l + ".input_layernorm.weight", x).orElseThrow().value());
    }
  }

  /**
   * Checks t = 0 and t = 1 layers bit for bit and a middle layer against a double-precision SLERP.
   */
  private static boolean verify(PrintWriter out, Path work, int layers, ParameterSetting t)
      throws Exception {
    try (SafetensorsModel a = SafetensorsModel.open(work.resolve("model-a"));
        SafetensorsModel b = SafetensorsModel.open(work.resolve("model-b"));
        SafetensorsModel m = SafetensorsModel.open(work.resolve("merged"))) {
      String first = "model.layers.0.self_attn.q_proj.weight";
      String last = "model.layers." + (layers - 1) + ".self_attn.q_proj.weight";
      boolean ok =
          check(
              out,
              first + " (t = 0) equals model-a bit for bit",
              bytes(m, first).equals(bytes(a, first)));
      ok &=
          check(
              out,
              last + " (t = 1) equals model-b bit for bit",
              bytes(m, last).equals(bytes(b, last)));

      String mid = "model.layers." + layers / 2 + ".mlp.down_proj.weight";
      double x = (double) (layers / 2) / (layers - 1);
      double tMid = (Double) t.resolve(mid, x).orElseThrow().value();
      ByteBuffer va = bytes(a, mid);
      ByteBuffer vb = bytes(b, mid);
      ByteBuffer vm = bytes(m, mid);
      long n = va.remaining() / 2;
      double ab = 0, aa = 0, bb = 0;
      for (long i = 0; i < n; i++) {
        double p = JavaKernels.load(va, DType.BF16, i);
        double q = JavaKernels.load(vb, DType.BF16, i);
        ab += p * q;
        aa += p * p;
        bb += q * q;
      }
      Slerp.Coefficients c = Slerp.coefficients(new Dot3(ab, aa, bb), tMid);
      long equal = 0;
      long maxUlp = 0;
      for (long i = 0; i < n; i++) {
        double want =
            c.s0() * (double) JavaKernels.load(va, DType.BF16, i)
                + c.s1() * (double) JavaKernels.load(vb, DType.BF16, i);
        short wantBits = Bf16.fromFloat((float) want);
        short gotBits = vm.getShort((int) (2 * i));
        long ulp = Math.abs(ordered(wantBits) - ordered(gotBits));
        if (ulp == 0) equal++;
        maxUlp = Math.max(maxUlp, ulp);
      }
      double share = 100.0 * equal / n;
      ok &=
          check(
              out,
              String.format(
                  Locale.ROOT,
                  "%s (t = %.3f, cos %.4f): %.2f%% of %d elements equal a"
                      + " double-precision SLERP rounded to bf16, max difference %d ulp",
                  mid,
                  tMid,
                  c.cosine(),
                  share,
                  n,
                  maxUlp),
              share >= 99.0 && maxUlp <= 1);
      return ok;
    }
  }

  private static long ordered(short bf16) {
    int v = bf16 & 0xffff;
    return (v & 0x8000) != 0 ? -(v & 0x7fff) : v;
  }

  private static ByteBuffer bytes(SafetensorsModel model, String name) throws Exception {
    TensorInfo info = model.tensor(name).orElseThrow();
    return model.data(name).slice(0, info.elementCount());
  }

  private static boolean check(PrintWriter out, String what, boolean ok) {
    out.printf(Locale.ROOT, "   [%s] %s%n", ok ? "ok" : "FAIL", what);
    return ok;
  }
}
