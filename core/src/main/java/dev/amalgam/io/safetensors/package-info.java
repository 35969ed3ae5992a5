/**
 * Reading and writing safetensors checkpoints: {@link dev.amalgam.io.safetensors.SafetensorsFile}
 * (one validated file, zero-copy tensor access through {@link
 * dev.amalgam.io.safetensors.TensorData}), {@link dev.amalgam.io.safetensors.SafetensorsModel} (a
 * model directory, sharded or not), {@link dev.amalgam.io.safetensors.SafetensorsWriter} (one file,
 * streamed) and {@link dev.amalgam.io.safetensors.ShardedSafetensorsWriter} (a model directory with
 * its index). Every format error is a {@link dev.amalgam.io.FormatException}.
 */
package dev.amalgam.io.safetensors;
