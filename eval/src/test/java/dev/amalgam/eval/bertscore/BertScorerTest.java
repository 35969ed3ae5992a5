package dev.amalgam.eval.bertscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The matching maths on 2-d vectors worked out by hand; a fake embedder maps each word to a fixed
 * vector.
 */
class BertScorerTest {
  private static final double EPS = 1e-6;

  /**
   * Words map to 2-d vectors; every text gets a special token "CLS" (id 0, vector (1, 1)) in front.
   * Token ids are fixed per word so idf can be checked.
   */
  static final class FakeEmbedder implements TokenEmbedder {
    final Map<String, float[]> vectors = new HashMap<>();
    final Map<String, Integer> ids = new HashMap<>();
    final List<List<String>> calls = new ArrayList<>();

    FakeEmbedder() {
      put("CLS", 0, 1, 1);
      put("a", 1, 1, 0); // along x
      put("b", 2, 0, 1); // along y
      put("c", 3, 3, 4); // (0.6, 0.8) after normalisation
      put("d", 4, -1, 0); // opposite of a
      put("LONG", 5, 1, 1); // marks a text as truncated
    }

    void put(String word, int id, float x, float y) {
      vectors.put(word, new float[] {x, y});
      ids.put(word, id);
    }

    @Override
    public List<TokenEmbedding> embed(List<String> texts) {
      calls.add(List.copyOf(texts));
      List<TokenEmbedding> out = new ArrayList<>();
      for (String text : texts) {
        List<String> words = new ArrayList<>();
        words.add("CLS");
        for (String w : text.trim().split("\\s+")) {
          if (!w.isEmpty()) {
            words.add(w);
          }
        }
        int[] tokenIds = new int[words.size()];
        boolean[] special = new boolean[words.size()];
        float[][] v = new float[words.size()][];
        for (int i = 0; i < words.size(); i++) {
          tokenIds[i] = ids.get(words.get(i));
          special[i] = i == 0;
          v[i] = vectors.get(words.get(i)).clone();
        }
        out.add(new TokenEmbedding(tokenIds, special, v, text.contains("LONG")));
      }
      return out;
    }

    @Override
    public String modelName() {
      return "fake";
    }

    @Override
    public int layer() {
      return 2;
    }

    @Override
    public int maxLength() {
      return 8;
    }
  }

  private static final double S = Math.sqrt(0.5); // cos between CLS (1,1) and an axis

  private static BertScore one(BertScoreOptions options, String candidate, String reference) {
    return new BertScorer(new FakeEmbedder(), options)
        .score(List.of(candidate), List.of(reference))
        .get(0);
  }

  @Test
  void greedyMatchingWithSpecialTokenInTheMaxButWeightZero() {
    // candidate [CLS, a, b], reference [CLS, c].
    // P: a -> max(cos(a,CLS)=S, cos(a,c)=0.6) = S; b -> max(S, 0.8) = 0.8; CLS weight 0. P = (S +
    // 0.8)/2.
    // R: c -> max(cos(c,CLS)=(0.6+0.8)*S=1.4S, 0.6, 0.8) = 1.4S (~0.98995); R = 1.4S.
    BertScore s = one(BertScoreOptions.defaults(), "a b", "c");
    double p = (S + 0.8) / 2;
    double r = 1.4 * S;
    assertEquals(p, s.precision(), EPS);
    assertEquals(r, s.recall(), EPS);
    assertEquals(2 * p * r / (p + r), s.f(), EPS);
  }

  @Test
  void negativeBestSimilarityIsKeptNotClampedToZero() {
    // candidate [CLS, d], reference [CLS, a]: d -> max(cos(d,CLS) = -S, cos(d,a) = -1) = -S.
    BertScore s = one(BertScoreOptions.defaults(), "d", "a");
    assertEquals(-S, s.precision(), EPS);
    // reference a -> max(cos(a,CLS) = S, cos(a,d) = -1) = S
    assertEquals(S, s.recall(), EPS);
  }

  @Test
  void identicalTextsScoreOne() {
    BertScore s = one(BertScoreOptions.defaults(), "a b c", "a b c");
    assertEquals(1.0, s.precision(), EPS);
    assertEquals(1.0, s.recall(), EPS);
    assertEquals(1.0, s.f(), EPS);
  }

  @Test
  void emptyCandidateOrReferenceGivesZero() {
    for (String[] pair : new String[][] {{"", "a b"}, {"a b", ""}, {"   ", ""}}) {
      BertScore s = one(BertScoreOptions.defaults(), pair[0], pair[1]);
      assertEquals(0.0, s.precision(), 0.0, "P of " + List.of(pair));
      assertEquals(0.0, s.recall(), 0.0, "R of " + List.of(pair));
      assertEquals(0.0, s.f(), 0.0, "F of " + List.of(pair));
    }
  }

