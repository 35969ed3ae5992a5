package dev.amalgam.merge.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.convert.GgufOutput;
import dev.amalgam.convert.GgufToTokenizer;
import dev.amalgam.convert.HfTokenizerFiles;
import dev.amalgam.io.ModelOutput;
import dev.amalgam.io.TensorSink;
import dev.amalgam.io.TensorSource;
import dev.amalgam.io.safetensors.ShardedSafetensorsWriter;
import dev.amalgam.kernels.Kernels;
import dev.amalgam.merge.method.TensorStreams;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs a {@link MergePlan}: tensor by tensor, inputs are read in chunks by positional reads into
 * pooled buffers, merged by the kernels into reused staging buffers and written by a background
 * thread into safetensors shards. Memory stays bounded whatever the model size: the staging, read
 * and cast buffers are sized once within the budget, and each tensor's read buffers go back to the
 * pool when it is done. Every input is checked to be unchanged before the output is committed, and
 * the output directory appears only when complete.
 */
public final class MergeExecutor {
  /**
   * Output staging buffers: enough for the writer to work on one while the kernels fill the others.
   */
  private static final int STAGING_BUFFERS = 4;

  /**
   * Preferred chunk: 4 Mi elements (8 MB of bf16), large enough to amortise calls, small enough for
   * L3.
   */
  private static final long PREFERRED_CHUNK =
      Long.getLong("amalgam.merge.chunkElements", 4L * Kernels.DOT_SEGMENT);

  private static final ObjectMapper JSON = new ObjectMapper();

  /** -Damalgam.merge.trace=true prints where the time of the tensor phase went. */
  private static final boolean TRACE = Boolean.getBoolean("amalgam.merge.trace");

  private MergeExecutor() {}

  /**
   * Executes the plan into {@code outputDirectory}. Warnings that arise while writing (a donor
   * without tokenizer files, say) go to {@link MergeOptions#warnings()}.
   */
  public static MergeResult execute(MergePlan plan, Path outputDirectory, MergeOptions options)
      throws IOException, InterruptedException {
    return plan.output().isGguf()
        ? executeGguf(plan, outputDirectory, options)
        : executeHf(plan, outputDirectory, options);
  }

