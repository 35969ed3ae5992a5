package dev.amalgam.sweep;

import dev.amalgam.diagnostic.Failure;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the points one after the other in this process, printing which point runs, how long each
 * took and the estimated time left. A failure stops the sweep (what finished is cached).
 */
public final class LocalExecutor implements Executor {
  /** Creates the executor. */
  public LocalExecutor() {}

  @Override
  public String name() {
    return "local";
  }

  @Override
  public List<GridPoint> execute(Sweep sweep, List<GridPoint> points) throws IOException {
    List<GridPoint> todo = new ArrayList<>();
    for (GridPoint p : points) if (!sweep.isDone(p)) todo.add(p);
    int total = sweep.plannedPoints();
    if (todo.isEmpty()) {
      sweep.listener().line(points.size() + " points: all cached");
      return List.of();
    }
    sweep
        .listener()
        .line(String.format(Locale.ROOT, "%d of %d points to run", todo.size(), points.size()));
    double spent = 0;
    for (int i = 0; i < todo.size(); i++) {
      GridPoint p = todo.get(i);
      sweep
          .listener()
          .line(String.format(Locale.ROOT, "[%d/%d] %s: running", p.index() + 1, total, p.label()));
      long start = System.nanoTime();
      try {
        sweep.execute(p);
      } catch (IOException | RuntimeException e) {
        sweep.recordFailure(p, e);
        if (e instanceof Failure || e instanceof IOException) throw e;
        throw new SweepException(
            p.label() + ": " + e.getMessage(), dev.amalgam.diagnostic.FailureReason.ENVIRONMENT, e);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      spent += seconds;
      int left = todo.size() - i - 1;
      sweep
          .listener()
          .line(
              String.format(
                  Locale.ROOT,
                  "[%d/%d] %s: done in %.1f s%s",
                  p.index() + 1,
                  total,
                  p.label(),
                  seconds,
                  left == 0
                      ? ""
                      : String.format(
                          Locale.ROOT,
                          "; %d to go, about %s left",
                          left,
                          Sweep.duration(spent / (i + 1) * left))));
    }
    return List.of();
  }
}
