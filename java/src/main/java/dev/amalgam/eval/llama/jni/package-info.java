/** Hand-written JavaCPP peer of the llama bridge's C ABI (native/include/amalgam.h, {@code amalgam_llama_*}). */
package dev.amalgam.eval.llama.jni;
