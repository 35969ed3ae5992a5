/**
 * Merge methods: each is declared by its facts (name, display name, reference, parameters, which
 * inputs it takes, whether its output follows the base) and plans one output tensor as a {@link
 * dev.amalgam.merge.method.TensorOperation} that streams through the executor. One input check
 * serves every method. {@link dev.amalgam.merge.method.MergeMethods} is the registry.
 */
package dev.amalgam.merge.method;
