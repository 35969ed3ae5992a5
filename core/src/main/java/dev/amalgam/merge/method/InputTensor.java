package dev.amalgam.merge.method;

import dev.amalgam.tensor.TensorInfo;

/**
 * One input of a tensor merge as a method sees it.
 *
 * @param index position among the merge's inputs (the order of {@code models:}, the base appended
 *     if unlisted)
 * @param info the stored tensor: name, stored dtype, shape
 * @param isBase whether this input is the {@code base_model}
 * @param label how messages name the model (its reference as written)
 */
public record InputTensor(int index, TensorInfo info, boolean isBase, String label) {}
