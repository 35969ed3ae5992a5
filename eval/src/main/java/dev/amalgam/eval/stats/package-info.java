/**
 * Statistics over evaluation runs: bootstrap confidence intervals and paired comparisons (Commons
 * Math).
 */
package dev.amalgam.eval.stats;
