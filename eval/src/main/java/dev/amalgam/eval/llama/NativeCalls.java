package dev.amalgam.eval.llama;

import dev.amalgam.eval.llama.LlamaBridgeException.Reason;
import dev.amalgam.eval.llama.jni.LlamaNative;

/** Status handling shared by the bridge's Java owners of native handles. */
final class NativeCalls {
  static final int OK = 0;
  static final int ERR_ARGUMENT = -1;
  static final int ERR_TOO_MANY_TOKENS = -6;
  static final int ERR_BAD_TOKEN = -7;
  static final int ERR_BUFFER_TOO_SMALL = -10;
  static final int ERR_KV_FULL = -12;
  static final int ERR_GRAMMAR = -13;
  static final int ERR_TEMPLATE = -14;

  private NativeCalls() {}

  /** Throws with the bridge's message for a failed status; {@code what} names the model or step. */
  static void check(int status, Reason reason, Object what) {
    if (status == OK) return;
    throw new LlamaBridgeException(reason, what + ": " + detail(status));
  }

  /** The bridge's message for the calling thread's last failure. */
  static String detail(int status) {
    String detail = LlamaNative.amalgam_llama_last_error();
    if (detail == null || detail.isBlank())
      detail = LlamaNative.amalgam_llama_status_message(status);
    return detail;
  }
}
