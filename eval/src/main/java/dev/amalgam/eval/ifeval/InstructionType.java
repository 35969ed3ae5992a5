package dev.amalgam.eval.ifeval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The 25 instruction types active in IFEval's registry (google-research
 * instruction_following_eval), each building a check from its kwargs with the reference's semantics
 * ({@code instructions.py}): the same regular expressions, case handling, "less than" / "at least"
 * relations, counting and splitting rules.
 *
 * <p>Reference quirks kept on purpose: keywords, forbidden words, section splitters and custom
 * postscript markers are used as raw, unescaped regular expressions (compiled as Java regexes with
 * Unicode classes and case folding); a language-detection failure counts as the instruction
 * followed; {@code nth_paragraph_first_word} indexes the paragraph list before empty paragraphs are
 * dropped; a {@code letter_frequency} letter that is not an ASCII letter is replaced by a letter
 * drawn at random (here drawn from a generator seeded with the example's key and the instruction's
 * position, so it repeats).
 */
enum InstructionType {
  KEYWORDS_EXISTENCE("keywords:existence") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("keywords");
      List<Pattern> patterns = new ArrayList<>();
      for (String keyword : k.strings("keywords")) patterns.add(rawRegex(k, keyword, true));
      return response -> patterns.stream().allMatch(p -> p.matcher(response).find());
    }
  },
  KEYWORDS_FREQUENCY("keywords:frequency") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("keyword", "frequency", "relation");
      Pattern keyword = rawRegex(k, PyText.strip(k.string("keyword")), true);
      int frequency = k.count("frequency");
      String relation = k.relation("relation");
      return response ->
          Kwargs.compare(PyText.countMatches(keyword, response), relation, frequency);
    }
  },
  KEYWORDS_FORBIDDEN_WORDS("keywords:forbidden_words") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("forbidden_words");
      List<Pattern> patterns = new ArrayList<>();
      for (String word : k.strings("forbidden_words")) {
        patterns.add(rawRegex(k, PyText.BOUNDARY + word + PyText.BOUNDARY, true));
      }
      return response -> patterns.stream().noneMatch(p -> p.matcher(response).find());
    }
  },
  KEYWORDS_LETTER_FREQUENCY("keywords:letter_frequency") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("letter", "let_frequency", "let_relation");
      String given = k.string("letter");
      String letter;
      String lowered = PyText.lower(given);
      if (given.isEmpty()
          || given.codePointCount(0, given.length()) > 1
          || lowered.isEmpty()
          || lowered.codePointAt(0) < 'a'
          || lowered.codePointAt(0) > 'z') {
        // The reference replaces an invalid letter by random.choice(string.ascii_letters),
        // lower-cased.
        String letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        Random random = new Random(31L * c.key().hashCode() + c.index());
        letter = PyText.lower(String.valueOf(letters.charAt(random.nextInt(letters.length()))));
      } else {
        letter = PyText.lower(PyText.strip(given));
      }
      int frequency = k.count("let_frequency");
      String relation = k.relation("let_relation");
      int target = letter.codePointAt(0);
      return response ->
          Kwargs.compare(
              (int) PyText.lower(response).codePoints().filter(cp -> cp == target).count(),
              relation,
              frequency);
    }
  },
  LANGUAGE_RESPONSE_LANGUAGE("language:response_language") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("language");
      String language = k.string("language");
      return response -> LanguageDetection.detect(response).map(language::equals).orElse(true);
    }
  },
  LENGTH_NUMBER_SENTENCES("length_constraints:number_sentences") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("num_sentences", "relation");
      int threshold = k.count("num_sentences");
      String relation = k.relation("relation");
      return response ->
          Kwargs.compare(PunktSentenceTokenizer.count(response), relation, threshold);
    }
  },
  LENGTH_NUMBER_PARAGRAPHS("length_constraints:number_paragraphs") {
    private final Pattern divider =
        Pattern.compile(PyText.SPACE + "?\\*\\*\\*" + PyText.SPACE + "?");

    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("num_paragraphs");
      int expected = k.count("num_paragraphs");
      return response -> {
        List<String> paragraphs = PyText.reSplit(divider, response);
        int count = paragraphs.size();
        for (int i = 0; i < paragraphs.size(); i++) {
          if (PyText.strip(paragraphs.get(i)).isEmpty()) {
            if (i == 0 || i == paragraphs.size() - 1) {
              count--;
            } else {
              return false;
            }
          }
        }
        return count == expected;
      };
    }
  },
  LENGTH_NUMBER_WORDS("length_constraints:number_words") {
    private final Pattern word = Pattern.compile(PyText.WORD + "+");

    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("num_words", "relation");
      int threshold = k.count("num_words");
      String relation = k.relation("relation");
      return response -> Kwargs.compare(PyText.countMatches(word, response), relation, threshold);
    }
  },
  LENGTH_NTH_PARAGRAPH_FIRST_WORD("length_constraints:nth_paragraph_first_word") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("num_paragraphs", "nth_paragraph", "first_word");
      int expected = k.count("num_paragraphs");
      int nth = k.integer("nth_paragraph");
      if (nth <= 0 || nth > expected) {
        throw k.error(
            "kwargs 'nth_paragraph' = "
                + nth
                + " must be in 1.."
                + expected
                + " (the reference would draw it at random)");
      }
      String firstWord = PyText.lower(k.string("first_word"));
      return response -> {
        List<String> paragraphs = PyText.split(response, "\n\n");
        int count = paragraphs.size();
        for (String p : paragraphs) if (PyText.strip(p).isEmpty()) count--;
        if (nth > count) return false;
        // The reference indexes the list that still holds the empty paragraphs.
        String paragraph = PyText.strip(paragraphs.get(nth - 1));
        if (paragraph.isEmpty()) return false;
        String word =
            PyText.lstrip(
                PyText.lstrip(PyText.strip(PyText.splitWhitespace(paragraph).get(0)), "'"), "\"");
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < word.length(); ) {
          int cp = word.codePointAt(i);
          if (".,?!'\"".indexOf(cp) >= 0) break;
          first.append(PyText.lower(new String(Character.toChars(cp))));
          i += Character.charCount(cp);
        }
        return count == expected && first.toString().equals(firstWord);
      };
    }
  },
  CONTENT_NUMBER_PLACEHOLDERS("detectable_content:number_placeholders") {
    private final Pattern placeholder = Pattern.compile("\\[.*?\\]", Pattern.UNIX_LINES);

    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("num_placeholders");
      int minimum = k.count("num_placeholders");
      return response -> PyText.countMatches(placeholder, response) >= minimum;
    }
  },
  CONTENT_POSTSCRIPT("detectable_content:postscript") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("postscript_marker");
      String marker = PyText.strip(k.string("postscript_marker"));
      String regex;
      if (marker.equals("P.P.S")) {
        regex = PyText.SPACE + "*p\\." + PyText.SPACE + "?p\\." + PyText.SPACE + "?s.*$";
      } else if (marker.equals("P.S.")) {
        regex = PyText.SPACE + "*p\\." + PyText.SPACE + "?s\\..*$";
      } else {
        regex = PyText.SPACE + "*" + PyText.lower(marker) + ".*$";
      }
      Pattern pattern = compile(k, regex, Pattern.MULTILINE | Pattern.UNIX_LINES);
      return response -> pattern.matcher(PyText.lower(response)).find();
    }
  },
  FORMAT_NUMBER_BULLET_LISTS("detectable_format:number_bullet_lists") {
    private final Pattern star =
        Pattern.compile("^" + PyText.SPACE + "*\\*[^*].*$", Pattern.MULTILINE | Pattern.UNIX_LINES);
    private final Pattern dash =
        Pattern.compile("^" + PyText.SPACE + "*-.*$", Pattern.MULTILINE | Pattern.UNIX_LINES);

    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("num_bullets");
      int expected = k.count("num_bullets");
      return response ->
          PyText.countMatches(star, response) + PyText.countMatches(dash, response) == expected;
    }
  },
  FORMAT_CONSTRAINED_RESPONSE("detectable_format:constrained_response") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly();
      return response -> {
        String value = PyText.strip(response);
        return value.contains("My answer is yes.")
            || value.contains("My answer is no.")
            || value.contains("My answer is maybe.");
      };
    }
  },
  FORMAT_NUMBER_HIGHLIGHTED_SECTIONS("detectable_format:number_highlighted_sections") {
    private final Pattern single = Pattern.compile("\\*[^\\n*]*\\*");
    private final Pattern doubled = Pattern.compile("\\*\\*[^\\n*]*\\*\\*");

    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("num_highlights");
      int minimum = k.count("num_highlights");
      return response -> {
        int count = 0;
        Matcher m = single.matcher(response);
        while (m.find()) if (!PyText.strip(PyText.strip(m.group(), "*")).isEmpty()) count++;
        m = doubled.matcher(response);
        while (m.find()) {
          String h = m.group();
          if (!PyText.strip(h.substring(2, h.length() - 2)).isEmpty()) count++;
        }
        return count >= minimum;
      };
    }
  },
  FORMAT_MULTIPLE_SECTIONS("detectable_format:multiple_sections") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("section_spliter", "num_sections");
      String splitter = PyText.strip(k.string("section_spliter"));
      int minimum = k.count("num_sections");
      Pattern pattern =
          compile(
              k,
              PyText.SPACE
                  + "?"
                  + splitter
                  + PyText.SPACE
                  + "?"
                  + PyText.DIGIT
                  + "+"
                  + PyText.SPACE
                  + "?",
              Pattern.UNICODE_CHARACTER_CLASS);
      return response -> PyText.reSplit(pattern, response).size() - 1 >= minimum;
    }
  },
  FORMAT_JSON_FORMAT("detectable_format:json_format") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly();
      return response -> {
        String value = PyText.strip(response);
        for (String fence : List.of("```json", "```Json", "```JSON", "```")) {
          if (value.startsWith(fence)) value = value.substring(fence.length());
        }
        if (value.endsWith("```")) value = value.substring(0, value.length() - 3);
        return isPythonJson(PyText.strip(value));
      };
    }
  },
  FORMAT_TITLE("detectable_format:title") {
    private final Pattern title = Pattern.compile("<<[^\\n]+>>");

    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly();
      return response -> {
        Matcher m = title.matcher(response);
        while (m.find()) {
          if (!PyText.strip(PyText.rstrip(PyText.lstrip(m.group(), "<"), ">")).isEmpty())
            return true;
        }
        return false;
      };
    }
  },
  COMBINATION_TWO_RESPONSES("combination:two_responses") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly();
      return response -> {
        List<String> parts = PyText.split(response, "******");
        List<String> valid = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
          if (PyText.strip(parts.get(i)).isEmpty()) {
            if (i != 0 && i != parts.size() - 1) return false;
          } else {
            valid.add(parts.get(i));
          }
        }
        return valid.size() == 2 && !PyText.strip(valid.get(0)).equals(PyText.strip(valid.get(1)));
      };
    }
  },
  COMBINATION_REPEAT_PROMPT("combination:repeat_prompt") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("prompt_to_repeat");
      String prompt = k.string("prompt_to_repeat");
      if (prompt.isEmpty()) throw k.error("kwargs 'prompt_to_repeat' must not be empty");
      String expected = PyText.lower(PyText.strip(prompt));
      return response -> PyText.lower(PyText.strip(response)).startsWith(expected);
    }
  },
  STARTEND_END_CHECKER("startend:end_checker") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("end_phrase");
      String phrase = PyText.lower(PyText.strip(k.string("end_phrase")));
      return response -> PyText.lower(PyText.strip(PyText.strip(response), "\"")).endsWith(phrase);
    }
  },
  STARTEND_QUOTATION("startend:quotation") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly();
      return response -> {
        String value = PyText.strip(response);
        return value.codePointCount(0, value.length()) > 1
            && value.startsWith("\"")
            && value.endsWith("\"");
      };
    }
  },
  CHANGE_CASE_CAPITAL_WORD_FREQUENCY("change_case:capital_word_frequency") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly("capital_frequency", "capital_relation");
      int frequency = k.integer("capital_frequency");
      String relation = k.relation("capital_relation");
      return response -> {
        int capitals = 0;
        for (String token : NltkWordTokenizer.tokenize(response))
          if (PyText.isUpper(token)) capitals++;
        return Kwargs.compare(capitals, relation, frequency);
      };
    }
  },
  CHANGE_CASE_ENGLISH_CAPITAL("change_case:english_capital") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly();
      return response ->
          PyText.isUpper(response)
              && LanguageDetection.detect(response).map("en"::equals).orElse(true);
    }
  },
  CHANGE_CASE_ENGLISH_LOWERCASE("change_case:english_lowercase") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly();
      return response ->
          PyText.isLower(response)
              && LanguageDetection.detect(response).map("en"::equals).orElse(true);
    }
  },
  PUNCTUATION_NO_COMMA("punctuation:no_comma") {
    @Override
    Instruction build(Kwargs k, Context c) {
      k.allowOnly();
      return response -> response.indexOf(',') < 0;
    }
  };

  /** Where an instruction sits: the example's key and the instruction's position in its list. */
  record Context(String key, int index) {}

  private static final Map<String, InstructionType> BY_ID = new HashMap<>();

  static {
    for (InstructionType t : values()) BY_ID.put(t.id, t);
  }

  private final String id;

  InstructionType(String id) {
    this.id = id;
  }

  /** The registry id, e.g. {@code "punctuation:no_comma"}. */
  String id() {
    return id;
  }

  /**
   * Builds the check from its kwargs, rejecting arguments the reference would not accept or would
   * randomise.
   */
  abstract Instruction build(Kwargs kwargs, Context context);

  /** The type registered under {@code id}, or null. */
  static InstructionType byId(String id) {
    return BY_ID.get(id);
  }

  /** Builds instruction {@code index} of {@code input}, with errors naming the key and the id. */
  static Instruction build(IfevalInput input, int index) {
    String id = input.instructionIds().get(index);
    InstructionType type = byId(id);
    if (type == null) {
      throw new IfevalException(
          "key "
              + input.key()
              + ": unknown instruction id \""
              + id
              + "\" (not one of the "
              + BY_ID.size()
              + " ids active in IFEval's registry)");
    }
    Map<String, Object> kwargs = input.kwargs().get(index);
    return type.build(
        new Kwargs(input.key(), id, kwargs == null ? Map.of() : kwargs),
        new Context(input.key(), index));
  }

  /**
   * A raw regular expression from the data, as the reference uses it (with {@code re.IGNORECASE} if
   * asked).
   */
  private static Pattern rawRegex(Kwargs k, String regex, boolean ignoreCase) {
    int flags = Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNIX_LINES;
    if (ignoreCase) flags |= Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
    return compile(k, regex, flags);
  }

  private static Pattern compile(Kwargs k, String regex, int flags) {
    try {
      return Pattern.compile(regex, flags);
    } catch (PatternSyntaxException e) {
      throw k.error(
          "the regular expression \""
              + regex
              + "\" built from its kwargs is invalid: "
              + e.getDescription());
    }
  }

  private static final JsonMapper JSON =
      JsonMapper.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /**
   * Python's {@code json.loads} accepts the text: one JSON value (scalars included) with nothing
   * after it; like Python it also accepts NaN and Infinity.
   */
  static boolean isPythonJson(String text) {
    try {
      JsonNode node = JSON.readTree(text);
      return node != null && !node.isMissingNode();
    } catch (JsonProcessingException e) {
      return false;
    }
  }
}
