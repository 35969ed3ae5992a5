package dev.amalgam.io;

import dev.amalgam.tensor.TensorInfo;
import java.io.Closeable;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A model's tensors as a merge or a conversion reads them: Hugging Face names and PyTorch shapes,
 * whatever the file format underneath (a safetensors checkpoint, or a GGUF file seen through the
 * Llama name mapping).
 */
public interface ModelWeights extends Closeable {
  /** The file or directory opened. */
  Path path();

  /** The files the weights are read from. */
  List<Path> files();

  /** Every tensor, in storage order. */
  List<TensorInfo> tensors();

  /** A tensor by name. */
  Optional<TensorInfo> tensor(String name);

  /**
   * The data of a tensor.
   *
   * @throws java.util.NoSuchElementException if there is no such tensor
   */
  TensorSource data(String name);

  /** Bytes of stored tensor data read by a full pass. */
  long totalBytes();

  /**
   * Checks that every file the weights are read from is still the one opened, unchanged in size and
   * modification time. A merge or conversion calls it after its last read and before it commits its
   * output, so that an input written while it was read never yields an output.
   *
   * @throws InputChangedException naming the first file that changed and how
   */
  void checkUnchanged() throws InputChangedException;
}
