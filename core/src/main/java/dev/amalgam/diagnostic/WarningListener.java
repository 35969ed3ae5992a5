package dev.amalgam.diagnostic;

import java.util.List;

/**
 * Receives warnings: things a run did differently from what was asked, or could not represent
 * exactly, without failing (a tokenizer file that is missing, a tensor stored in another type).
 * Long operations report through one instead of returning lists, so an application sees each
 * warning as it happens and decides where it goes.
 */
@FunctionalInterface
public interface WarningListener {
  /** One warning, a complete sentence naming what it is about. */
  void warn(String message);

  /** A listener that drops every warning. */
  static WarningListener ignoring() {
    return message -> {};
  }

  /**
   * A listener that logs every warning at WARNING level to the {@code dev.amalgam} {@link
   * System.Logger}, which java.util.logging prints to stderr unless the application routes it
   * elsewhere: the default where an application names no listener, so that no warning is lost.
   */
  static WarningListener toLogger() {
    System.Logger logger = System.getLogger("dev.amalgam");
    return message -> logger.log(System.Logger.Level.WARNING, message);
  }

  /** A listener that adds every warning to {@code list}, in order. */
  static WarningListener collectingInto(List<String> list) {
    return list::add;
  }
}
