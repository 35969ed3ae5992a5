/**
 * Amalgam's merge-and-evaluate sweeps: the sweep file and its reader, the grid and its adaptive
 * refinement, content-keyed caching of merges and evaluations, the local and Slurm executors, the
 * Pareto front, the recommendation rule, results.jsonl and the report with its PNG and SVG charts.
 */
@SuppressWarnings("requires-automatic")
module dev.amalgam.sweep {
  requires transitive dev.amalgam.eval;
  requires org.snakeyaml.engine.v2;
  requires org.jfree.jfreechart;
  requires org.jfree.svg;
  requires java.desktop;

  exports dev.amalgam.sweep;
}
