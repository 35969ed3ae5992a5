/**
 * Evaluation of models: scoring and generation through llama.cpp ({@link dev.amalgam.eval.llama}).
 */
package dev.amalgam.eval;
