package dev.amalgam.eval.ifeval;

import com.cybozu.labs.langdetect.Detector;
import com.cybozu.labs.langdetect.DetectorFactory;
import com.cybozu.labs.langdetect.LangDetectException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Language identification as IFEval's Python {@code langdetect.detect} does it, through the Java
 * library it was ported from (com.cybozu.labs:langdetect 1.1-20120112). The jar bundles its 53
 * language profiles under {@code profiles/}; they are loaded once from the class path, and the
 * factory is seeded with {@link #SEED} so a response always gets the same answer (IFEval itself
 * does not seed, so its borderline answers vary run to run).
 *
 * <p>Known differences from Python's langdetect 1.0.9: the Java jar lacks the {@code ca} and {@code
 * cy} profiles (55 in Python), and the random perturbations come from {@code java.util.Random}
 * rather than Python's generator, so texts near a tie may be labelled differently.
 */
final class LanguageDetection {
  /** The fixed seed of the detector's random perturbations. */
  static final long SEED = 0L;

  /** The profiles in the jar's {@code profiles/} directory (the names of its language codes). */
  private static final List<String> LANGUAGES =
      List.of(
          "af", "ar", "bg", "bn", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "gu",
          "he", "hi", "hr", "hu", "id", "it", "ja", "kn", "ko", "lt", "lv", "mk", "ml", "mr", "ne",
          "nl", "no", "pa", "pl", "pt", "ro", "ru", "sk", "sl", "so", "sq", "sv", "sw", "ta", "te",
          "th", "tl", "tr", "uk", "ur", "vi", "zh-cn", "zh-tw");

  private static boolean loaded;

  private LanguageDetection() {}

  /**
   * The detected language code of {@code text} (e.g. "en", "zh-cn"), or empty where langdetect
   * raises (no features in the text), which IFEval counts as the instruction followed.
   */
  static Optional<String> detect(String text) {
    Detector detector;
    synchronized (LanguageDetection.class) {
      ensureLoaded();
      try {
        detector = DetectorFactory.create();
      } catch (LangDetectException e) {
        throw new IllegalStateException("langdetect: " + e.getMessage(), e);
      }
    }
    detector.append(text);
    try {
      return Optional.of(detector.detect());
    } catch (LangDetectException e) {
      return Optional.empty();
    }
  }

  private static void ensureLoaded() {
    if (loaded) return;
    if (DetectorFactory.getLangList().isEmpty()) {
      List<String> profiles = new ArrayList<>();
      for (String lang : LANGUAGES) {
        String resource = "/profiles/" + lang;
        try (InputStream in = DetectorFactory.class.getResourceAsStream(resource)) {
          if (in == null) {
            throw new IllegalStateException(
                "langdetect profile "
                    + resource
                    + " not found on the class path"
                    + " (com.cybozu.labs:langdetect 1.1-20120112 ships them in its jar)");
          }
          profiles.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      try {
        DetectorFactory.loadProfile(profiles);
      } catch (LangDetectException e) {
        throw new IllegalStateException(
            "langdetect: cannot load its profiles: " + e.getMessage(), e);
      }
    }
    DetectorFactory.setSeed(SEED);
    loaded = true;
  }
}
