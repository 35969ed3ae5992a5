/**
 * Merge kernels over bf16, f16 and f32: {@link dev.amalgam.kernels.Kernels} is the entry point. The
 * native library (native/include/amalgam.h) runs them at memory bandwidth with a runtime-selected
 * ISA; {@link dev.amalgam.kernels.JavaKernels} is both the reference and the fallback,
 * bit-identical to every native path.
 */
package dev.amalgam.kernels;
