package dev.amalgam.bench;

import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaGeneration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How often batching changes a greedy output: COUNT story prompts of varied length, MAX_TOKENS
 * greedy tokens each, generated with one sequence and with each N; prints how many outputs differ
 * and at which token the first difference of each starts.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar dev.amalgam.bench.BatchedAgreement
 * MODEL.gguf [COUNT] [MAX_TOKENS] [N...]}
 */
public final class BatchedAgreement {
  private BatchedAgreement() {}

  public static void main(String[] args) {
    Path model = Path.of(args[0]);
    int count = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    List<Integer> parallels = new ArrayList<>();
    for (int i = 3; i < args.length; i++) parallels.add(Integer.parseInt(args[i]));
    if (parallels.isEmpty()) parallels = List.of(4, 8, 16);
    String[] subjects = {"Lily", "Tom", "The little dog", "A big bird", "Mom", "The cat", "Ben"};
    String[] verbs = {"went to the", "saw a", "wanted to", "was very", "found a", "said"};
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String prompt =
          (i % 3 == 0 ? "Once upon a time, " : "")
              + subjects[i % subjects.length]
              + " "
              + verbs[(i / subjects.length) % verbs.length]
              + (i % 5 == 0 ? " park" : "")
              + " ("
              + i
              + ")";
      requests.add(
          GenerationRequest.builder()
              .prompt(prompt)
              .maxTokens(maxTokens)
              .threads(2)
              .contextSize(256)
              .build());
    }
    List<GenerationResult> one =
        LlamaGeneration.generateAll(model, requests, 1, LlamaGeneration.DEFAULT_TIMEOUT);
    for (int n : parallels) {
      List<GenerationResult> many =
          LlamaGeneration.generateAll(model, requests, n, LlamaGeneration.DEFAULT_TIMEOUT);
      int differ = 0;
      StringBuilder where = new StringBuilder();
      for (int i = 0; i < count; i++) {
        String a = one.get(i).text();
        String b = many.get(i).text();
        if (!a.equals(b)) {
          differ++;
          int c = 0;
          while (c < Math.min(a.length(), b.length()) && a.charAt(c) == b.charAt(c)) c++;
          where.append(' ').append(i).append('@').append(c);
        }
      }
      System.out.printf(
          "agreement: N=%d: %d of %d greedy outputs differ from N=1 (prompt@first differing char:%s)%n",
          n, differ, count, where);
    }
  }
}