  private static MergeResult executeHf(MergePlan plan, Path outputDirectory, MergeOptions options)
      throws IOException, InterruptedException {
    List<TensorInfo> outputs = plan.outputTensors();
    try (ModelOutput out = ModelOutput.create(outputDirectory, options.overwrite());
        Kernels kernels =
            Kernels.forDevice(options.device(), options.threads(), options.notices())) {
      long start = System.nanoTime();
      List<String> files;
      List<NonFiniteCount> nonFinite;
      try (ShardedSafetensorsWriter writer =
          ShardedSafetensorsWriter.open(
              out.directory(), outputs, options.maxShardBytes(), Map.of("format", "pt"))) {
        writer.setSync(options.sync());
        nonFinite = runTasks(plan, writer, options, kernels, start);
        writer.finish();
        files = writer.shards().stream().map(ShardedSafetensorsWriter.Shard::fileName).toList();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      try {
        writeSideFiles(plan, out, options);
      } catch (java.nio.file.FileSystemException e) {
        throw e;
      } catch (IOException e) {
        if (e instanceof dev.amalgam.diagnostic.Failure) throw e;
        // config.json, the tokenizer files and the model card go through the JDK's and Jackson's
        // writers, whose messages name no file
        throw dev.amalgam.io.AtomicFileWriter.failure(
            out.target(), "writing config.json, the tokenizer files or the model card", e);
      }
      out.commit();
      return new MergeResult(
          out.target(),
          outputs.size(),
          plan.inputBytes(),
          plan.outputBytes(),
          seconds,
          files,
          kernels.description(),
          nonFinite);
    }
  }

  /** A GGUF output is one self-contained file: no side files; it appears when complete. */
  private static MergeResult executeGguf(MergePlan plan, Path target, MergeOptions options)
      throws IOException, InterruptedException {
    GgufPlan gguf = plan.gguf().orElseThrow();
    Path absolute = target.toAbsolutePath().normalize();
    if (Files.isDirectory(absolute)) {
      throw new FileAlreadyExistsException(
          absolute.toString(), null, "is a directory; a GGUF output is a file");
    }
    if (Files.exists(absolute) && !options.overwrite()) {
      throw new FileAlreadyExistsException(
          absolute.toString(),
          null,
          "output already exists; choose another name or pass --force to replace it");
    }
    Files.createDirectories(absolute.getParent());
    List<GgufOutput.Planned> planned = new ArrayList<>();
    for (int i = 0; i < plan.tasks().size(); i++) {
      planned.add(new GgufOutput.Planned(plan.tasks().get(i).output(), gguf.types().get(i)));
    }
    try (Kernels kernels =
            Kernels.forDevice(options.device(), options.threads(), options.notices());
        GgufOutput out =
            GgufOutput.create(
                absolute,
                gguf.metadata(),
                planned,
                gguf.ropeFreqs(),
                kernels,
                options.overwrite(),
                options.sync())) {
      long start = System.nanoTime();
      List<NonFiniteCount> nonFinite = runTasks(plan, out, options, kernels, start);
      out.finish();
      double seconds = (System.nanoTime() - start) / 1e9;
      return new MergeResult(
          absolute,
          planned.size(),
          plan.inputBytes(),
          plan.outputBytes(),
          seconds,
          List.of(absolute.getFileName().toString()),
          kernels.description(),
          nonFinite);
    }
  }

  /**
   * Streams every task through the staging pipeline into {@code sink}; returns the non-finite
   * values met.
   */
  private static List<NonFiniteCount> runTasks(
      MergePlan plan, TensorSink sink, MergeOptions options, Kernels kernels, long start)
      throws IOException, InterruptedException {
    List<TensorTask> tasks = plan.tasks();
    int maxOutBytes = tasks.stream().mapToInt(t -> t.output().dtype().byteSize()).max().orElse(2);
    // cast scratch per input position (a slice's tasks may read fewer inputs than the merge has
    // models)
    int positions = tasks.stream().mapToInt(t -> t.inputs().size()).max().orElse(0);
    List<Optional<DType>> castTypes = new ArrayList<>();
    for (int i = 0; i < positions; i++) {
      final int input = i;
      castTypes.add(
          tasks.stream()
              .filter(t -> t.castTo().size() > input)
              .map(t -> t.castTo().get(input))
              .flatMap(Optional::stream)
              .findFirst());
    }
    int maxInBytes =
        tasks.stream()
            .flatMap(t -> t.inputs().stream())
            .mapToInt(i -> i.dtype().byteSize())
            .max()
            .orElse(2);
    long chunk =
        chunkElements(options.memoryBudget(), maxOutBytes, positions * maxInBytes, castTypes);
    ByteBuffer[] scratch = new ByteBuffer[castTypes.size()];
    for (int i = 0; i < scratch.length; i++) {
      if (castTypes.get(i).isPresent()) {
        scratch[i] = aligned(Math.toIntExact(castTypes.get(i).get().byteCount(chunk)));
      }
    }
    List<NonFiniteCount> nonFinite = new ArrayList<>();
    options.progress().start(plan.outputBytes());
    try (OutputPipeline pipeline =
        new OutputPipeline(
            sink, STAGING_BUFFERS, Math.toIntExact(chunk * maxOutBytes), options.progress())) {
      for (int t = 0; t < tasks.size(); t++) {
        if (Thread.interrupted()) throw new InterruptedException("merge interrupted");
        TensorTask task = tasks.get(t);
        if (t + 1 < tasks.size()) prefetch(plan, tasks.get(t + 1));
        TensorSource[] data = new TensorSource[task.inputs().size()];
        for (int i = 0; i < data.length; i++) {
          data[i] =
              plan.inputs().get(task.models().get(i)).weights().data(task.inputs().get(i).name());
        }
        pipeline.beginTensor(task.output().name());
        Streams streams = new Streams(task, data, scratch, chunk, kernels, pipeline, options);
        try {
          task.operation().run(streams);
        } finally {
          for (TensorSource d : data) d.release();
        }
        List<NonFiniteCount> met = streams.nonFinite(plan);
        if (!met.isEmpty() && options.onNonFinite() == NonFinitePolicy.ERROR) {
          throw new NonFiniteException(met);
        }
        nonFinite.addAll(met);
      }
      // Every read is done: an input written meanwhile must not yield an output (it could mix old
      // and new bytes), so each is checked before the output is finished and committed.
      for (PlannedInput input : plan.inputs()) input.weights().checkUnchanged();
      long computeEnd = System.nanoTime();
      pipeline.finish();
      if (TRACE) {
        System.err.printf(
            java.util.Locale.ROOT,
            "amalgam: trace: tensors %.3f s (waiting for free buffers %.3f s),"
                + " writer busy %.3f s, final drain %.3f s%n",
            (computeEnd - start) / 1e9,
            pipeline.waitSeconds(),
            pipeline.writeSeconds(),
            (System.nanoTime() - computeEnd) / 1e9);
      }
    } finally {
      options.progress().finish();
    }
    return nonFinite;
  }

  /**
   * The largest chunk (a multiple of the reduction segment, at most the preferred size) whose
   * staging, read and cast buffers fit in half the budget; the other half is left for the JVM's own
   * needs.
   *
   * @param readBytes bytes per element of the buffers the inputs are read into, all inputs together
   */
  static long chunkElements(
      long budget, int maxOutBytes, int readBytes, List<Optional<DType>> castTypes) {
    long perElement = (long) STAGING_BUFFERS * maxOutBytes + readBytes;
    for (Optional<DType> c : castTypes) perElement += c.map(DType::byteSize).orElse(0);
    long segments = Math.max(1, budget / 2 / perElement / Kernels.DOT_SEGMENT);
    long preferred = Math.max(1, PREFERRED_CHUNK / Kernels.DOT_SEGMENT);
    return Math.min(segments, preferred) * Kernels.DOT_SEGMENT;
  }

  private static void prefetch(MergePlan plan, TensorTask next) throws IOException {
    for (int i = 0; i < next.inputs().size(); i++) {
      plan.inputs()
          .get(next.models().get(i))
          .weights()
          .data(next.inputs().get(i).name())
          .adviseWillNeed();
    }
  }

  private static ByteBuffer aligned(int bytes) {
    return ByteBuffer.allocateDirect(bytes + 4096).alignedSlice(4096).limit(bytes).slice();
  }

  private static void writeSideFiles(MergePlan plan, ModelOutput out, MergeOptions options)
      throws IOException {
    Path dir = out.directory();
    JSON.writerWithDefaultPrettyPrinter()
        .writeValue(dir.resolve("config.json").toFile(), plan.outputConfig());
    Path donor = plan.donor().reference().path();
    Path donorDir = Files.isDirectory(donor) ? donor : donor.toAbsolutePath().getParent();
    if (options.copyTokenizer()) {
      Optional<OutputTokenizer> built = plan.tokenizer();
      if (built.isPresent() && built.get().copyFrom().isEmpty()) {
        // the vocabulary changed: files generated from it (a SentencePiece base gets a
        // tokenizer.model with the
        // extra tokens as user-defined pieces; a BPE base a tokenizer.json with them)
        GgufToTokenizer.write(built.get().metadata(), built.get().source(), dir)
            .warnings()
            .forEach(options.warnings()::warn);
      } else if (built.isEmpty() && plan.donor().gguf().isPresent()) {
        GgufToTokenizer.write(
            plan.donor().gguf().get().metadata(), plan.donor().weights().path(), dir);
      } else {
        Path fromDir = built.flatMap(OutputTokenizer::copyFrom).orElse(donorDir);
        if (HfTokenizerFiles.copy(fromDir, dir) == 0) {
          options
              .warnings()
              .warn(
                  "'"
                      + plan.donor().label()
                      + "' has no tokenizer files; the merged model has"
                      + " none either (copy them in before using it)");
        }
      }
      if (plan.config().chatTemplate().isPresent())
        setChatTemplate(dir, plan.config().chatTemplate().get());
    } else if (plan.config().chatTemplate().isPresent()) {
      options
          .warnings()
          .warn("chat_template is not written: --no-copy-tokenizer leaves the tokenizer files out");
    }
    Path generation = donorDir.resolve("generation_config.json");
    if (plan.donor().gguf().isEmpty() && Files.isRegularFile(generation)) {
      Files.copy(
          generation, dir.resolve("generation_config.json"), StandardCopyOption.COPY_ATTRIBUTES);
    }
    if (options.writeModelCard()) {
      Files.writeString(
          dir.resolve("amalgam_config.yml"), plan.config().source(), StandardCharsets.UTF_8);
      Files.writeString(
          dir.resolve("README.md"),
          ModelCard.render(plan, out.target().getFileName().toString()),
          StandardCharsets.UTF_8);
    }
  }

  /**
   * Puts the configured chat template into tokenizer_config.json (created if the donor had none)
   * and removes the donor's separate template files, which transformers would otherwise prefer.
   */
  private static void setChatTemplate(Path dir, String template) throws IOException {
    Path config = dir.resolve("tokenizer_config.json");
    com.fasterxml.jackson.databind.node.ObjectNode node =
        Files.isRegularFile(config)
                && JSON.readTree(config.toFile())
                    instanceof com.fasterxml.jackson.databind.node.ObjectNode o
            ? o
            : JSON.createObjectNode();
    node.put("chat_template", template);
    JSON.writerWithDefaultPrettyPrinter().writeValue(config.toFile(), node);
    Files.deleteIfExists(dir.resolve("chat_template.jinja"));
    Files.deleteIfExists(dir.resolve("chat_template.json"));
  }

  /** The executor's side of one tensor, handed to its operation. */
  private static final class Streams implements TensorStreams {
    private final TensorTask task;
    private final TensorSource[] data;
    private final ByteBuffer[] scratch;
    private final long chunk;
    private final Kernels kernels;
    private final OutputPipeline pipeline;
    private final MergeOptions options;
    private final boolean count;
    // per input: elements counted from 0 (an operation that reads twice is counted once), NaNs,
    // infinities; the output's counts last
    private final long[] countedUpTo;
    private final long[][] counts;

    Streams(
        TensorTask task,
        TensorSource[] data,
        ByteBuffer[] scratch,
        long chunk,
        Kernels kernels,
        OutputPipeline pipeline,
        MergeOptions options) {
      this.task = task;
      this.data = data;
      this.scratch = scratch;
      this.chunk = chunk;
      this.kernels = kernels;
      this.pipeline = pipeline;
      this.options = options;
      this.count = options.onNonFinite() != NonFinitePolicy.IGNORE;
      this.countedUpTo = new long[data.length];
      this.counts = new long[data.length + 1][2];
    }

    /** The non-finite values this tensor met, by input in order, then the output. */
    List<NonFiniteCount> nonFinite(MergePlan plan) {
      List<NonFiniteCount> met = new ArrayList<>();
      String name = task.output().name();
      for (int i = 0; i <= data.length; i++) {
        long[] c = counts[i];
        if (c[0] + c[1] == 0) continue;
        String source =
            i == data.length
                ? NonFiniteCount.OUTPUT
                : plan.inputs().get(task.models().get(i)).label();
        met.add(new NonFiniteCount(name, source, c[0], c[1]));
      }
      return met;
    }

    @Override
    public int inputCount() {
      return data.length;
    }

    @Override
    public long elementCount() {
      return task.output().elementCount();
    }

    @Override
    public long chunkElements() {
      return chunk;
    }

    @Override
    public DType inputType(int input) {
      return task.castTo().get(input).orElse(task.inputs().get(input).dtype());
    }

    @Override
    public ByteBuffer inputChunk(int input, long first, long count) throws IOException {
      if (count > chunk || first < 0 || first + count > elementCount()) {
        throw new IllegalArgumentException(
            "chunk ["
                + first
                + ", "
                + (first + count)
                + ") outside tensor '"
                + task.output().name()
                + "' of "
                + elementCount()
                + " elements or larger than "
                + chunk);
      }
      ByteBuffer stored = data[input].slice(first, count);
      if (this.count && first == countedUpTo[input]) {
        // Counted right after the read, while the chunk is in the cache; a second pass is not.
        DType storedType = data[input].info().dtype();
        if (storedType.isMergeable()) {
          kernels.countNonFinite(stored, storedType, count, counts[input]);
        }
        countedUpTo[input] = first + count;
      }
      Optional<DType> cast = task.castTo().get(input);
      if (cast.isEmpty()) return stored;
      ByteBuffer target = scratch[input].duplicate().clear();
      kernels.convert(stored, task.inputs().get(input).dtype(), target, cast.get(), count);
      return target.limit(Math.toIntExact(cast.get().byteCount(count))).asReadOnlyBuffer();
    }

    @Override
    public DType outputType() {
      return task.output().dtype();
    }

    @Override
    public ByteBuffer outputChunk() throws IOException, InterruptedException {
      return pipeline.acquire();
    }

    @Override
    public void emit(ByteBuffer filled) throws IOException, InterruptedException {
      DType out = task.output().dtype();
      if (count && out.isMergeable()) {
        kernels.countNonFinite(filled, out, filled.limit() / out.byteSize(), counts[data.length]);
      }
      pipeline.emit(filled);
    }

    @Override
    public void warn(String message) {
      options.warnings().warn("tensor '" + task.output().name() + "': " + message);
    }

    @Override
    public Kernels kernels() {
      return kernels;
    }
  }
}
