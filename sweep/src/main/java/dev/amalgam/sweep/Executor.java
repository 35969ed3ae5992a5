package dev.amalgam.sweep;

import java.io.IOException;
import java.util.List;

/**
 * Runs a sweep's points: in this process ({@link LocalExecutor}) or as a Slurm job array ({@link
 * SlurmExecutor}). Either way the work of a point is {@link Sweep#execute}, and what is cached is
 * skipped.
 */
public interface Executor {
  /** The executor's name: {@code local} or {@code slurm}. */
  String name();

  /**
   * Runs the points that are not done yet and returns once every one is done or has failed for
   * good.
   *
   * @param points the points, each numbered by its index in the sweep's plan.json
   * @return the points that failed (empty when all are done)
   */
  List<GridPoint> execute(Sweep sweep, List<GridPoint> points)
      throws IOException, InterruptedException;
}
