/**
 * The evaluation harness behind {@code amalgam eval}: tasks (data loaders with split rules, default
 * prompt templates), prompt rendering with few-shot examples, batched, in-process generation
 * through the llama.cpp bridge with streamed progress, multiple choice by continuation
 * log-likelihood or grammar-constrained generation, and the atomic output folder
 * (predictions.jsonl, metrics.json, report.md). Metrics come in through {@link
 * dev.amalgam.eval.score.CorpusScorer}, IFEval checks through {@link
 * dev.amalgam.eval.harness.IfevalChecker}.
 */
package dev.amalgam.eval.harness;
