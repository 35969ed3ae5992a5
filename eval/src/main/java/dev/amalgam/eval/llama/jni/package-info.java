/** Hand-written JavaCPP peer of the llama bridge's C ABI (native/include/amalgam_llama.h). */
package dev.amalgam.eval.llama.jni;
