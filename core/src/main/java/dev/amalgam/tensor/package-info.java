/**
 * Element types and the exact conversions between bf16, f16 and f32 that every kernel path shares.
 */
package dev.amalgam.tensor;
