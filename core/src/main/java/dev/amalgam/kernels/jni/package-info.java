/**
 * The JavaCPP binding of native/include/amalgam.h and its loader. Internal: use {@code
 * dev.amalgam.kernels}.
 */
package dev.amalgam.kernels.jni;