  @Test
  void idfWeightsComeFromTheReferences() {
    // References: "a c", "a", "a b" (N = 3). df(a) = 3 -> idf 0; df(c) = 1 -> ln(4/2); df(b) = 1 ->
    // ln 2;
    // unseen d -> ln 4.
    FakeEmbedder fake = new FakeEmbedder();
    BertScorer scorer = new BertScorer(fake, BertScoreOptions.builder().idf(true).build());
    List<BertScore> scores = scorer.score(List.of("c d", "b", "b"), List.of("a c", "a", "a b"));
    // Row 0: candidate [CLS, c, d] vs reference [CLS, a, c].
    // c -> 1 (matches c); d -> max(cos(d,CLS) = -S, cos(d,a) = -1, cos(d,c) = -0.6) = -0.6.
    // P = (ln2 * 1 + ln4 * -0.6) / (ln2 + ln4) = (1 - 1.2) / 3 = -0.2/3.
    // R: a (idf 0) does not count; c -> 1; R = 1.
    double p0 = -0.2 / 3;
    assertEquals(p0, scores.get(0).precision(), EPS);
    assertEquals(1.0, scores.get(0).recall(), EPS);
    assertEquals(2 * p0 / (p0 + 1), scores.get(0).f(), EPS);
    // Row 1: candidate [CLS, b] vs reference [CLS, a]: the reference's only real token has idf 0,
    // so its weights
    // sum to 0 and R is NaN, as in bert_score; F is then 0.
    assertTrue(Double.isNaN(scores.get(1).recall()));
    assertEquals(0.0, scores.get(1).f(), 0.0);
    // Row 2: candidate [CLS, b] vs [CLS, a, b]: P = 1; R = (0 * 1 + ln2 * 1) / ln2 = 1.
    assertEquals(1.0, scores.get(2).precision(), EPS);
    assertEquals(1.0, scores.get(2).recall(), EPS);
    assertTrue(scorer.hash().contains("_idf_"), scorer.hash());
  }

  @Test
  void withoutIdfEveryRealTokenWeighsOne() {
    // Same row 0 as above without idf: P = (1 + -0.6)/2 = 0.2; R = (cos(a, best) + 1)/2 where a ->
    // max(S, 0.6) = S.
    BertScore s = one(BertScoreOptions.defaults(), "c d", "a c");
    assertEquals(0.2, s.precision(), EPS);
    assertEquals((S + 1) / 2, s.recall(), EPS);
  }

  @Test
  void multiReferenceTakesTheMaximumOfEachComponent() {
    // Candidate "a b" against "a" (P = (1 + S)/2, R = 1) and against "a b a b b" (P = 1, R = 1).
    // And against "c": P = (S + 0.8)/2, R = 1.4S; and "b": P = (S+1)/2, R = 1.
    BertScorer scorer = new BertScorer(new FakeEmbedder(), BertScoreOptions.defaults());
    BertScore s = scorer.scoreMulti(List.of("a b"), List.of(List.of("c", "a"))).get(0);
    double pA = (1 + S) / 2;
    double pC = (S + 0.8) / 2;
    double rC = 1.4 * S;
    double fC = 2 * pC * rC / (pC + rC);
    double fA = 2 * pA / (pA + 1);
    assertEquals(Math.max(pA, pC), s.precision(), EPS);
    assertEquals(Math.max(1.0, rC), s.recall(), EPS);
    assertEquals(Math.max(fA, fC), s.f(), EPS);
    // Each component is its own maximum: P from "a", and compare with the single-reference results.
    BertScore viaC = scorer.score(List.of("a b"), List.of("c")).get(0);
    BertScore viaA = scorer.score(List.of("a b"), List.of("a")).get(0);
    assertEquals(Math.max(viaA.precision(), viaC.precision()), s.precision(), 0.0);
    assertEquals(Math.max(viaA.recall(), viaC.recall()), s.recall(), 0.0);
    assertEquals(Math.max(viaA.f(), viaC.f()), s.f(), 0.0);
  }

  @Test
  void rescalingIsAppliedToEachComponent() {
    Baseline b = new Baseline(0.5, 0.25, 0.75);
    BertScore raw = one(BertScoreOptions.defaults(), "a b", "c");
    BertScore s = one(BertScoreOptions.builder().baseline(b).build(), "a b", "c");
    assertEquals((raw.precision() - 0.5) / 0.5, s.precision(), EPS);
    assertEquals((raw.recall() - 0.25) / 0.75, s.recall(), EPS);
    assertEquals((raw.f() - 0.75) / 0.25, s.f(), EPS);
  }

  @Test
  void eachDistinctTextIsEmbeddedOnce() {
    FakeEmbedder fake = new FakeEmbedder();
    new BertScorer(fake, BertScoreOptions.defaults())
        .score(List.of("a", "b", "a"), List.of("c", "c", "a"));
    assertEquals(1, fake.calls.size());
    assertEquals(List.of("a", "c", "b"), fake.calls.get(0));
  }

