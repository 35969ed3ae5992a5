/**
 * Sweeps: {@link dev.amalgam.sweep.SweepReader} reads a sweep file into a {@link
 * dev.amalgam.sweep.SweepSpec}, {@link dev.amalgam.sweep.Grid} expands it into points, {@link
 * dev.amalgam.sweep.Sweep} runs them through an {@link dev.amalgam.sweep.Executor} (local or Slurm)
 * with every merge and evaluation cached under a content key, and writes results.jsonl, report.md,
 * report.html and the charts.
 */
package dev.amalgam.sweep;
