/**
 * Amalgam's merging library: element types and native kernels, safetensors and GGUF files, the
 * Llama HF/GGUF mapping, the mergekit configuration and methods, and the streaming planner and
 * executor. It needs JavaCPP (the native kernels, with a plain-Java fallback), Jackson
 * (config.json, tokenizer.json) and snakeyaml-engine (merge configurations), and nothing else.
 */
module dev.amalgam.core {
  requires transitive com.fasterxml.jackson.databind;
  requires transitive org.bytedeco.javacpp; // Cuda takes JavaCPP Pointers (device memory)
  requires org.snakeyaml.engine.v2;

  exports dev.amalgam.diagnostic;
  exports dev.amalgam.tensor;
  exports dev.amalgam.kernels;
  exports dev.amalgam.io;
  exports dev.amalgam.io.safetensors;
  exports dev.amalgam.io.gguf;
  exports dev.amalgam.convert;
  exports dev.amalgam.merge.config;
  exports dev.amalgam.merge.method;
  exports dev.amalgam.merge.plan;
  exports dev.amalgam.synthetic;
// Not exported: dev.amalgam.kernels.jni (the JavaCPP peer) and dev.amalgam.merge.tokenizer
// (vocabulary planning).
}