  @Test
  void truncationIsReportedOncePerCallCountingEachInput() {
    int[] seen = new int[3];
    BertScoreOptions options =
        BertScoreOptions.builder()
            .truncationListener(
                (n, m, max) -> {
                  seen[0] += n;
                  seen[1] = m;
                  seen[2] = max;
                })
            .build();
    new BertScorer(new FakeEmbedder(), options)
        .score(List.of("a LONG", "b"), List.of("a LONG", "a LONG"));
    assertEquals(3, seen[0]);
    assertEquals(4, seen[1]);
    assertEquals(8, seen[2]);
    assertEquals(
        "bertscore: 3 of 4 texts truncated to 8 tokens",
        BertScoreOptions.truncationWarning(3, 4, 8));
  }

  @Test
  void hashFollowsBertScoreForm() {
    BertScorer plain = new BertScorer(new FakeEmbedder(), BertScoreOptions.defaults());
    assertEquals("fake_L2_no-idf_version=0.3.12(onnx)", plain.hash());
    BertScorer rescaled =
        new BertScorer(
            new FakeEmbedder(),
            BertScoreOptions.builder().idf(true).baseline(new Baseline(0.1, 0.1, 0.1)).build());
    assertEquals("fake_L2_idf_version=0.3.12(onnx)-custom-rescaled", rescaled.hash());
  }

  @Test
  void mismatchedListsAndNullsAreRejected() {
    BertScorer scorer = new BertScorer(new FakeEmbedder(), BertScoreOptions.defaults());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> scorer.score(List.of("a", "b"), List.of("a")));
    assertTrue(e.getMessage().contains("2 candidates but 1 references"), e.getMessage());
    List<String> withNull = new ArrayList<>();
    withNull.add(null);
    e = assertThrows(IllegalArgumentException.class, () -> scorer.score(List.of("a"), withNull));
    assertTrue(e.getMessage().contains("reference 0 of candidate 0 is null"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> scorer.scoreMulti(List.of("a"), List.of(List.of())));
    assertTrue(e.getMessage().contains("candidate 0 has no reference"), e.getMessage());
    assertEquals(List.of(), scorer.score(List.of(), List.of()));
  }

  @Test
  void baselineFileInBertScoreFormat(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("fake.tsv");
    Files.writeString(file, "LAYER,P,R,F\n0,0.1,0.2,0.3\n1,0.4,0.5,0.6\n2,0.7,0.75,0.8\n");
    assertEquals(new Baseline(0.7, 0.75, 0.8), Baseline.forEncoder(new FakeEmbedder(), file));
    Path tabs = dir.resolve("tabs.tsv");
    Files.writeString(tabs, "LAYER\tP\tR\tF\n0\t0.1\t0.2\t0.3\n1\t0.4\t0.5\t0.6\n");
    assertEquals(new Baseline(0.4, 0.5, 0.6), Baseline.read(tabs, 1));
  }

  @Test
  void badBaselinesNameTheFileLineAndRule(@TempDir Path dir) throws IOException {
    BertScoreException e =
        assertThrows(BertScoreException.class, () -> Baseline.forEncoder(new FakeEmbedder(), null));
    assertTrue(
        e.getMessage().contains("rescaling needs a baseline: none ships for fake"), e.getMessage());
    e = assertThrows(BertScoreException.class, () -> Baseline.read(dir.resolve("missing.tsv"), 1));
    assertEquals(BertScoreException.Reason.FILE_NOT_FOUND, e.reason());
    Path shortFile = dir.resolve("short.tsv");
    Files.writeString(shortFile, "LAYER,P,R,F\n0,0.1,0.2,0.3\n");
    e = assertThrows(BertScoreException.class, () -> Baseline.read(shortFile, 2));
    assertTrue(e.getMessage().contains("no row for layer 2"), e.getMessage());
    Path badNumber = dir.resolve("bad.tsv");
    Files.writeString(badNumber, "LAYER,P,R,F\n0,0.1,x,0.3\n");
    e = assertThrows(BertScoreException.class, () -> Baseline.read(badNumber, 0));
    assertTrue(
        e.getMessage().contains(badNumber + " line 2 field R: 'x' is not a number"),
        e.getMessage());
    Path badHeader = dir.resolve("header.tsv");
    Files.writeString(badHeader, "L,P,R,F\n0,0.1,0.2,0.3\n");
    e = assertThrows(BertScoreException.class, () -> Baseline.read(badHeader, 0));
    assertTrue(e.getMessage().contains("line 1: column 1 is 'L', expected LAYER"), e.getMessage());
    Path reordered = dir.resolve("reordered.tsv");
    Files.writeString(reordered, "LAYER,P,R,F\n1,0.1,0.2,0.3\n0,0.1,0.2,0.3\n");
    e = assertThrows(BertScoreException.class, () -> Baseline.read(reordered, 0));
    assertTrue(e.getMessage().contains("line 2 field LAYER: row 0 has LAYER 1"), e.getMessage());
    e = assertThrows(BertScoreException.class, () -> new Baseline(1.0, 0.1, 0.1));
    assertEquals(BertScoreException.Reason.BAD_BASELINE, e.reason());
  }
}
