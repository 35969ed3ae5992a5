/**
 * Amalgam: weight-space merging of large language models on the JVM.
 *
 * <p>Packages: {@code io} (file formats), {@code tensor} (element types and conversions), {@code
 * kernels} (the bf16/f16/f32 compute kernels, native with a plain-Java fallback), {@code merge}
 * (configuration, methods and the streaming planner/executor) and {@code cli} (the {@code amalgam}
 * command).
 */
package dev.amalgam;
