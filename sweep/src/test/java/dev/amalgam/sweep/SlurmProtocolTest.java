package dev.amalgam.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.harness.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Slurm executor's protocol against stand-in sbatch and squeue scripts (the real cluster is
 * SweepCommandTest's): the job script, the sbatch options the sweep file sets, squeue progress, and
 * the resubmission of failed tasks up to max_retries before the sweep fails naming them.
 */
class SlurmProtocolTest {
  @TempDir Path dir;

  private Path script(String name, String text) throws IOException {
    Path p = Files.writeString(dir.resolve(name), "#!/bin/bash\n" + text);
    assertTrue(p.toFile().setExecutable(true));
    return p;
  }

  @Test
  void failedTasksAreResubmittedUpToTheLimitAndThenNamed() throws Exception {
    Files.writeString(dir.resolve("a.gguf"), "model a");
    Files.writeString(dir.resolve("b.gguf"), "model b");
    Files.writeString(dir.resolve("notes.jsonl"), "{\"input\": \"x\", \"reference\": \"y\"}\n");
    Path file =
        Files.writeString(
            dir.resolve("trial.yml"),
            String.join(
                "\n",
                "models: [{name: a, path: a.gguf}, {name: b, path: b.gguf}]",
                "grid: {methods: [slerp], t: [0.5]}",
                "evaluation: {tasks: [{task: jsonl, data: notes.jsonl, limit: 1}]}",
                "slurm: {partition: debug, mem: 1G, cpus: 1, gres: 'gpu:1', parallel: 2, max_retries: 2,"
                    + " poll_seconds: 0.05}",
                ""));
    Path log = dir.resolve("sbatch.log");
    // sbatch: records its arguments, runs every array task of the script at once, prints a job id.
    Path sbatch =
        script(
            "sbatch",
            "echo \"$*\" >> '"
                + log
                + "'\n"
                + "script=\"${@: -1}\"\n"
                + "for arg in \"$@\"; do case \"$arg\" in --array=*) list=\"${arg#--array=}\";; esac; done\n"
                + "list=\"${list%%\\%*}\"\n"
                + "for i in ${list//,/ }; do SLURM_ARRAY_TASK_ID=$i bash \"$script\" >/dev/null 2>&1; done\n"
                + "echo $((100 + $(wc -l < '"
                + log
                + "')))\n");
    // squeue: on its first call for a job, one running and two pending tasks; then the job is gone.
    Path squeue =
        script(
            "squeue",
            "seen='"
                + dir
                + "/squeue-'$3\n"
                + "if [ ! -e \"$seen\" ]; then\n"
                + "  touch \"$seen\"; echo \"$3_0 RUNNING\"; echo \"$3_[1-2] PENDING\"\n"
                + "fi\n");
    SweepSpec spec = SweepReader.read(file, new ArrayList<>());
    List<String> lines = new ArrayList<>();
    Path out = dir.resolve("out");
    SweepException e;
    try (Sweep sweep = new Sweep(spec, out, Generator.IN_PROCESS, lines::add, w -> {})) {
      SlurmExecutor executor =
          new SlurmExecutor(List.of("false"), sbatch.toString(), squeue.toString());
      e = assertThrows(SweepException.class, () -> sweep.run(executor));
      assertEquals(9, sweep.pointsRunElsewhere(), "3 points, submitted 3 times");
    }
    assertTrue(
        e.getMessage()
            .startsWith("3 point(s) failed: input a; input b; slerp t=0.5 (rerun to retry"),
        e.getMessage());

    List<String> submissions = Files.readAllLines(log);
    assertEquals(3, submissions.size(), "the first submission and 2 retries");
    String first = submissions.get(0);
    for (String option :
        List.of(
            "--parsable",
            "--array=0,1,2%2",
            "--job-name=amalgam-sweep-trial",
            "--output=" + out.toAbsolutePath() + "/slurm/logs/%A_%a.out",
            "--partition=debug",
            "--mem=1G",
            "--cpus-per-task=1",
            "--gres=gpu:1")) {
      assertTrue(first.contains(option), option + " in " + first);
    }
    assertTrue(first.endsWith(out.toAbsolutePath() + "/slurm/point.sh"), first);
    String job = Files.readString(out.resolve("slurm").resolve("point.sh"));
    assertTrue(
        job.contains(
            "exec 'false' 'sweep' '"
                + file.toAbsolutePath()
                + "' '--out' '"
                + out.toAbsolutePath()
                + "' '--point' \"$SLURM_ARRAY_TASK_ID\""),
        job);
    assertTrue(
        lines.contains("submitted Slurm job array 101: 3 tasks (points 0,1,2)"), lines.toString());
    assertTrue(
        lines.contains("job 101: 2 pending, 1 running; 0 of 3 points done"), lines.toString());
    assertTrue(lines.stream().anyMatch(l -> l.endsWith(", retry 2 of 2")), lines.toString());
    assertTrue(Files.isRegularFile(out.resolve("plan.json")));
  }
}
