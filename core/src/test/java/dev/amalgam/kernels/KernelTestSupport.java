package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared fixtures of the kernel tests: the implementations under test, guarded buffers and seeded
 * data.
 */
final class KernelTestSupport {
  static final DType[] TYPES = {DType.F32, DType.F16, DType.BF16};

  /** Bytes before and after every region; they must never change. */
  static final int GUARD = 64;

  private static final byte GUARD_BYTE = (byte) 0xA7;

  private KernelTestSupport() {}

  /**
   * One implementation under test, with a readable name for failure messages; {@code cuda} marks a
   * CUDA device's kernels (isa is then null).
   */
  record Impl(String name, Kernels kernels, Isa isa, boolean cuda) {
    Impl(String name, Kernels kernels, Isa isa) {
      this(name, kernels, isa, false);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * Every implementation the tests must agree on: the Java kernels, every native ISA path up to the
   * best one here and every usable CUDA device (amalgam.h point 10: the same bits, except the sums
   * {@link #assertChainSums} allows for), each with 1 and 2 threads. Close them with {@link
   * #closeAll}.
   */
  static List<Impl> implementations() {
    List<Impl> all = new ArrayList<>();
    for (int threads = 1; threads <= 2; threads++) {
      all.add(new Impl("java/" + threads + "t", Kernels.java(threads), null));
    }
    Kernels.nativeBestIsa()
        .ifPresent(
            best -> {
              for (Isa isa : Isa.values()) {
                if (isa.compareTo(best) > 0) break;
                for (int threads = 1; threads <= 2; threads++) {
                  all.add(
                      new Impl(
                          "native " + isa.label() + "/" + threads + "t",
                          Kernels.nativeKernels(isa, threads),
                          isa));
                }
              }
            });
    for (CudaDevice d : usableCudaDevices()) {
      for (int threads = 1; threads <= 2; threads++) {
        all.add(
            new Impl(
                "cuda:" + d.index() + "/" + threads + "t",
                Kernels.cuda(d.index(), threads),
                null,
                true));
      }
    }
    return all;
  }

  /** The CUDA devices the kernel tests run on (none on a machine without a GPU). */
  static List<CudaDevice> usableCudaDevices() {
    if (!dev.amalgam.kernels.jni.NativeLibrary.isLoaded()) return List.of();
    return Cuda.probe().devices().stream().filter(CudaDevice::isUsable).toList();
  }

  /**
   * Checks sums that the contract defines as one chain of double additions over n elements: exact
   * on the CPU paths; on a CUDA device (a fixed tree order, amalgam.h point 10) within the bound of
   * two such summations, 2 n 2^-53 times {@code magnitudes[k]} (a bound of the sum of the terms'
   * magnitudes), or both NaN.
   */
  static void assertChainSums(
      Impl impl, double[] want, double[] got, double[] magnitudes, long n, String what) {
    for (int k = 0; k < want.length; k++) {
      boolean same =
          Double.doubleToRawLongBits(want[k]) == Double.doubleToRawLongBits(got[k])
              || (Double.isNaN(want[k]) && Double.isNaN(got[k]));
      if (!same && impl.cuda() && Double.isFinite(want[k]) && Double.isFinite(got[k])) {
        double bound = 2.0 * Math.max(n, 1) * 0x1p-53 * magnitudes[k];
        same = Math.abs(got[k] - want[k]) <= bound;
      }
      if (!same) {
        fail(impl + " " + what + " sum " + k + ": " + got[k] + " want " + want[k]);
      }
    }
  }

  static void closeAll(List<Impl> impls) {
    if (impls != null) impls.forEach(i -> i.kernels().close());
  }

  /**
   * A region of {@code bytes} bytes inside a direct buffer, starting {@code offset} bytes after a
   * 64-byte aligned guard, so that native code sees misaligned addresses and writes outside the
   * region are caught.
   */
  static final class Region {
    final ByteBuffer whole;
    final int offset;
    final int bytes;

    Region(long bytes, int offset) {
      this.bytes = Math.toIntExact(bytes);
      this.offset = offset;
      // alignedSlice drops up to 63 leading bytes; the extra 64 keep the trailing guard whole.
      this.whole =
          ByteBuffer.allocateDirect(GUARD + offset + this.bytes + GUARD + 64).alignedSlice(64);
      fillAll(GUARD_BYTE);
    }

    /** A little-endian view whose position is the region's start and whose limit is its end. */
    ByteBuffer view() {
      ByteBuffer b = whole.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      b.limit(GUARD + offset + bytes).position(GUARD + offset);
      return b;
    }

    void fillAll(byte value) {
      for (int i = 0; i < whole.capacity(); i++) whole.put(i, value);
    }

    /** Fills the region with a sentinel and restores the guards. */
    void reset() {
      fillAll(GUARD_BYTE);
    }

    byte at(int i) {
      return whole.get(GUARD + offset + i);
    }

    /** Fails unless both regions hold the same bytes and this region's guards are intact. */
    void assertSameAs(Region expected, String what) {
      for (int i = 0; i < GUARD + offset; i++) {
        if (whole.get(i) != GUARD_BYTE)
          fail(what + ": wrote before the output, at byte " + (i - GUARD - offset));
      }
      for (int i = GUARD + offset + bytes; i < whole.capacity(); i++) {
        if (whole.get(i) != GUARD_BYTE)
          fail(what + ": wrote past the output, at byte " + (i - GUARD - offset));
      }
      if (expected.bytes != bytes) fail(what + ": sizes differ");
      for (int i = 0; i < bytes; i++) {
        if (at(i) != expected.at(i)) {
          fail(
              String.format(
                  "%s: first difference at byte %d of %d: expected 0x%02x, got 0x%02x",
                  what, i, bytes, expected.at(i) & 0xff, at(i) & 0xff));
        }
      }
    }

    /**
     * Fails if anything in the whole buffer, region or guards, differs from a fresh {@link
     * #reset()}.
     */
    void assertUntouched(String what) {
      for (int i = 0; i < whole.capacity(); i++) {
        if (whole.get(i) != GUARD_BYTE)
          fail(what + ": byte " + (i - GUARD - offset) + " was written");
      }
    }
  }

  /**
   * Room for n elements at {@code offset} bytes past a 64-byte boundary (odd offsets are allowed).
   */
  static Region region(DType type, long n, int offset) {
    return new Region(type.byteCount(n), offset);
  }

  /** N(0, 0.02) values: the shape of model weights, never zero or subnormal in practice. */
  static Region normal(DType type, long n, long seed) {
    Region r = region(type, n, Math.floorMod(seed, 13));
    SplittableRandom rng = new SplittableRandom(seed);
    ByteBuffer v = r.view();
    for (long i = 0; i < n; i++) JavaKernels.store(v, type, i, (float) (rng.nextGaussian() * 0.02));
    return r;
  }

  /**
   * Mostly N(0, 1) values with one element in eight an arbitrary bit pattern biased towards NaN
   * (signalling and quiet, any payload), infinities, zeros and subnormals.
   */
  static Region special(DType type, long n, long seed) {
    Region r = region(type, n, Math.floorMod(seed, 11));
    SplittableRandom rng = new SplittableRandom(seed);
    ByteBuffer v = r.view();
    for (long i = 0; i < n; i++) {
      if (rng.nextInt(8) != 0) {
        JavaKernels.store(v, type, i, (float) rng.nextGaussian());
        continue;
      }
      int bits = rng.nextInt();
      int kind = rng.nextInt(4);
      int index = Math.toIntExact(v.position() + i * type.byteSize());
      if (type == DType.F32) {
        if (kind == 0) bits = (bits & 0x807fffff) | 0x7f800000; // NaN or infinity
        if (kind == 1) bits &= 0x807fffff; // subnormal or zero
        if (kind == 2) bits &= 0x80000000; // signed zero
        v.putInt(index, bits);
      } else {
        int exponent = type == DType.F16 ? 0x7c00 : 0x7f80;
        int h = bits & 0xffff;
        if (kind == 0) h |= exponent;
        if (kind == 1) h &= ~exponent;
        if (kind == 2) h &= 0x8000;
        v.putShort(index, (short) h);
      }
    }
    return r;
  }
}
