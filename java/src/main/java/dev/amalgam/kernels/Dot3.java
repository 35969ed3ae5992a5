package dev.amalgam.kernels;

/**
 * The three reductions SLERP needs, accumulated as amalgam.h contract point 6 prescribes.
 *
 * @param xy sum of x*y
 * @param xx sum of x*x
 * @param yy sum of y*y
 */
public record Dot3(double xy, double xx, double yy) {}
