package dev.amalgam.kernels;

import dev.amalgam.kernels.jni.NativeLibrary;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Run in a child JVM by NativeFallbackTest: reports how the kernels loaded and uses them twice. */
public final class FallbackProbe {
  private FallbackProbe() {}

  public static void main(String[] args) {
    ByteBuffer a =
        ByteBuffer.allocateDirect(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, Bf16.fromFloat(1f));
    ByteBuffer b =
        ByteBuffer.allocateDirect(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, Bf16.fromFloat(3f));
    ByteBuffer out = ByteBuffer.allocateDirect(2).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 2; i++) {
      try (Kernels k = Kernels.best(1)) {
        k.weightedSum(
            new ByteBuffer[] {a, b},
            new DType[] {DType.BF16, DType.BF16},
            new float[] {0.5f, 0.5f},
            out,
            DType.BF16,
            1);
        System.out.println("kernels=" + k.description());
      }
    }
    System.out.println("loaded=" + NativeLibrary.isLoaded());
    System.out.println("result=" + Bf16.toFloat(out.getShort(0)));
  }
}
