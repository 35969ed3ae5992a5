/**
 * Merge methods: each declares its parameters and plans one output tensor as a {@link
 * dev.amalgam.merge.method.TensorOperation} that streams through the executor. {@link
 * dev.amalgam.merge.method.MergeMethods} is the registry.
 */
package dev.amalgam.merge.method;
