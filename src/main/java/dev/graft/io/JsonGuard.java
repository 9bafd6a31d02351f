package dev.graft.io;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.nd4j.shade.jackson.core.JsonParser;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * Parses JSON from an untrusted file into a plain tree (no type information, no class is
 * instantiated): strict UTF-8, nesting at most {@link Limits#maxJsonDepth()} levels (checked on the
 * bytes first, since the Jackson DL4J shades has no depth limit and recurses), one value.
 */
public final class JsonGuard {
  private static final ObjectMapper TREE = new ObjectMapper();

  /** Refuses an object that repeats a key (a tree would keep the last, a binder the first). */
  private static final ObjectMapper STRICT =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /**
   * Longest number literal {@link #parseStrict} accepts: a long's 19 digits and a sign; longer ones
   * could only overflow, and parsing huge literals costs quadratic time.
   */
  static final int MAX_NUMBER_CHARS = 20;

  private JsonGuard() {}

  /**
   * The JSON tree of {@code bytes}.
   *
   * @throws RefusedFileException naming the file and entry if the bytes are not UTF-8, nest too
   *     deeply or are not JSON
   */
  public static JsonNode parse(byte[] bytes, Path file, String entry, Limits limits) {
    String text = utf8(bytes, file, entry);
    checkDepth(text, limits.maxJsonDepth(), file, entry);
    try {
      JsonNode root = TREE.readTree(text);
      if (root == null || root.isMissingNode()) {
        throw new RefusedFileException(file, entry, "empty, expected JSON");
      }
      return root;
    } catch (IOException e) {
      String why =
          e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new RefusedFileException(file, entry, "not valid JSON: " + why, e);
    }
  }

  /**
   * As {@link #parse}, and also refuses an object with a repeated key and a number literal longer
   * than {@value #MAX_NUMBER_CHARS} characters (for headers whose numbers are sizes and offsets).
   *
   * @throws RefusedFileException naming the file and entry, and the key or number at fault
   */
  public static JsonNode parseStrict(byte[] bytes, Path file, String entry, Limits limits) {
    String text = utf8(bytes, file, entry);
    checkDepth(text, limits.maxJsonDepth(), file, entry);
    checkNumbers(text, file, entry);
    try {
      JsonNode root = STRICT.readTree(text);
      if (root == null || root.isMissingNode()) {
        throw new RefusedFileException(file, entry, "empty, expected JSON");
      }
      return root;
    } catch (IOException e) {
      String why =
          e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new RefusedFileException(file, entry, "not valid JSON: " + why, e);
    }
  }

  /** Refuses a number literal (outside strings) longer than {@value #MAX_NUMBER_CHARS} chars. */
  static void checkNumbers(String text, Path file, String entry) {
    boolean inString = false;
    int run = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
        continue;
      }
      boolean numeric =
          (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
      run = numeric ? run + 1 : 0;
      if (run > MAX_NUMBER_CHARS) {
        throw new RefusedFileException(
            file, entry, "a number longer than " + MAX_NUMBER_CHARS + " characters; refused");
      }
      if (c == '"') {
        inString = true;
      }
    }
  }

  /** Strict UTF-8 decoding. */
  public static String utf8(byte[] bytes, Path file, String entry) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new RefusedFileException(file, entry, "not UTF-8 text", e);
    }
  }

  /** Refuses JSON text whose arrays and objects nest deeper than {@code max}. */
  static void checkDepth(String text, int max, Path file, String entry) {
    int depth = 0;
    boolean inString = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        if (++depth > max) {
          throw new RefusedFileException(
              file, entry, "JSON nests deeper than " + max + " levels; refused");
        }
      } else if (c == '}' || c == ']') {
        depth--;
      }
    }
  }
}
