package dev.amalgam.eval.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.eval.ifeval.IfevalCorpus;
import dev.amalgam.eval.ifeval.IfevalData;
import dev.amalgam.eval.ifeval.IfevalEvaluator;
import dev.amalgam.eval.ifeval.IfevalInput;
import dev.amalgam.eval.ifeval.IfevalResult;
import dev.amalgam.eval.score.ScoredCorpus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The IFEval checks of {@code dev.amalgam.eval.ifeval} applied to the responses the harness
 * generated.
 */
public final class IfevalChecks implements IfevalChecker {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The checker; it keeps no state between calls. */
  public IfevalChecks() {}

  @Override
  public ScoredCorpus check(List<Example> prompts, List<String> responses) {
    if (prompts.size() != responses.size()) {
      throw new IllegalArgumentException(
          prompts.size() + " prompts but " + responses.size() + " responses");
    }
    List<IfevalResult> results = new ArrayList<>(prompts.size());
    for (int i = 0; i < prompts.size(); i++) {
      Example e = prompts.get(i);
      String source = e.fields().get("source_json");
      if (source == null)
        throw new IllegalArgumentException("example " + e.id() + " carries no IFEval input line");
      JsonNode node;
      try {
        node = JSON.readTree(source);
      } catch (IOException ex) {
        throw new IllegalArgumentException(
            "example " + e.id() + ": its IFEval input line is not JSON", ex);
      }
      IfevalInput input = IfevalData.parseInput(node, "ifeval example " + e.id() + ": ");
      results.add(IfevalEvaluator.evaluate(input, responses.get(i)));
    }
    return IfevalCorpus.of(results);
  }
}
